"""Which stock rows a line may take, in which order: the one seam every store asks.

- `stock_rows`: the rows (every level's own, every hot level's buckets) of some
  products in a pool's warehouses that accept orders, in lock order. The ORM store
  evaluates the queryset, the PostgreSQL store compiles the same queryset into its
  statements (`store/postgresql.py`), so both choose alike.
- `plan`: given the candidates as they are under their locks, each line goes to
  the first warehouse of the pool's order whose level (its rows summed) can hold
  all of it, else is split over the warehouses in that order (unless the order
  says `split: false`), else is short.
- `row_for`: which row of a level takes a part, and what is gathered into it from
  the level's other rows when no row holds it whole (a hot level).

The lock order is global: rows are locked by id, so any two orders (or an order
and a transfer) that share rows lock them in the same order and never deadlock,
whatever the warehouses and strategies. A reserve may also *try* a hot level's
bucket with SKIP LOCKED after its waits (`store/sql/reserve.sql`): a try never
waits, so it adds no edge to a cycle.
"""

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from django.db.models import Expression, F, QuerySet

from inventory import limits
from inventory.models import PoolStrategy, StockRow
from inventory.selectors.warehouses import pool_warehouses

LOCK_ORDER = ("id",)
# A row's available stock less what quotas set aside of it: what a line that names no quota may take.
FREE_STOCK = F("available_stock") - F("allotted_stock")
_EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Destination:
    """Where an order ships (`ship_to`): any of a region and coordinates."""

    region: str = ""
    latitude: float | None = None
    longitude: float | None = None

    @property
    def coordinates(self) -> tuple[float, float] | None:
        if self.latitude is None or self.longitude is None:
            return None
        return self.latitude, self.longitude


NOWHERE = Destination()


@dataclass(frozen=True)
class Routing:
    """Where an order's lines may be taken from: a pool, the destination, whether a line may split."""

    pool: str = limits.EVERY_WAREHOUSE_POOL
    destination: Destination = NOWHERE
    split: bool = True


EVERYWHERE = Routing()


@dataclass(frozen=True)
class Candidate:
    """One row a line may take from, as it stands under its lock (or a level: its rows summed).

    `available` is its free stock: what quotas set aside of it (row 0's `allotted_stock`)
    is not for lines that name no quota, nor for spreading or gathering a hot level's rows."""

    row_id: int
    product_id: int
    warehouse_id: int
    bucket: int
    available: int
    warehouse_code: str
    priority: int
    region: str
    latitude: float | None
    longitude: float | None
    # Row 0's count of the level's rows (N of a hot level); a level's sum or a bucket row: 1.
    buckets: int = 1


@dataclass(frozen=True)
class Part:
    """Units of a line taken from one level."""

    product_id: int
    warehouse_id: int
    quantity: int


def stock_rows(product_ids: "list[int] | Expression", pool_code: "str | Expression") -> QuerySet[StockRow]:
    """The rows lines of these products may take in the pool (a list or an SQL term each), in lock order.

    The warehouses are a subquery, not a join, so that locking the rows locks nothing else.
    """
    return StockRow.objects.filter(
        product_id__in=product_ids, warehouse_id__in=pool_warehouses(pool_code).values("id")
    ).order_by(*LOCK_ORDER)


def candidates(rows: QuerySet[StockRow]) -> list[Candidate]:
    """The rows of `rows` with what the strategies sort by, in the queryset's order."""
    found = rows.annotate(free_stock=FREE_STOCK).values_list(
        "id",
        "product_id",
        "warehouse_id",
        "bucket",
        "free_stock",
        "warehouse__code",
        "warehouse__priority",
        "warehouse__region",
        "warehouse__latitude",
        "warehouse__longitude",
        "buckets",
    )
    return [Candidate(*row) for row in found]


def missing_rows(rows: Iterable[Candidate]) -> bool:
    """Whether a level's row 0 counts more rows than `rows` hold of it.

    A hot level that gained rows while a locking read waited for its row 0 shows row 0
    as it now stands (PostgreSQL reads a row again once its lock is free) but not the new
    rows, which the read's snapshot predates; what they hold would look missing."""
    found = Counter((row.product_id, row.warehouse_id) for row in rows)
    return any(row.bucket == 0 and row.buckets > found[(row.product_id, row.warehouse_id)] for row in rows)


def levels(rows: Iterable[Candidate]) -> list[Candidate]:
    """The levels of these rows, each its rows summed (as its row 0, or its first row found)."""
    summed: dict[tuple[int, int], Candidate] = {}
    for row in rows:
        key = (row.product_id, row.warehouse_id)
        level = summed.get(key)
        summed[key] = row if level is None else replace(level, available=level.available + row.available)
    return list(summed.values())


def ordered(found: Iterable[Candidate], strategy: str, destination: Destination = NOWHERE) -> list[Candidate]:
    """One product's candidates in the order a line tries them (ties: priority, then code)."""
    if strategy == PoolStrategy.MOST_STOCK:
        return sorted(found, key=lambda c: (-c.available, c.priority, c.warehouse_code))
    if strategy == PoolStrategy.NEAREST:
        return sorted(found, key=lambda c: (_distance(c, destination), c.priority, c.warehouse_code))
    return sorted(found, key=lambda c: (c.priority, c.warehouse_code))


