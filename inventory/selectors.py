"""Read-only queries shared by the API, the admin, the digest and the ledger check."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import groupby

from django.db.models import F, QuerySet, Sum

from inventory.models import Inventory, InventoryLog, Reservation


def low_stock_items() -> QuerySet[Inventory]:
    """Items at or below their threshold, fewest available first."""
    return Inventory.objects.filter(available_stock__lte=F("low_stock_threshold")).order_by(
        "available_stock", "product_id"
    )


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
