"""The portable store: Django's ORM, on any database (the quick start's SQLite).

It is also the rare paths' store on PostgreSQL, whose store inherits everything it
does not write as one statement. Each method is one guarded write (the guard in the
WHERE, the count of changed rows deciding) and its ledger entries, inside the
caller's transaction or its own.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Now
from django.utils import timezone

from inventory.exceptions import PoolNotFound
from inventory.models import (
    Backorder,
    Inventory,
    InventoryLog,
    Pool,
    PreSale,
    Quota,
    Reservation,
    StockLevel,
    StockRow,
)
from inventory.models.ledger import SYSTEM_ACTOR
from inventory.services import allocation
from inventory.services.store import counters
from inventory.services.store.ledger import write_entries
from inventory.services.store.types import Counters, Deltas, Draw, Ending, LevelKey, LineOutcome, Movement, RowKey

Status = Reservation.Status
Operation = InventoryLog.Operation


# How often a take locks its rows afresh when a hot level gained rows while it waited for them
# (staff resizing the level); the last time it takes what it sees, which may refuse short.
_LOCKING_READS = 4


class _LevelGrew(Exception):
    """Rolls back a take whose locking read missed rows a hot level gained meanwhile."""


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
        """A level's own row (bucket 0)."""
        StockRow.objects.create(
            product_id=product_id,
            warehouse_id=warehouse_id,
            available_stock=available_stock,
            low_stock_threshold=low_stock_threshold,
            low_stock_since=Now() if available_stock <= low_stock_threshold else None,
        )

    def update_row(
        self,
        row: RowKey,
        *,
        available_delta: int = 0,
        reserved_delta: int = 0,
        in_transit_delta: int = 0,
        allotted_delta: int = 0,
        low_stock_threshold: int | None = None,
    ) -> bool:
        """One guarded update of a stock row; whether it changed. Stock movements never fail
        on a version: a caller that edits what a person saw checks it under `locked_level` first."""
        return self._guarded_update(
            _rows_q([row]),
            available_delta=available_delta,
            reserved_delta=reserved_delta,
            in_transit_delta=in_transit_delta,
            allotted_delta=allotted_delta,
            low_stock_threshold=low_stock_threshold,
        )

    def _guarded_update(self, rows: Q, **deltas) -> bool:
        guard = counters.guard(
            available_delta=deltas.get("available_delta", 0),
            reserved_delta=deltas.get("reserved_delta", 0),
            in_transit_delta=deltas.get("in_transit_delta", 0),
            allotted_delta=deltas.get("allotted_delta", 0),
        )
        return StockRow.objects.filter(rows & guard).update(**counters.changes(**deltas)) == 1

    def move_many(self, deltas: Mapping[RowKey, Deltas]) -> dict[RowKey, Counters]:
        """Apply (available, reserved) deltas to many rows, each only if neither counter would
        go below zero, locked in lock order first; the new counters of the rows that changed."""
        locked = self.lock_rows(deltas)
        changed = [
            key
            for key in locked
            if self._guarded_update(_rows_q([key]), available_delta=deltas[key][0], reserved_delta=deltas[key][1])
        ]
        return self.counters_of(changed)

    def lock_rows(self, rows: Iterable[RowKey]) -> list[RowKey]:
        """Lock these rows in lock order (by id); the ones that exist, in that order."""
        wanted = set(rows)
        if not wanted:
            return []
        locked = (
            StockRow.objects.select_for_update()
            .filter(_rows_q(wanted))
            .order_by(*allocation.LOCK_ORDER)
            .values_list("product_id", "warehouse_id", "bucket")
        )
        return list(locked)

    def counters_of(self, rows: Iterable[RowKey]) -> dict[RowKey, Counters]:
        wanted = set(rows)
        if not wanted:
            return {}
        found = StockRow.objects.filter(_rows_q(wanted)).values_list(
            "product_id", "warehouse_id", "bucket", "available_stock", "reserved_stock"
        )
        return {(product_id, warehouse_id, bucket): (a, r) for product_id, warehouse_id, bucket, a, r in found}

    def lock_levels(self, levels: Iterable[LevelKey]) -> list[StockRow]:
        """Lock every row of these levels in lock order; the rows, in that order."""
        wanted = set(levels)
        if not wanted:
            return []
        return list(StockRow.objects.select_for_update().filter(_levels_q(wanted)).order_by(*allocation.LOCK_ORDER))

    def top_up(self, needs: Mapping[RowKey, int], *, actor: str) -> None:
        """Gather units into each of these rows from the other rows of its level (a hot level's)
        until it holds its need of available stock, where the level holds that much; with
        `rebalance` entries. A row that holds its need already, or whose level is short, is
        left as it is (the guarded update that follows decides)."""
        rows = self.lock_levels({(product_id, warehouse_id) for product_id, warehouse_id, _ in needs})
        by_level: dict[LevelKey, list[tuple[int, int]]] = defaultdict(list)
        for row in rows:
            by_level[(row.product_id, row.warehouse_id)].append((row.bucket, free_stock(row)))
        movements = []
        for (product_id, warehouse_id, bucket), need in needs.items():
            level_rows = by_level[(product_id, warehouse_id)]
            if bucket not in dict(level_rows):
                continue
            moves = allocation.gather(bucket, need, level_rows) or ()
            taking = allocation.Taking(allocation.Part(product_id, warehouse_id, need), bucket, moves)
            movements += _gathering(taking)
        self.apply(movements, actor=actor)

    def apply(self, movements: Sequence[Movement], *, actor: str) -> None:
        """Guarded updates of the rows of `movements` (available deltas, each row once) and their
        entries; RuntimeError when one cannot apply (its row is locked and holds the units)."""
        if not movements:
            return
        after = self.move_many({m.row: (m.available_delta, m.reserved_delta) for m in movements})
        if len(after) != len({m.row for m in movements}):
            raise RuntimeError("A locked stock row changed under its lock.")
        write_entries(movements, actor=actor, after=after)

    def locked_level(self, level: LevelKey) -> StockLevel | None:
        """The level with every row of it locked, its figures read under those locks."""
        if not self.lock_levels([level]):
            return None
        product_id, warehouse_id = level
        return StockLevel.objects.filter(product_id=product_id, warehouse_id=warehouse_id).first()

    def insert_rows(self, level: LevelKey, buckets: Iterable[int]) -> None:
        """Empty bucket rows of a locked hot level (their ledger chains start at zero)."""
        product_id, warehouse_id = level
        StockRow.objects.bulk_create(
            StockRow(product_id=product_id, warehouse_id=warehouse_id, bucket=bucket, low_stock_threshold=0)
            for bucket in buckets
        )

    def even_out(self, levels: Iterable[LevelKey], *, actor: str) -> None:
        """Spread each hot level's available stock evenly over its rows 0..N-1 (`rebalance`
        entries, one per row that changes), and drop its rows past N that end up empty.
        A level with one row is left as it is."""
        rows = self.lock_levels(levels)
        by_level: dict[LevelKey, list[StockRow]] = defaultdict(list)
        for row in rows:
            by_level[(row.product_id, row.warehouse_id)].append(row)
        movements, leaving = [], {}
        for level, level_rows in by_level.items():
            if len(level_rows) == 1:
                continue
            buckets = next(row.buckets for row in level_rows if row.bucket == 0)
            moves = allocation.spread([(row.bucket, free_stock(row)) for row in level_rows], buckets)
            movements += [rebalance_movement((*level, bucket), delta) for bucket, delta in sorted(moves.items())]
            leaving[level] = (
                buckets,
                [
                    row
                    for row in level_rows
                    if row.bucket >= buckets
                    and row.reserved_stock == 0
                    and row.available_stock + moves.get(row.bucket, 0) == 0
                ],
            )
        self.apply(movements, actor=actor)
        for level, (buckets, dropped) in leaving.items():
            if dropped:
                self.set_buckets(level, buckets, dropped=dropped)

    def set_buckets(self, level: LevelKey, buckets: int, *, dropped: Sequence[StockRow] = ()) -> None:
        """Row 0 of a locked level says it has `buckets` rows; the `dropped` rows (empty, past N)
        go, their versions carried into row 0 so that the level's summed version only grows."""
        product_id, warehouse_id = level
        carried = sum(row.version for row in dropped)
        deleted, _ = StockRow.objects.filter(
            pk__in=[row.pk for row in dropped], bucket__gt=0, available_stock=0, reserved_stock=0
        ).delete()
        if deleted != len(dropped):
            raise RuntimeError(f"A row of level {level} to drop is not empty.")
        StockRow.objects.filter(product_id=product_id, warehouse_id=warehouse_id, bucket=0).update(
            buckets=buckets, **{**counters.changes(), "version": F("version") + 1 + carried}
        )

    def record(self, movements: Sequence[Movement], *, actor: str) -> None:
        """The ledger entries of `movements`, just applied.

        The rows are read after the updates, under the locks this transaction holds, so exact.
        """
        write_entries(movements, actor=actor, after=self.counters_of(m.row for m in movements))

    def write_entries(self, movements: Sequence[Movement], *, actor: str, after: Mapping[RowKey, Counters]) -> None:
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
        draws: Mapping[int, Draw] | None = None,
        backorders: frozenset[int] = frozenset(),
    ) -> list[LineOutcome]:
        """Hold (product_id, quantity) lines for an order that has none of them yet: all or none.

        A line with a `draws` entry takes what it can from that quota first (while the
        quota is open), the rest from free stock if the quota allows overflow. A line of
        a product in `backorders` holds what it can (quota, then free stock) and sells the
        rest ahead of stock on an open pre-sale of the product in the pool (`_book_ahead`):
        one backorder, placed with the holds.

        One outcome per line, in the given order. Nothing is taken when the order has
        any of these lines already, when it is another client's (`client_id` given), or
        when any line is short in the pool. PoolNotFound for an unknown pool.

        Every row the lines may take is locked (in lock order) before the order's lines
        are looked up: an identical request that held those locks has committed its lines
        by then, and is seen, rather than the line being taken again from another
        warehouse (the unique line per warehouse would not stop that).
        """
        attempt = partial(self._take, order_id, lines, actor, ttl, client_id, routing, draws or {}, backorders)
        for _ in range(_LOCKING_READS - 1):
            try:
                return attempt(complete=True)
            except _LevelGrew:
                continue
        return attempt(complete=False)

    def _take(
        self,
        order_id: str,
        lines: Sequence[tuple[int, int]],
        actor: str,
        ttl: timedelta,
        client_id: int | None,
        routing: allocation.Routing,
        draws: Mapping[int, Draw],
        backorders: frozenset[int],
        *,
        complete: bool,
    ) -> list[LineOutcome]:
        """One try of `take`; _LevelGrew (all rolled back) if `complete` and a level's rows were missed."""
        quantities = dict(lines)
        try:
            with transaction.atomic():
                strategy, found = self._locked_candidates([product_id for product_id, _ in lines], routing.pool)
                if complete and allocation.missing_rows(found):
                    raise _LevelGrew
                known, foreign = self._known_lines(order_id, quantities, client_id, with_backorders=bool(backorders))
                if known or foreign:
                    return [
                        _outcome(product_id, quantity, known=foreign or product_id in known)
                        for product_id, quantity in lines
                    ]
                drawn = self._locked_draws(draws, quantities, found)
                rest = [(p, q - drawn[p][1]) if p in drawn else (p, q) for p, q in lines]
                ahead = _beyond_free_stock(rest, backorders, drawn, found, split=routing.split)
                rest = [(p, q - ahead.get(p, 0)) for p, q in rest]
                planned = allocation.plan(
                    [line for line in rest if line[1] > 0],
                    found,
                    strategy=strategy,
                    destination=routing.destination,
                    split=routing.split,
                )
                short = {p: free + drawn.get(p, (None, 0))[1] for p, free in planned.short.items()}
                short |= {
                    p: units + _free_in_pool(p, found)
                    for p, (quota, units) in drawn.items()
                    if units + ahead.get(p, 0) < quantities[p] and not quota.overflow
                }
                booked, unbooked = self._book_ahead(ahead, found, quantities)
                short |= unbooked
                if short:
                    raise _NotEveryLineTaken(short)
                parts = [part for product_id, _ in rest for part in planned.parts.get(product_id, [])]
                held = self._take_parts(order_id, parts, found, actor=actor, ttl=ttl, client_id=client_id, drawn=drawn)
                sold_ahead = _place_backorders(order_id, client_id, booked)
        except _NotEveryLineTaken as refused:
            return self._short_outcomes(lines, refused.short)
        return [
            _outcome(
                product_id, quantity, reservations=held.get(product_id, ()), backorders=sold_ahead.get(product_id, ())
            )
            for product_id, quantity in lines
        ]

    def _locked_candidates(self, product_ids: list[int], pool: str) -> tuple[str, list[allocation.Candidate]]:
        """The pool's strategy, and the rows these products may take in it, locked in lock order."""
        strategy = Pool.objects.filter(code=pool).values_list("strategy", flat=True).first()
        if strategy is None:
            raise PoolNotFound(pool)
        levels = allocation.stock_rows(product_ids, pool).select_for_update(of=("self",))
        return strategy, allocation.candidates(levels)

    def _locked_draws(
        self, draws: Mapping[int, Draw], quantities: Mapping[int, int], found: list[allocation.Candidate]
    ) -> dict[int, tuple[Quota, int]]:
        """Per line that draws on a quota: the quota, locked (after the stock rows, by id), and
        the units it gives the line: none unless it is open now and its level is in the pool."""
        if not draws:
            return {}
        in_pool = {(c.product_id, c.warehouse_id) for c in found}
        quotas = {
            quota.pk: quota
            for quota in Quota.objects.select_for_update()
            .filter(pk__in=[draw.quota_id for draw in draws.values()])
            .annotate(db_now=Now())
            .order_by("id")
        }
        drawn = {}
        for product_id, draw in draws.items():
            quota = quotas[draw.quota_id]
            is_open = quota.status == Quota.Status.ACTIVE and quota.starts_at <= quota.db_now < quota.ends_at
            usable = is_open and (product_id, quota.warehouse_id) in in_pool
            drawn[product_id] = (quota, min(quantities[product_id], quota.allotted) if usable else 0)
        return drawn

    def _book_ahead(
        self, ahead: Mapping[int, int], found: list[allocation.Candidate], quantities: Mapping[int, int]
    ) -> tuple[dict[int, tuple[PreSale, int]], dict[int, int]]:
        """Per line with units beyond free stock: the open pre-sale in the pool that sold them
        ahead, or (none had the room) the line's units in the pool, what it holds and the best
        pre-sale's room.

        The pre-sales are locked after the stock rows and quotas, by id; a line takes the first
        with room for its units, and the guarded update of its `sold` decides.
        """
        if not ahead:
            return {}, {}
        in_pool = Q(pk__in=[])
        for level in allocation.levels(found):
            if level.product_id in ahead:
                in_pool |= Q(product_id=level.product_id, warehouse_id=level.warehouse_id)
        offers = list(
            PreSale.objects.select_for_update()
            .filter(in_pool, status=PreSale.Status.ACTIVE, starts_at__lte=Now(), ends_at__gt=Now())
            .order_by("id")
        )
        booked, unbooked = {}, {}
        for product_id, units in ahead.items():
            of_product = [presale for presale in offers if presale.product_id == product_id]
            seller = next((p for p in of_product if p.limit - p.sold >= units and _sell_ahead(p, units)), None)
            if seller is not None:
                booked[product_id] = (seller, units)
            else:
                best_room = max((presale.limit - presale.sold for presale in of_product), default=0)
                unbooked[product_id] = quantities[product_id] - units + best_room
        return booked, unbooked

    def _take_parts(
        self,
        order_id: str,
        parts: list[allocation.Part],
        found: list[allocation.Candidate],
        *,
        actor: str,
        ttl: timedelta,
        client_id: int | None,
        drawn: Mapping[int, tuple[Quota, int]],
    ) -> dict[int, tuple[Reservation, ...]]:
        """Take the planned parts from their locked levels, each from one row (gathered into it
        from the level's other rows when none holds the part whole); the holds per product.

        A line's units drawn on a quota come out of its level's own row (which holds the
        set-aside units), with any free part of the line in that warehouse: one hold per
        line and warehouse, as always."""
        drawing = {product_id: (quota, units) for product_id, (quota, units) in drawn.items() if units}
        quota_levels = {(product_id, quota.warehouse_id) for product_id, (quota, _) in drawing.items()}
        takings = [
            allocation.row_for(part, found)
            for part in parts
            if (part.product_id, part.warehouse_id) not in quota_levels
        ]
        for product_id, (quota, units) in drawing.items():
            takings.append(_drawn_taking(product_id, quota, units, parts, found))
            self._release_to_line(quota, units)
        gathered = [movement for taking in takings for movement in _gathering(taking)]
        deltas: dict[RowKey, tuple[int, int]] = defaultdict(lambda: (0, 0))
        for movement in gathered:
            deltas[movement.row] = (deltas[movement.row][0] + movement.available_delta, 0)
        for taking in takings:
            available, reserved = deltas[taking.row]
            deltas[taking.row] = (available - taking.part.quantity, reserved + taking.part.quantity)
        after = self.move_many(deltas)
        if len(after) != len(deltas):
            raise RuntimeError("A locked stock row changed under its lock.")
        return self._hold(
            order_id, takings, actor=actor, ttl=ttl, client_id=client_id, after=after, prior=gathered, drawn=drawn
        )

    def _release_to_line(self, quota: Quota, units: int) -> None:
        """Units of a locked quota handed to a line: out of its set-aside units and its row's."""
        row = (quota.product_id, quota.warehouse_id, 0)
        released = Quota.objects.filter(pk=quota.pk, allotted__gte=units).update(
            allotted=F("allotted") - units, drawn=F("drawn") + units, updated_at=Now()
        )
        if released != 1 or not self.update_row(row, allotted_delta=-units):
            raise RuntimeError(f"Quota {quota.code} changed under its lock.")

    def _known_lines(
        self, order_id: str, quantities: dict[int, int], client_id: int | None, *, with_backorders: bool = False
    ) -> tuple[set[int], bool]:
        """The products of these lines the order has already, and whether it has lines of another
        client (or, for an in-process caller, of any client); `with_backorders`, its backorders
        count as lines too (a cancelled one only as another client's)."""
        # Another client's line, or (for an in-process caller) any client's: the service decides whose.
        others = ~Q(client_id=client_id) if client_id is not None else Q(client_id__isnull=False)
        found = list(
            Reservation.objects.filter(Q(order_id=order_id) & (Q(product_id__in=quantities) | others)).values_list(
                "product_id", "client_id"
            )
        )
        if with_backorders:
            live = Q(product_id__in=quantities) & ~Q(status=Backorder.Status.CANCELLED)
            found += Backorder.objects.filter(Q(order_id=order_id) & (live | others)).values_list(
                "product_id", "client_id"
            )
        foreign = any(owner != client_id for _, owner in found)
        return {product_id for product_id, _ in found if product_id in quantities}, foreign

    def _hold(
        self,
        order_id: str,
        takings: Sequence[allocation.Taking],
        *,
        actor: str,
        ttl: timedelta,
        client_id: int | None,
        after: Mapping[RowKey, Counters],
        prior: Sequence[Movement] = (),
        drawn: Mapping[int, tuple[Quota, int]] | None = None,
    ) -> dict[int, tuple[Reservation, ...]]:
        """The holds of the parts just taken from their rows, and the ledger entries: `prior`
        (the units gathered into those rows first), then one `reserve` per part."""
        now = self.db_now()
        created = Reservation.objects.bulk_create(
            Reservation(
                product_id=taking.part.product_id,
                warehouse_id=taking.part.warehouse_id,
                bucket=taking.bucket,
                client_id=client_id,
                order_id=order_id,
                quantity=taking.part.quantity,
                **_quota_of(taking, drawn or {}),
                status=Status.ACTIVE,
                expires_at=now + ttl,
                created_at=now,
                updated_at=now,
            )
            for taking in takings
        )
        movements = [
            Movement(
                product_id=taking.part.product_id,
                warehouse_id=taking.part.warehouse_id,
                bucket=taking.bucket,
                operation=Operation.RESERVE,
                quantity=taking.part.quantity,
                available_delta=-taking.part.quantity,
                reserved_delta=taking.part.quantity,
                order_id=order_id,
                **_drawn_units(taking, drawn or {}),
            )
            for taking in takings
        ]
        write_entries([*prior, *movements], actor=actor, after=after)
        by_product: dict[int, list[Reservation]] = defaultdict(list)
        for reservation in created:
            by_product[reservation.product_id].append(reservation)
        return {product_id: tuple(reservations) for product_id, reservations in by_product.items()}

    def _short_outcomes(self, lines: Sequence[tuple[int, int]], short: Mapping[int, int]) -> list[LineOutcome]:
        """Why the short lines were short: the units in the pool, and whether overdue holds (or
        quotas past their end) are in the way."""
        overdue = Reservation.objects.filter(
            product_id=OuterRef("product_id"), status=Status.ACTIVE, expires_at__lte=Now()
        )
        due = Quota.objects.filter(
            product_id=OuterRef("product_id"), status=Quota.Status.ACTIVE, ends_at__lte=Now(), allotted__gt=0
        )
        found = dict(
            Inventory.products.filter(product_id__in=short)
            .annotate(has_overdue=Exists(overdue) | Exists(due))
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
        locked = list(holds.select_for_update().annotate(db_now=Now()).order_by("product_id", "warehouse_id", "bucket"))
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

    def end_holds(
        self, holds: list[Reservation], ending: Ending, *, now: datetime, actor: str, batch_job: bool = False
    ) -> None:
        """Move locked active holds to `ending.status`; their units leave reserved stock."""
        self.set_status(holds, Status.ACTIVE, ending.status, now=now)
        quantities: dict[RowKey, int] = defaultdict(int)
        for hold in holds:
            quantities[row_of(hold)] += hold.quantity
        back = 1 if ending.to_available else 0
        after = self.move_many({row: (back * q, -q) for row, q in quantities.items()})
        if len(after) != len(quantities):
            raise RuntimeError("Reserved stock of a row is below its holds.")
        movements = [
            hold_movement(hold, ending.operation, available_delta=back * hold.quantity, reserved_delta=-hold.quantity)
            for hold in sorted(holds, key=row_of)
        ]
        write_entries(movements, actor=actor, after=after, batch_job=batch_job)

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

    def expire_batch(self, *, product_ids: Sequence[int] | None, batch_size: int) -> tuple[int, set[int]]:
        """Expire up to `batch_size` overdue holds (of `product_ids` only, if given), skipping
        locked ones; how many, and their products. The caller's transaction holds the batch."""
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
            self.end_holds(batch, EXPIRY, now=batch[0].db_now, actor=SYSTEM_ACTOR, batch_job=True)
        return len(batch), {hold.product_id for hold in batch}


# The endings of a hold that the stores write.
RELEASE = Ending(Status.CANCELLED, Operation.RELEASE, to_available=True, refuse_overdue=False)
PAYMENT = Ending(Status.CONFIRMED, Operation.DEDUCT, to_available=False, refuse_overdue=True)
EXPIRY = Ending(Status.EXPIRED, Operation.EXPIRE, to_available=True, refuse_overdue=False)


def _may_settle(hold: Reservation, ending: Ending, now: datetime) -> bool:
    return hold.status == Status.ACTIVE and not (ending.refuse_overdue and hold.expires_at <= now)


def row_of(hold: Reservation) -> RowKey:
    """The stock row whose reserved stock holds a hold's units."""
    return hold.product_id, hold.warehouse_id, hold.bucket


def _drawn_taking(
    product_id: int, quota: Quota, units: int, parts: list[allocation.Part], found: list[allocation.Candidate]
) -> allocation.Taking:
    """A line's taking from its quota's level: the drawn units and the free part planned
    there, from the level's own row (free units gathered into it from the other rows)."""
    free_here = sum(p.quantity for p in parts if (p.product_id, p.warehouse_id) == (product_id, quota.warehouse_id))
    rows = [
        (c.bucket, c.available) for c in found if (c.product_id, c.warehouse_id) == (product_id, quota.warehouse_id)
    ]
    gathered = allocation.gather(0, free_here, rows)
    if gathered is None:
        raise RuntimeError(f"The level of quota {quota.code} holds less than its plan.")
    return allocation.Taking(allocation.Part(product_id, quota.warehouse_id, units + free_here), 0, gathered)


def _free_in_pool(product_id: int, found: list[allocation.Candidate]) -> int:
    return sum(c.available for c in found if c.product_id == product_id)


def _beyond_free_stock(
    rest: Sequence[tuple[int, int]],
    backorders: frozenset[int],
    drawn: Mapping[int, tuple[Quota, int]],
    found: list[allocation.Candidate],
    *,
    split: bool,
) -> dict[int, int]:
    """Per line that may backorder: the units of `rest` (what its quota does not give) that free
    stock in the pool cannot hold, in one level when the line may not split; all of them when
    its quota allows no overflow."""
    ahead = {}
    for product_id, quantity in rest:
        if product_id not in backorders or quantity <= 0:
            continue
        quota = drawn.get(product_id, (None, 0))[0]
        free = [level.available for level in allocation.levels(found) if level.product_id == product_id]
        holdable = 0 if quota is not None and not quota.overflow else sum(free) if split else max(free, default=0)
        if quantity > holdable:
            ahead[product_id] = quantity - holdable
    return ahead


def _sell_ahead(presale: PreSale, units: int) -> bool:
    """The guarded update of a locked pre-sale's `sold` that decides whether it sells `units` more."""
    return (
        PreSale.objects.filter(pk=presale.pk, sold__lte=F("limit") - units).update(
            sold=F("sold") + units, updated_at=Now()
        )
        == 1
    )


def _place_backorders(
    order_id: str, client_id: int | None, booked: Mapping[int, tuple[PreSale, int]]
) -> dict[int, tuple[Backorder, ...]]:
    """The backorders of the units just sold ahead, one per line, at its pre-sale's level."""
    if not booked:
        return {}
    placed = Backorder.objects.bulk_create(
        Backorder(
            presale=presale,
            order_id=order_id,
            client_id=client_id,
            product_id=product_id,
            warehouse_id=presale.warehouse_id,
            quantity=units,
        )
        for product_id, (presale, units) in booked.items()
    )
    return {backorder.product_id: (backorder,) for backorder in placed}


def _quota_of(taking: allocation.Taking, drawn: Mapping[int, tuple[Quota, int]]) -> dict:
    """A hold's quota and the units it drew on it (none: the hold took free stock only)."""
    quota, units = drawn.get(taking.part.product_id, (None, 0))
    if not units or quota.warehouse_id != taking.part.warehouse_id:
        return {}
    return {"quota": quota, "quota_units": units}


def _drawn_units(taking: allocation.Taking, drawn: Mapping[int, tuple[Quota, int]]) -> dict:
    """A `reserve` entry's quota and its change of the row's set-aside units."""
    of_quota = _quota_of(taking, drawn)
    if not of_quota:
        return {}
    return {"quota_id": of_quota["quota"].pk, "allotted_delta": -of_quota["quota_units"]}


def free_stock(row: StockRow) -> int:
    """What of a row's available stock a taking that names no quota may move (rows 1..N-1: all of it)."""
    return row.available_stock - row.allotted_stock


def _levels_q(levels: Iterable[LevelKey]) -> Q:
    """The rows of these levels: one product and warehouse each."""
    condition = Q(pk__in=[])
    for product_id, warehouse_id in levels:
        condition |= Q(product_id=product_id, warehouse_id=warehouse_id)
    return condition


def _rows_q(rows: Iterable[RowKey]) -> Q:
    """These stock rows: one product, warehouse and bucket each."""
    condition = Q(pk__in=[])
    for product_id, warehouse_id, bucket in rows:
        condition |= Q(product_id=product_id, warehouse_id=warehouse_id, bucket=bucket)
    return condition


def rebalance_movement(row: RowKey, available_delta: int) -> Movement:
    """Units moved into (or, negative, out of) one row of a hot level from its other rows."""
    product_id, warehouse_id, bucket = row
    return Movement(
        product_id=product_id,
        warehouse_id=warehouse_id,
        bucket=bucket,
        operation=Operation.REBALANCE,
        quantity=available_delta,
        available_delta=available_delta,
    )


def _gathering(taking: allocation.Taking) -> list[Movement]:
    """The `rebalance` entries that top up a part's row from the other rows of its level."""
    if not taking.gathered:
        return []
    product_id, warehouse_id, _ = taking.row
    given = [rebalance_movement((product_id, warehouse_id, bucket), -units) for bucket, units in taking.gathered]
    return [*given, rebalance_movement(taking.row, sum(units for _, units in taking.gathered))]


def hold_movement(hold: Reservation, operation: str, *, reason: str = "", **deltas: int) -> Movement:
    return Movement(
        product_id=hold.product_id,
        warehouse_id=hold.warehouse_id,
        bucket=hold.bucket,
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
    backorders: tuple[Backorder, ...] = (),
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
        backorders=backorders,
    )
