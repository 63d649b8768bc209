"""Which stock levels a line may take, in which order: the one seam every store asks.

- `stock_rows`: the levels of some products in a pool's warehouses that accept
  orders, in lock order. The ORM store evaluates the queryset, the PostgreSQL
  store compiles the same queryset into its statements (`store/postgresql.py`),
  so both choose alike.
- `plan`: given the candidates as they are under their locks, each line goes to
  the first warehouse of the pool's order that can hold all of it, else is split
  over the warehouses in that order (unless the order says `split: false`), else
  is short.

The lock order is global: levels are locked by id, so any two orders (or an order
and a transfer) that share levels lock them in the same order and never deadlock,
whatever the warehouses and strategies.
"""

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Expression, QuerySet

from inventory import limits
from inventory.models import PoolStrategy, StockLevel
from inventory.selectors.warehouses import pool_warehouses

LOCK_ORDER = ("id",)
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
    """One level a line may take from, as it stands under its lock."""

    level_id: int
    product_id: int
    warehouse_id: int
    available: int
    warehouse_code: str
    priority: int
    region: str
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True)
class Part:
    """Units of a line taken from one level."""

    product_id: int
    warehouse_id: int
    quantity: int


def stock_rows(product_ids: "list[int] | Expression", pool_code: "str | Expression") -> QuerySet[StockLevel]:
    """The levels lines of these products may take in the pool (a list or an SQL term each), in lock order.

    The warehouses are a subquery, not a join, so that locking the levels locks nothing else.
    """
    return StockLevel.objects.filter(
        product_id__in=product_ids, warehouse_id__in=pool_warehouses(pool_code).values("id")
    ).order_by(*LOCK_ORDER)


def candidates(levels: QuerySet[StockLevel]) -> list[Candidate]:
    """The levels of `levels` with what the strategies sort by, in the queryset's order."""
    rows = levels.values_list(
        "id",
        "product_id",
        "warehouse_id",
        "available_stock",
        "warehouse__code",
        "warehouse__priority",
        "warehouse__region",
        "warehouse__latitude",
        "warehouse__longitude",
    )
    return [Candidate(*row) for row in rows]


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
    """Where each (product_id, quantity) line is taken from, or which lines are short."""
    by_product: dict[int, list[Candidate]] = defaultdict(list)
    for candidate in found:
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
