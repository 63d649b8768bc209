"""Hot levels: one level's available stock spread over several rows (buckets).

A flash sale is one product and thousands of buyers, and one row is a queue: every
reserve of it waits for the row lock of the one before. A hot level keeps its
stock in rows 0..N-1 (row 0 is the level's own, `StockRow`), and a reserve takes a
bucket no one else holds (`store/sql/reserve.sql`, SKIP LOCKED), so N buyers go at
once. The figures callers see are the rows summed (`StockLevel`); each row keeps the
rules and its own ledger chain.

- `make_hot` sets N (1 turns it off): the missing rows are made empty, the stock is
  spread evenly over rows 0..N-1 (`rebalance` entries, one per row whose figures
  change), and the rows past N are dropped once empty. A row past N that still
  holds reserved stock lingers until its holds end (it is never taken from by a
  bucket try, holding no stock, and the rebalancer drops it later).
- `rebalance_hot_levels` evens the levels whose rows drifted apart (the Celery
  beat job `inventory.rebalance_hot_levels`).

Each is one transaction per level that locks every row of it in lock order, as
every writer of several rows does; reserves meanwhile find no free bucket and wait
for the planned path, so nothing is refused that the level holds.
"""

from django.db import transaction
from django.db.models import Q

from inventory import limits
from inventory.models import StockLevel, StockRow
from inventory.models.ledger import SYSTEM_ACTOR
from inventory.services import allocation, store
from inventory.services._validation import require_int, require_product_id
from inventory.services.stock import ensure_level, warehouse_id_of
from inventory.services.store import LevelKey


def make_hot(*, product_id: int, buckets: int, actor: str, warehouse: str = limits.DEFAULT_WAREHOUSE) -> StockLevel:
    """Spread the level of `product_id` in `warehouse` over `buckets` rows (1: one row again);
    the level. Opens the level if the product has none there yet (ProductNotFound if no product)."""
    require_product_id(product_id)
    require_int("buckets", buckets, minimum=1, maximum=limits.MAX_BUCKETS)
    level = (product_id, warehouse_id_of(warehouse))
    writer = store.current()
    with transaction.atomic():
        ensure_level(writer, level, actor=actor)
        rows = writer.lock_levels([level])
        present = {row.bucket for row in rows}
        writer.insert_rows(level, [bucket for bucket in range(1, buckets) if bucket not in present])
        if next(row.buckets for row in rows if row.bucket == 0) != buckets:
            writer.set_buckets(level, buckets)
        writer.even_out([level], actor=actor)
    return StockLevel.objects.select_related("warehouse").get(product_id=product_id, warehouse_id=level[1])


def rebalance_hot_levels(*, actor: str = SYSTEM_ACTOR) -> int:
    """Even out every hot level whose rows drifted apart (`allocation.uneven`), each in its
    own transaction; how many were evened."""
    evened = 0
    for level, rows, buckets in _hot_levels():
        if allocation.uneven(rows, buckets):
            with transaction.atomic():
                store.current().even_out([level], actor=actor)
            evened += 1
    return evened


def _hot_levels() -> list[tuple[LevelKey, list[tuple[int, int]], int]]:
    """Each level with more than one row: its (bucket, free stock) rows and its N, read without locks."""
    spread = StockRow.objects.filter(Q(bucket__gt=0) | Q(buckets__gt=1)).values("product_id", "warehouse_id")
    found: dict[LevelKey, tuple[list[tuple[int, int]], list[int]]] = {}
    rows = (
        StockRow.objects.filter(product_id__in=spread.values("product_id"))
        .order_by("product_id", "warehouse_id", "bucket")
        .annotate(free_stock=allocation.FREE_STOCK)
        .values_list("product_id", "warehouse_id", "bucket", "free_stock", "buckets")
    )
    for product_id, warehouse_id, bucket, available, buckets in rows:
        level_rows, level_buckets = found.setdefault((product_id, warehouse_id), ([], []))
        level_rows.append((bucket, available))
        if bucket == 0:
            level_buckets.append(buckets)
    return [
        (level, level_rows, level_buckets[0])
        for level, (level_rows, level_buckets) in found.items()
        if len(level_rows) > 1 and level_buckets
    ]
