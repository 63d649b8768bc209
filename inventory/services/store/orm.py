"""The portable store: Django's ORM, on any database (the quick start's SQLite).

It is also the rare paths' store on PostgreSQL, whose store inherits everything it
does not write as one statement. Each method is one guarded write (the guard in the
WHERE, the count of changed rows deciding) and its ledger entries, inside the
caller's transaction or its own.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Now
from django.utils import timezone

from inventory.models import Inventory, InventoryLog, Reservation
from inventory.models.ledger import SYSTEM_ACTOR
from inventory.services import allocation
from inventory.services.store import counters
from inventory.services.store.ledger import write_entries
from inventory.services.store.types import Counters, Deltas, Ending, LineOutcome, Movement

Status = Reservation.Status
Operation = InventoryLog.Operation


class _NotEveryLineTaken(Exception):
    """Rolls back an order that left a line short: all or nothing."""


class OrmStore:
    name = "orm"

    # --- Stock rows ---------------------------------------------------------------

    def create_row(
        self, *, product_id: int, available_stock: int, low_stock_threshold: int, sku: str, name: str
    ) -> None:
        Inventory.objects.create(
            product_id=product_id,
            sku=sku,
            name=name,
            available_stock=available_stock,
            low_stock_threshold=low_stock_threshold,
            low_stock_since=Now() if available_stock <= low_stock_threshold else None,
        )

    def update_row(
        self,
        product_id: int,
        *,
        available_delta: int = 0,
        reserved_delta: int = 0,
        low_stock_threshold: int | None = None,
        expected_version: int | None = None,
    ) -> bool:
        """One guarded update of a product's row; whether it changed.

        `expected_version` joins the guard only when a caller edits what a person saw;
        stock movements never fail on a version.
        """
        rows = Q(product_id=product_id)
        if expected_version is not None:
            rows &= Q(version=expected_version)
        return self._guarded_update(
            rows,
            available_delta=available_delta,
            reserved_delta=reserved_delta,
            low_stock_threshold=low_stock_threshold,
        )

    def _guarded_update(self, rows: Q, **deltas) -> bool:
        guard = counters.guard(
            available_delta=deltas.get("available_delta", 0), reserved_delta=deltas.get("reserved_delta", 0)
        )
        return Inventory.objects.filter(rows & guard).update(**counters.changes(**deltas)) == 1

    def move_many(self, deltas: Mapping[int, Deltas]) -> dict[int, Counters]:
        """Apply (available, reserved) deltas to many products' rows, each only if neither counter
        would go below zero, in lock order; the new counters of the rows that changed."""
        changed = [
            product_id
            for product_id in sorted(deltas)
            if self.update_row(product_id, available_delta=deltas[product_id][0], reserved_delta=deltas[product_id][1])
        ]
        return self.counters_of(changed)

    def counters_of(self, product_ids: Iterable[int]) -> dict[int, Counters]:
        rows = Inventory.objects.filter(product_id__in=product_ids).values_list(
            "product_id", "available_stock", "reserved_stock"
        )
        return {product_id: (available, reserved) for product_id, available, reserved in rows}

    def locked_row(self, product_id: int) -> Inventory | None:
        return Inventory.objects.select_for_update().filter(product_id=product_id).first()

    def record(self, movements: Sequence[Movement], *, actor: str) -> dict[int, Inventory]:
        """The ledger entries of `movements`, just applied; the rows as they now are.

        Read after the updates, under the locks this transaction holds, so exact.
        """
        rows = {
            row.product_id: row for row in Inventory.objects.filter(product_id__in={m.product_id for m in movements})
        }
        after = {product_id: (row.available_stock, row.reserved_stock) for product_id, row in rows.items()}
        write_entries(movements, actor=actor, after=after)
        return rows

    def write_entries(self, movements: Sequence[Movement], *, actor: str, after: Mapping[int, Counters]) -> None:
        write_entries(movements, actor=actor, after=after)

    def db_now(self) -> datetime:
        """The database's clock, which judges expiry for every process alike."""
        if connection.vendor != "postgresql":
            return timezone.now()
        with connection.cursor() as cursor:
            cursor.execute("SELECT STATEMENT_TIMESTAMP()")
            return cursor.fetchone()[0]

    # --- Holds --------------------------------------------------------------------

    def take(
        self, *, order_id: str, lines: Sequence[tuple[int, int]], actor: str, ttl: timedelta, client_id: int | None
    ) -> list[LineOutcome]:
        """Hold (product_id, quantity) lines for an order that has none of them yet: all or none.

        One outcome per line, in the given order. Nothing is taken when the order has
        any of these lines already, when it is another client's (`client_id` given), or
        when any line is short.
        """
        quantities = dict(lines)
        try:
            with transaction.atomic():
                known, foreign = self._known_lines(order_id, quantities, client_id)
                if known or foreign:
                    return [
                        _outcome(product_id, quantity, known=foreign or product_id in known)
                        for product_id, quantity in lines
                    ]
                short = {
                    product_id
                    for product_id, quantity in sorted(lines)  # in lock order
                    if not self._take_row(product_id, quantity)
                }
                if short:
                    raise _NotEveryLineTaken
                held = self._hold(order_id, quantities, actor=actor, ttl=ttl, client_id=client_id)
        except _NotEveryLineTaken:
            return self._short_outcomes(lines, short)
        return [_outcome(product_id, quantity, reservation=held[product_id]) for product_id, quantity in lines]

    def _known_lines(self, order_id: str, quantities: dict[int, int], client_id: int | None) -> tuple[set[int], bool]:
        """The products of these lines the order has already, and whether it has lines of another
        client (or, for an in-process caller, of any client)."""
        # Another client's line, or (for an in-process caller) any client's: the service decides whose.
        others = ~Q(client_id=client_id) if client_id is not None else Q(client_id__isnull=False)
        found = list(
            Reservation.objects.filter(Q(order_id=order_id) & (Q(product_id__in=quantities) | others)).values_list(
                "product_id", "client_id"
            )
        )
        foreign = any(owner != client_id for _, owner in found)
        return {product_id for product_id, _ in found if product_id in quantities}, foreign

    def _take_row(self, product_id: int, quantity: int) -> bool:
        """Move `quantity` of the product's stock row (allocation's choice) from available to reserved."""
        row = Q(pk__in=allocation.stock_rows([product_id]).values("pk"))
        return self._guarded_update(row, available_delta=-quantity, reserved_delta=quantity)

    def _hold(
        self, order_id: str, quantities: dict[int, int], *, actor: str, ttl: timedelta, client_id: int | None
    ) -> dict[int, Reservation]:
        now = self.db_now()
        created = Reservation.objects.bulk_create(
            Reservation(
                product_id=product_id,
                client_id=client_id,
                order_id=order_id,
                quantity=quantity,
                status=Status.ACTIVE,
                expires_at=now + ttl,
                created_at=now,
                updated_at=now,
            )
            for product_id, quantity in sorted(quantities.items())
        )
        movements = [
            Movement(
                product_id=product_id,
                operation=Operation.RESERVE,
                quantity=quantity,
                available_delta=-quantity,
                reserved_delta=quantity,
                order_id=order_id,
            )
            for product_id, quantity in sorted(quantities.items())
        ]
        self.record(movements, actor=actor)
        return {reservation.product_id: reservation for reservation in created}

    def _short_outcomes(self, lines: Sequence[tuple[int, int]], short: set[int]) -> list[LineOutcome]:
        """Why the short lines were short: their available stock, and whether overdue holds are in the way."""
        overdue = Reservation.objects.filter(
            product_id=OuterRef("product_id"), status=Status.ACTIVE, expires_at__lte=Now()
        )
        found = {
            product_id: (available, has_overdue)
            for product_id, available, has_overdue in Inventory.objects.filter(product_id__in=short)
            .annotate(has_overdue=Exists(overdue))
            .values_list("product_id", "available_stock", "has_overdue")
        }
        return [
            _outcome(product_id, quantity, short=product_id in short, found=found.get(product_id, (None, False)))
            for product_id, quantity in lines
        ]

    def lock_order(
        self, order_id: str, product_id: int | None, client_id: int | None
    ) -> tuple[list[Reservation], datetime | None]:
        """Lock an order's reservations (of one product, if given; the client's, if given) in
        product order; with the database's time."""
        holds = Reservation.objects.filter(order_id=order_id)
        if product_id is not None:
            holds = holds.filter(product_id=product_id)
        if client_id is not None:
            holds = holds.filter(client_id=client_id)
        locked = list(holds.select_for_update().annotate(db_now=Now()).order_by("product_id"))
        return locked, locked[0].db_now if locked else None

    def settle(
        self, *, order_id: str, product_id: int | None, ending: Ending, actor: str, client_id: int | None
    ) -> list[Reservation] | None:
        """End an order's holds (the client's, if given) as `ending` says, if every one is active
        (and, with `refuse_overdue`, none is past `expires_at`); else None, and nothing changes."""
        with transaction.atomic():
            holds, now = self.lock_order(order_id, product_id, client_id)
            if not holds or not all(_may_settle(hold, ending, now) for hold in holds):
                return None
            self.end_holds(holds, ending, now=now, actor=actor)
        return holds

    def end_holds(self, holds: list[Reservation], ending: Ending, *, now: datetime, actor: str) -> None:
        """Move locked active holds to `ending.status`; their units leave reserved stock."""
        self.set_status(holds, Status.ACTIVE, ending.status, now=now)
        quantities: dict[int, int] = defaultdict(int)
        for hold in holds:
            quantities[hold.product_id] += hold.quantity
        back = 1 if ending.to_available else 0
        after = self.move_many({product_id: (back * q, -q) for product_id, q in quantities.items()})
        if len(after) != len(quantities):
            raise RuntimeError("Reserved stock of a product is below its holds.")
        movements = [
            hold_movement(hold, ending.operation, available_delta=back * hold.quantity, reserved_delta=-hold.quantity)
            for hold in sorted(holds, key=lambda hold: hold.product_id)
        ]
        write_entries(movements, actor=actor, after=after)

    def set_status(
        self, holds: list[Reservation], current: str, new: str, *, now: datetime, reacquired: bool = False
    ) -> None:
        changes = {"status": new, "updated_at": now}
        if reacquired:
            changes["reacquired"] = True
        changed = Reservation.objects.filter(pk__in=[hold.pk for hold in holds], status=current).update(**changes)
        if changed != len(holds):
            raise RuntimeError("A locked reservation changed status under its lock.")
        for hold in holds:
            for field, value in changes.items():
                setattr(hold, field, value)

    def expire_batch(self, *, product_ids: Sequence[int] | None, batch_size: int) -> int:
        """Expire up to `batch_size` overdue holds (of `product_ids` only, if given), skipping
        locked ones; how many. The caller's transaction holds the batch."""
        overdue = Q(status=Status.ACTIVE, expires_at__lte=Now())
        if product_ids is not None:
            overdue &= Q(product_id__in=product_ids)
        batch = list(
            Reservation.objects.select_for_update(skip_locked=True)
            .filter(overdue)
            .annotate(db_now=Now())
            .order_by("product_id", "id")[:batch_size]
        )
        if batch:
            self.end_holds(batch, EXPIRY, now=batch[0].db_now, actor=SYSTEM_ACTOR)
        return len(batch)


