"""Read-only queries shared by the API, the admin, the digest and the ledger check."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Abs, Now

from inventory.models import Inventory, InventoryLog, InventoryRowCount, Reservation


def matching_items(items: QuerySet[Inventory], *, product_id: int | None, term: str) -> QuerySet[Inventory]:
    """The items a search names: by product id (when the term is one), exact SKU, or name prefix.

    Each is an indexed lookup: the unique product id, the unique SKU, and on PostgreSQL
    the upper(name) text_pattern_ops index (migration 0008).
    """
    matches = Q(sku=term) | Q(name__istartswith=term) if term else Q(pk__in=[])
    if product_id is not None:
        matches |= Q(product_id=product_id)
    return items.filter(matches)


def low_stock_items() -> QuerySet[Inventory]:
    """Items at or below their threshold, fewest available first."""
    return Inventory.objects.filter(available_stock__lte=F("low_stock_threshold")).order_by(
        "available_stock", "product_id"
    )


def count_overdue_reservations() -> int:
    """How many holds the next cleanup would expire (for a dry run)."""
    return Reservation.objects.filter(status=Reservation.Status.ACTIVE, expires_at__lte=Now()).count()


def whole_inventory_count(queryset: QuerySet) -> int | None:
    """The size of `queryset` read from InventoryRowCount, when it is every inventory row; else None.

    Every row: no filter, slice, DISTINCT or UNION, in any order. None also where the
    counter is empty: on a database other than PostgreSQL, which has no triggers for it.
    """
    query = queryset.query
    if queryset.model is not Inventory or query.where or query.is_sliced or query.distinct or query.combinator:
        return None
    return InventoryRowCount.objects.using(queryset.db).values_list("row_count", flat=True).first()


@dataclass
class LedgerDiscrepancy:
    product_id: int
    problems: list[str] = field(default_factory=list)


def ledger_discrepancies(product_id: int | None = None) -> Iterator[LedgerDiscrepancy]:
    """Replay each product's log and compare it with its counters and its holds.

    Checks, per product: each entry's before-values equal the previous entry's
    after-values (starting from zero); the last entry's after-values equal the
    counters; `reserved_stock` equals the sum of the product's active holds.
    Streams the log in product order, so memory stays flat on a large table.
    """
    items = Inventory.objects.order_by("product_id")
    entries = InventoryLog.objects.order_by("product_id", "id")
    holds = Reservation.objects.filter(status=Reservation.Status.ACTIVE)
    if product_id is not None:
        items = items.filter(product_id=product_id)
        entries = entries.filter(product_id=product_id)
        holds = holds.filter(product_id=product_id)
    held = dict(holds.values("product_id").annotate(total=Sum("quantity")).values_list("product_id", "total"))
    log_by_product = groupby(
        entries.values_list(
            "product_id", "id", "available_before", "available_after", "reserved_before", "reserved_after"
        ).iterator(chunk_size=5000),
        key=lambda entry: entry[0],
    )
    pending = next(log_by_product, None)
    for item in items.only("product_id", "available_stock", "reserved_stock").iterator(chunk_size=5000):
        product_entries = []
        if pending is not None and pending[0] == item.product_id:
            product_entries = list(pending[1])
            pending = next(log_by_product, None)
        problems = _replay(item, product_entries, held.get(item.product_id, 0))
        if problems:
            yield LedgerDiscrepancy(item.product_id, problems)


def _replay(item: Inventory, entries: list[tuple], held: int) -> list[str]:
    problems = []
    available, reserved = 0, 0
    for _, entry_id, available_before, available_after, reserved_before, reserved_after in entries:
        if (available_before, reserved_before) != (available, reserved):
            problems.append(
                f"entry {entry_id} starts at available={available_before} reserved={reserved_before}, "
                f"the previous entry ended at available={available} reserved={reserved}"
            )
        available, reserved = available_after, reserved_after
    if (available, reserved) != (item.available_stock, item.reserved_stock):
        problems.append(
            f"the log ends at available={available} reserved={reserved}, the record holds "
            f"available={item.available_stock} reserved={item.reserved_stock}"
        )
    if item.reserved_stock != held:
        problems.append(f"reserved_stock={item.reserved_stock} but active reservations hold {held}")
    return problems


# --- Back office: the item page and the dashboard -------------------------------

# Operations that move units; `create` sets the opening figure and `threshold` moves none.
MOVING_OPERATIONS = (
    InventoryLog.Operation.RESERVE,
    InventoryLog.Operation.RELEASE,
    InventoryLog.Operation.DEDUCT,
    InventoryLog.Operation.EXPIRE,
    InventoryLog.Operation.RESTOCK,
    InventoryLog.Operation.ADJUST,
)
# The ways a hold ends: paid, cancelled, or left to time out.
HOLD_ENDINGS = (InventoryLog.Operation.DEDUCT, InventoryLog.Operation.RELEASE, InventoryLog.Operation.EXPIRE)


def item_log(product_id: int) -> QuerySet[InventoryLog]:
    """One product's ledger, newest first (served by the product/newest index)."""
    return InventoryLog.objects.filter(product_id=product_id).order_by("-id")


def active_reservations_of(product_id: int) -> QuerySet[Reservation]:
    """One product's holds that still count in its reserved stock, soonest to expire first."""
    return Reservation.objects.filter(product_id=product_id, status=Reservation.Status.ACTIVE).order_by(
        "expires_at", "id"
    )


def stock_history(product_id: int, *, limit: int = 200) -> list[InventoryLog]:
    """The product's last `limit` ledger entries, oldest first: the points of its stock chart."""
    return list(reversed(item_log(product_id)[:limit]))


@dataclass(frozen=True)
class DashboardFigures:
    low_stock: int
    out_of_stock: int
    active_reservations: int
    expiring_soon: int
    holds_ended: int
    holds_expired: int

    @property
    def timeout_rate(self) -> float | None:
        """The share of the holds that ended in the window which ended by timing out."""
        if not self.holds_ended:
            return None
        return self.holds_expired / self.holds_ended


def dashboard_figures(*, now: datetime, expiring_within: timedelta, rate_window: timedelta) -> DashboardFigures:
    """The counts a warehouse lead looks at first; each is one indexed query."""
    active = Reservation.objects.filter(status=Reservation.Status.ACTIVE)
    endings = dict(
        InventoryLog.objects.filter(created_at__gte=now - rate_window, operation__in=HOLD_ENDINGS)
        .values("operation")
        .annotate(count=Count("id"))
        .values_list("operation", "count")
    )
    return DashboardFigures(
        low_stock=low_stock_items().count(),
        out_of_stock=Inventory.objects.filter(available_stock=0).count(),
        active_reservations=active.count(),
        expiring_soon=active.filter(expires_at__lte=now + expiring_within).count(),
        holds_ended=sum(endings.values()),
        holds_expired=endings.get(InventoryLog.Operation.EXPIRE, 0),
    )


def most_moved_items(*, since: datetime, limit: int = 10) -> list[dict]:
    """Products with the most units moved since `since`: product_id, units, movements."""
    return list(
        InventoryLog.objects.filter(created_at__gte=since, operation__in=MOVING_OPERATIONS)
        .values("product_id")
        .annotate(units=Sum(Abs("quantity")), movements=Count("id"))
        .order_by("-units", "product_id")[:limit]
    )
