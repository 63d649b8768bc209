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

from inventory.exceptions import PoolNotFound
from inventory.models import Inventory, InventoryLog, Pool, Reservation, StockLevel
from inventory.models.ledger import SYSTEM_ACTOR
from inventory.services import allocation
from inventory.services.store import counters
from inventory.services.store.ledger import write_entries
from inventory.services.store.types import Counters, Deltas, Ending, LevelKey, LineOutcome, Movement

Status = Reservation.Status
Operation = InventoryLog.Operation


class _NotEveryLineTaken(Exception):
    """Rolls back an order that left a line short: all or nothing."""

    def __init__(self, short: Mapping[int, int] | None = None) -> None:
        # Per short line: the units its product has in the pool.
        self.short = dict(short or {})


class OrmStore:
    name = "orm"

    # --- Products and their levels -----------------------------------------------

    def create_product(self, *, product_id: int, sku: str, name: str) -> None:
        Inventory.products.create(product_id=product_id, sku=sku, name=name)

    def create_level(
        self, *, product_id: int, warehouse_id: int, available_stock: int = 0, low_stock_threshold: int
    ) -> None:
        StockLevel.objects.create(
            product_id=product_id,
            warehouse_id=warehouse_id,
            available_stock=available_stock,
            low_stock_threshold=low_stock_threshold,
            low_stock_since=Now() if available_stock <= low_stock_threshold else None,
        )

    def update_level(
        self,
        level: LevelKey,
        *,
        available_delta: int = 0,
        reserved_delta: int = 0,
        in_transit_delta: int = 0,
        low_stock_threshold: int | None = None,
        expected_version: int | None = None,
    ) -> bool:
        """One guarded update of a stock level; whether it changed.

        `expected_version` joins the guard only when a caller edits what a person saw;
        stock movements never fail on a version.
        """
        product_id, warehouse_id = level
        rows = Q(product_id=product_id, warehouse_id=warehouse_id)
        if expected_version is not None:
            rows &= Q(version=expected_version)
        return self._guarded_update(
            rows,
            available_delta=available_delta,
            reserved_delta=reserved_delta,
            in_transit_delta=in_transit_delta,
            low_stock_threshold=low_stock_threshold,
        )

    def _guarded_update(self, rows: Q, **deltas) -> bool:
        guard = counters.guard(
            available_delta=deltas.get("available_delta", 0),
            reserved_delta=deltas.get("reserved_delta", 0),
            in_transit_delta=deltas.get("in_transit_delta", 0),
        )
        return StockLevel.objects.filter(rows & guard).update(**counters.changes(**deltas)) == 1

    def move_many(self, deltas: Mapping[LevelKey, Deltas]) -> dict[LevelKey, Counters]:
        """Apply (available, reserved) deltas to many levels, each only if neither counter would
        go below zero, locked in lock order first; the new counters of the levels that changed."""
        locked = self.lock_levels(deltas)
        changed = [
            key
            for key in locked
            if self._guarded_update(
                Q(product_id=key[0], warehouse_id=key[1]),
                available_delta=deltas[key][0],
                reserved_delta=deltas[key][1],
            )
        ]
        return self.counters_of(changed)

    def lock_levels(self, levels: Iterable[LevelKey]) -> list[LevelKey]:
        """Lock these levels in lock order (by id); the ones that exist, in that order."""
        wanted = set(levels)
        if not wanted:
            return []
        rows = (
            StockLevel.objects.select_for_update()
            .filter(_levels_q(wanted))
            .order_by(*allocation.LOCK_ORDER)
            .values_list("product_id", "warehouse_id")
        )
        return list(rows)

    def counters_of(self, levels: Iterable[LevelKey]) -> dict[LevelKey, Counters]:
        wanted = set(levels)
        if not wanted:
            return {}
        rows = StockLevel.objects.filter(_levels_q(wanted)).values_list(
            "product_id", "warehouse_id", "available_stock", "reserved_stock"
        )
        return {(product_id, warehouse_id): (a, r) for product_id, warehouse_id, a, r in rows}

    def locked_level(self, level: LevelKey) -> StockLevel | None:
        product_id, warehouse_id = level
        return StockLevel.objects.select_for_update().filter(product_id=product_id, warehouse_id=warehouse_id).first()

    def record(self, movements: Sequence[Movement], *, actor: str) -> None:
        """The ledger entries of `movements`, just applied.

        The levels are read after the updates, under the locks this transaction holds, so exact.
        """
        write_entries(movements, actor=actor, after=self.counters_of(m.level for m in movements))

    def write_entries(self, movements: Sequence[Movement], *, actor: str, after: Mapping[LevelKey, Counters]) -> None:
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
        self,
        *,
        order_id: str,
        lines: Sequence[tuple[int, int]],
        actor: str,
        ttl: timedelta,
        client_id: int | None,
        routing: allocation.Routing = allocation.EVERYWHERE,
    ) -> list[LineOutcome]:
        """Hold (product_id, quantity) lines for an order that has none of them yet: all or none.

        One outcome per line, in the given order. Nothing is taken when the order has
        any of these lines already, when it is another client's (`client_id` given), or
        when any line is short in the pool. PoolNotFound for an unknown pool.

        Every level the lines may take is locked (in lock order) before the order's lines
        are looked up: an identical request that held those locks has committed its lines
        by then, and is seen, rather than the line being taken again from another
        warehouse (the unique line per warehouse would not stop that).
        """
        quantities = dict(lines)
        try:
            with transaction.atomic():
                strategy, found = self._locked_candidates([product_id for product_id, _ in lines], routing.pool)
                known, foreign = self._known_lines(order_id, quantities, client_id)
                if known or foreign:
                    return [
                        _outcome(product_id, quantity, known=foreign or product_id in known)
                        for product_id, quantity in lines
                    ]
                planned = allocation.plan(
                    lines, found, strategy=strategy, destination=routing.destination, split=routing.split
                )
                if planned.short:
                    raise _NotEveryLineTaken(planned.short)
                parts = [part for product_id, _ in lines for part in planned.parts[product_id]]
                held = self._take_parts(order_id, parts, actor=actor, ttl=ttl, client_id=client_id)
        except _NotEveryLineTaken as refused:
            return self._short_outcomes(lines, refused.short)
        return [_outcome(product_id, quantity, reservations=held[product_id]) for product_id, quantity in lines]

    def _locked_candidates(self, product_ids: list[int], pool: str) -> tuple[str, list[allocation.Candidate]]:
        """The pool's strategy, and the levels these products may take in it, locked in lock order."""
        strategy = Pool.objects.filter(code=pool).values_list("strategy", flat=True).first()
        if strategy is None:
            raise PoolNotFound(pool)
        levels = allocation.stock_rows(product_ids, pool).select_for_update(of=("self",))
        return strategy, allocation.candidates(levels)

    def _take_parts(
        self, order_id: str, parts: list[allocation.Part], *, actor: str, ttl: timedelta, client_id: int | None
    ) -> dict[int, tuple[Reservation, ...]]:
        """Take the planned parts from their locked levels; the holds per product."""
        after = self.move_many({(p.product_id, p.warehouse_id): (-p.quantity, p.quantity) for p in parts})
        if len(after) != len(parts):
            raise RuntimeError("A locked stock level changed under its lock.")
        return self._hold(order_id, parts, actor=actor, ttl=ttl, client_id=client_id, after=after)

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

    def _hold(
        self,
        order_id: str,
        parts: Sequence[allocation.Part],
        *,
        actor: str,
        ttl: timedelta,
        client_id: int | None,
        after: Mapping[LevelKey, Counters],
    ) -> dict[int, tuple[Reservation, ...]]:
        now = self.db_now()
        created = Reservation.objects.bulk_create(
            Reservation(
                product_id=part.product_id,
                warehouse_id=part.warehouse_id,
                client_id=client_id,
                order_id=order_id,
                quantity=part.quantity,
                status=Status.ACTIVE,
                expires_at=now + ttl,
                created_at=now,
                updated_at=now,
            )
            for part in parts
        )
        movements = [
            Movement(
                product_id=part.product_id,
                warehouse_id=part.warehouse_id,
                operation=Operation.RESERVE,
                quantity=part.quantity,
                available_delta=-part.quantity,
                reserved_delta=part.quantity,
                order_id=order_id,
            )
            for part in parts
        ]
        write_entries(movements, actor=actor, after=after)
        held: dict[int, list[Reservation]] = defaultdict(list)
        for reservation in created:
            held[reservation.product_id].append(reservation)
        return {product_id: tuple(reservations) for product_id, reservations in held.items()}

    def _short_outcomes(self, lines: Sequence[tuple[int, int]], short: Mapping[int, int]) -> list[LineOutcome]:
        """Why the short lines were short: the units in the pool, and whether overdue holds are in the way."""
        overdue = Reservation.objects.filter(
            product_id=OuterRef("product_id"), status=Status.ACTIVE, expires_at__lte=Now()
        )
        found = dict(
            Inventory.products.filter(product_id__in=short)
            .annotate(has_overdue=Exists(overdue))
            .values_list("product_id", "has_overdue")
        )
        return [
            _outcome(
                product_id,
                quantity,
                short=product_id in short,
                found=(short.get(product_id), found[product_id]) if product_id in found else (None, False),
            )
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
        locked = list(holds.select_for_update().annotate(db_now=Now()).order_by("product_id", "warehouse_id"))
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
        quantities: dict[LevelKey, int] = defaultdict(int)
        for hold in holds:
            quantities[level_of(hold)] += hold.quantity
        back = 1 if ending.to_available else 0
        after = self.move_many({level: (back * q, -q) for level, q in quantities.items()})
        if len(after) != len(quantities):
            raise RuntimeError("Reserved stock of a level is below its holds.")
        movements = [
            hold_movement(hold, ending.operation, available_delta=back * hold.quantity, reserved_delta=-hold.quantity)
            for hold in sorted(holds, key=level_of)
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


def level_of(hold: Reservation) -> LevelKey:
    return hold.product_id, hold.warehouse_id


def _levels_q(levels: Iterable[LevelKey]) -> Q:
    """The rows of these levels: one product-and-warehouse pair each."""
    condition = Q(pk__in=[])
    for product_id, warehouse_id in levels:
        condition |= Q(product_id=product_id, warehouse_id=warehouse_id)
    return condition


def hold_movement(hold: Reservation, operation: str, *, reason: str = "", **deltas: int) -> Movement:
    return Movement(
        product_id=hold.product_id,
        warehouse_id=hold.warehouse_id,
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
    reservations: tuple[Reservation, ...] = (),
) -> LineOutcome:
    available, has_overdue = found
    return LineOutcome(
        product_id=product_id,
        quantity=quantity,
        short=short,
        reservations=reservations,
        available=available,
        has_overdue_holds=has_overdue,
        has_reservation_already=known,
    )