# The endings of a hold that the stores write.
RELEASE = Ending(Status.CANCELLED, Operation.RELEASE, to_available=True, refuse_overdue=False)
PAYMENT = Ending(Status.CONFIRMED, Operation.DEDUCT, to_available=False, refuse_overdue=True)
EXPIRY = Ending(Status.EXPIRED, Operation.EXPIRE, to_available=True, refuse_overdue=False)


def _may_settle(hold: Reservation, ending: Ending, now: datetime) -> bool:
    return hold.status == Status.ACTIVE and not (ending.refuse_overdue and hold.expires_at <= now)


def hold_movement(hold: Reservation, operation: str, *, reason: str = "", **deltas: int) -> Movement:
    return Movement(
        product_id=hold.product_id,
        operation=operation,
        quantity=hold.quantity,
        order_id=hold.order_id,
        reason=reason,
        **deltas,
    )


def _outcome(
    product_id: int,
    quantity: int,
    *,
    known: bool = False,
    short: bool = False,
    found: tuple[int | None, bool] = (None, False),
    reservation: Reservation | None = None,
) -> LineOutcome:
    available, has_overdue = found
    return LineOutcome(
        product_id=product_id,
        quantity=quantity,
        short=short,
        reservation=reservation,
        available=available,
        has_overdue_holds=has_overdue,
        has_reservation_already=known,
    )
