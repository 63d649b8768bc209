"""The daily snapshot of every stock row (issue 18): what the ledger says each row held at a day's end.

A row is stored for a day when one of its entries was created that day, or, in the
first snapshot ever, whatever its last entry: a snapshot of every level, stored as what
changed. A row's figures at a day's end are the after-figures of its newest entry (by
id: a row's lock orders its entries) created before that end; an entry belongs to the
day its transaction started (`created_at` is `now()`). Nothing here changes stock.
"""

from datetime import UTC, date, datetime, timedelta
from itertools import islice

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from inventory import limits
from inventory.exceptions import InvalidInput
from inventory.models import InventoryLog, StockSnapshot
from inventory.selectors.snapshots import ROW, day_end, day_start


def yesterday() -> date:
    return timezone.now().astimezone(UTC).date() - timedelta(days=1)


def take_snapshot(day: date | None = None) -> int:
    """Snapshot the rows `day` (default: yesterday, UTC) changed; the count of rows added.

    Idempotent per day: a second run finds the rows stored and adds none (an entry that
    committed late, after the first run, adds its row). Refuses a day not over yet (InvalidInput).
    """
    day = yesterday() if day is None else day
    # A day not over could still change; the calendar's first has no grace before it to read.
    if not date.min < day <= yesterday():
        raise InvalidInput(f"Only a day that is over (UTC) can be snapshotted, not {day}.", day=str(day))
    end = day_end(day)
    with transaction.atomic():
        before = StockSnapshot.objects.filter(day=day).count()
        snapshots = _snapshots(day, end, first=not StockSnapshot.objects.exists())
        # In batches: bulk_create would hold the first snapshot (every row) in memory at once.
        while batch := list(islice(snapshots, limits.SNAPSHOT_BATCH_SIZE)):
            StockSnapshot.objects.bulk_create(batch, ignore_conflicts=True)
        return StockSnapshot.objects.filter(day=day).count() - before


def _snapshots(day: date, end: datetime, *, first: bool):
    """One snapshot per row the day changed (every row, the first time), from its newest entry before `end`."""
    entries = InventoryLog.objects.filter(created_at__lt=end)
    if not first:
        # The created_at index bounds the read to the day (and its grace): never the whole ledger.
        entries = entries.filter(created_at__gte=day_start(day) - limits.SNAPSHOT_LATE_ENTRY_GRACE)
    newest = entries.order_by().values(*ROW).annotate(last_id=Max("id"), last_created=Max("created_at"))
    if not first:
        # Rows whose entries all lie in the grace belong to the day before.
        newest = newest.filter(last_created__gte=day_start(day))
    figures = InventoryLog.objects.filter(id__in=newest.values("last_id")).values_list(
        *ROW, "available_after", "reserved_after", "id"
    )
    for product_id, warehouse_id, bucket, available, reserved, entry_id in figures.iterator(
        chunk_size=limits.SNAPSHOT_BATCH_SIZE
    ):
        yield StockSnapshot(
            day=day,
            product_id=product_id,
            warehouse_id=warehouse_id,
            bucket=bucket,
            available=available,
            reserved=reserved,
            last_entry_id=entry_id,
        )