def _distance(candidate: Candidate, destination: Destination) -> float:
    """Great-circle distance in km; a warehouse in the destination's region comes first when
    either side has no coordinates, and one with none comes after any that has them."""
    there = destination.coordinates
    if there is None or candidate.latitude is None or candidate.longitude is None:
        same_region = bool(destination.region) and candidate.region == destination.region
        return -1.0 if same_region and there is None else math.inf
    return haversine_km((candidate.latitude, candidate.longitude), there)


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class Plan:
    parts: dict[int, list[Part]]
    # Per short line: the units its product has in the pool.
    short: dict[int, int]


def plan(
    lines: Sequence[tuple[int, int]],
    found: Iterable[Candidate],
    *,
    strategy: str,
    destination: Destination = NOWHERE,
    split: bool = True,
) -> Plan:
    """Where each (product_id, quantity) line is taken from (which levels of the rows `found`),
    or which lines are short."""
    by_product: dict[int, list[Candidate]] = defaultdict(list)
    for candidate in levels(found):
        by_product[candidate.product_id].append(candidate)
    parts: dict[int, list[Part]] = {}
    short: dict[int, int] = {}
    for product_id, quantity in lines:
        options = ordered(by_product[product_id], strategy, destination)
        whole = next((c for c in options if c.available >= quantity), None)
        if whole is not None:
            parts[product_id] = [Part(product_id, whole.warehouse_id, quantity)]
            continue
        in_pool = sum(c.available for c in options)
        if not split or in_pool < quantity:
            short[product_id] = in_pool
            continue
        parts[product_id] = list(_spread(product_id, quantity, options))
    return Plan(parts, short)


def _spread(product_id: int, quantity: int, options: list[Candidate]) -> Iterable[Part]:
    """Take the line from the candidates in order, each as much as it has, until it is whole."""
    left = quantity
    for candidate in options:
        if left == 0:
            return
        taken = min(left, candidate.available)
        if taken:
            yield Part(product_id, candidate.warehouse_id, taken)
            left -= taken


@dataclass(frozen=True)
class Taking:
    """The row of a level that takes a part, and the units first moved into it from the
    level's other rows (bucket, units) when none of them holds the part whole."""

    part: Part
    bucket: int
    gathered: tuple[tuple[int, int], ...] = ()

    @property
    def row(self) -> tuple[int, int, int]:
        return self.part.product_id, self.part.warehouse_id, self.bucket


def row_for(part: Part, found: Iterable[Candidate]) -> Taking:
    """Which row of the part's level takes it: the one with most available stock (ties: the
    lower bucket), topped up from the others when it alone is short."""
    rows = [
        (c.bucket, c.available) for c in found if (c.product_id, c.warehouse_id) == (part.product_id, part.warehouse_id)
    ]
    taker, _ = min(rows, key=lambda row: (-row[1], row[0]))
    gathered = gather(taker, part.quantity, rows)
    if gathered is None:
        raise ValueError(f"The level of {part} holds too little for it.")
    return Taking(part, taker, gathered)


def gather(bucket: int, need: int, rows: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...] | None:
    """The units to move into row `bucket` of a level from its other rows, fullest first (ties:
    the lower bucket), so that it holds `need`: (bucket, units) each. () when it holds them
    already; None when the whole level holds too little."""
    available = dict(rows)
    missing = need - available[bucket]
    moves = []
    for other, units in sorted(available.items(), key=lambda row: (-row[1], row[0])):
        if missing <= 0:
            break
        if other == bucket or units == 0:
            continue
        moved = min(missing, units)
        moves.append((other, moved))
        missing -= moved
    return tuple(moves) if missing <= 0 else None


def spread(rows: Iterable[tuple[int, int]], buckets: int) -> dict[int, int]:
    """How to even a level's available stock over its rows 0..buckets-1: the change of each
    (bucket, available) row that changes. Each row gets an equal share, the lower buckets one
    unit more of what does not divide; a row past `buckets` (lingering while it holds
    reserved stock) gives all of its share."""
    available = dict(rows)
    if not set(range(buckets)) <= set(available):
        raise ValueError(f"A hot level of {buckets} rows lacks some: it has {sorted(available)}.")
    share, extra = divmod(sum(available.values()), buckets)
    wanted = {bucket: share + (1 if bucket < extra else 0) for bucket in range(buckets)}
    return {
        bucket: wanted.get(bucket, 0) - units for bucket, units in available.items() if wanted.get(bucket, 0) != units
    }


def uneven(rows: Iterable[tuple[int, int]], buckets: int) -> bool:
    """Whether a hot level's rows have drifted apart enough to even them: a row past `buckets`
    holds stock, or a row holds less than half its share while the level has a unit per row."""
    available = dict(rows)
    if any(units for bucket, units in available.items() if bucket >= buckets):
        return True
    total = sum(available.values())
    return total >= buckets and any(2 * available.get(bucket, 0) * buckets < total for bucket in range(buckets))
