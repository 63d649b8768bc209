"""Made-up ledger history over past days: consistent chains per stock row, with the days set.

The log is append-only and `created_at` is the database's `now()`, so a history over
several days is written with `bulk_create`: each row's entries start where the one before
ended and end with nothing reserved, its counters are set to where its chain ends, and
`verify_ledger` finds nothing to say.
"""

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from inventory.models import Inventory, InventoryLog, LogOperation, StockRow
from inventory.selectors.snapshots import day_end


@dataclass
class Row:
    product_id: int
    warehouse_id: int
    bucket: int
    available: int = 0
    reserved: int = 0
    entries: list[InventoryLog] = field(default_factory=list)

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.product_id, self.warehouse_id, self.bucket)

    def entry(self, operation: str, quantity: int, moment: datetime, *, available: int, reserved: int) -> InventoryLog:
        made = InventoryLog(
            product_id=self.product_id,
            warehouse_id=self.warehouse_id,
            bucket=self.bucket,
            operation=operation,
            quantity=quantity,
            available_before=self.available,
            available_after=available,
            reserved_before=self.reserved,
            reserved_after=reserved,
            actor="history",
            created_at=moment,
        )
        self.available, self.reserved = available, reserved
        self.entries.append(made)
        return made

    def random_move(self, rng: random.Random, moment: datetime) -> InventoryLog:
        units = rng.randint(1, 5)
        if self.entries == []:
            return self.entry(LogOperation.CREATE, units, moment, available=units, reserved=0)
        choices = [LogOperation.RESTOCK]
        if self.available >= units:
            choices.append(LogOperation.RESERVE)
        if self.reserved >= units:
            choices += [LogOperation.RELEASE, LogOperation.DEDUCT]
        operation = rng.choice(choices)
        available, reserved = {
            LogOperation.RESTOCK: (self.available + units, self.reserved),
            LogOperation.RESERVE: (self.available - units, self.reserved + units),
            LogOperation.RELEASE: (self.available + units, self.reserved - units),
            LogOperation.DEDUCT: (self.available, self.reserved - units),
        }[operation]
        return self.entry(operation, units, moment, available=available, reserved=reserved)

    def figures_at(self, end: datetime) -> tuple[int, int]:
        """The replay's answer: the after-figures of the row's newest entry (by id) created before `end`."""
        before = [entry for entry in self.entries if entry.created_at < end]
        if not before:
            return (0, 0)
        newest = max(before, key=lambda entry: entry.pk)
        return (newest.available_after, newest.reserved_after)


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def make_rows(levels: dict[tuple[int, int], int]) -> list[Row]:
    """Products and their levels' rows ({(product_id, warehouse_id): buckets})."""
    rows = []
    for (product_id, warehouse_id), buckets in levels.items():
        Inventory.products.get_or_create(product_id=product_id)
        rows += [Row(product_id, warehouse_id, bucket) for bucket in range(buckets)]
    return rows


def write(rows: list[Row], entries: list[InventoryLog], opened: date) -> None:
    """Store the entries (ids in list order) and the rows at the end of their chains."""
    InventoryLog.objects.bulk_create(entries)
    buckets = {}
    for row in rows:
        buckets[(row.product_id, row.warehouse_id)] = max(
            buckets.get((row.product_id, row.warehouse_id), 0), row.bucket + 1
        )
    for row in rows:
        StockRow.objects.update_or_create(
            product_id=row.product_id,
            warehouse_id=row.warehouse_id,
            bucket=row.bucket,
            defaults={
                "available_stock": row.available,
                "reserved_stock": row.reserved,
                "buckets": buckets[(row.product_id, row.warehouse_id)] if row.bucket == 0 else 1,
                "low_stock_threshold": 0,
                "created_at": at(opened, 0),
            },
        )


def random_history(rows: list[Row], days: list[date], rng: random.Random, moves_per_day: int) -> list[InventoryLog]:
    """Random moves of random rows on each day (at random times of the day), every chain ending unreserved."""
    entries = []
    for day in days:
        for _ in range(moves_per_day):
            row = rng.choice(rows)
            moment = at(day, rng.randrange(24), rng.randrange(60))
            entries.append(row.random_move(rng, moment))
    last = days[-1]
    for row in rows:
        if row.reserved:
            entries.append(
                row.entry(
                    LogOperation.RELEASE,
                    row.reserved,
                    at(last, 23, 30),
                    available=row.available + row.reserved,
                    reserved=0,
                )
            )
    return entries


def expected_levels(rows: list[Row], day: date, opened: date) -> dict[tuple[int, int], tuple[int, int]]:
    """Each level's (available, reserved) at the end of `day` by the replay; none before they opened."""
    levels: dict[tuple[int, int], tuple[int, int]] = {}
    if day < opened:
        return levels
    for row in rows:
        available, reserved = row.figures_at(day_end(day))
        was = levels.get((row.product_id, row.warehouse_id), (0, 0))
        levels[(row.product_id, row.warehouse_id)] = (was[0] + available, was[1] + reserved)
    return levels


def days_back(count: int, *, ending: date) -> list[date]:
    return [ending - timedelta(days=offset) for offset in range(count - 1, -1, -1)]
