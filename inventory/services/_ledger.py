"""The two primitives every stock change is made of.

1. `guarded_update`: one conditional `UPDATE ... WHERE` built from `F()` expressions.
   The guard (enough stock, the expected version) sits in the `WHERE`; the count of
   rows it changed says whether the change happened. Nothing is read first.
   `guarded_update_many` is the same guard for many rows in one statement (reservation
   batches), returning the rows' new counters.
2. `record`: the ledger entries for the changes just made, with before/after values
   read back from the rows this transaction has just updated (and so holds locked),
   inserted in the same transaction (`write_entries` when the new counters are known
   already). A JSON line per entry goes to the `inventory.stock` logger once the
   transaction commits.

Only the modules of this package call them.
"""

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.db import connection, transaction
from django.db.models import Case, DateTimeField, F, Q, Value, When
from django.db.models.functions import Coalesce, Now
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from inventory import db
from inventory.models import Inventory, InventoryLog

SYSTEM_ACTOR = "system"

stock_logger = logging.getLogger("inventory.stock")


@dataclass(frozen=True)
class Movement:
    """One ledger entry's worth of change to one product's row."""

    product_id: int
    operation: str
    quantity: int
    available_delta: int = 0
    reserved_delta: int = 0
    order_id: str = ""
    reason: str = ""
    reference: str = ""


def guarded_update(
    product_id: int,
    *,
    available_delta: int = 0,
    reserved_delta: int = 0,
    low_stock_threshold: int | None = None,
    expected_version: int | None = None,
) -> bool:
    """Apply the deltas to one product's row if no counter would go below zero.

    Returns whether the row changed. `expected_version` joins the guard only when a
    caller edits what a person saw; stock movements never fail on a version.
    """
    guard = Q(product_id=product_id)
    assignments = {"version": F("version") + 1, "updated_at": Now()}
    new_available = F("available_stock")
    if available_delta:
        new_available = F("available_stock") + available_delta
        assignments["available_stock"] = new_available
        if available_delta < 0:
            guard &= Q(available_stock__gte=-available_delta)
    if reserved_delta:
        assignments["reserved_stock"] = F("reserved_stock") + reserved_delta
        if reserved_delta < 0:
            guard &= Q(reserved_stock__gte=-reserved_delta)
    new_threshold = F("low_stock_threshold")
    if low_stock_threshold is not None:
        new_threshold = Value(low_stock_threshold)
        assignments["low_stock_threshold"] = new_threshold
    if expected_version is not None:
        guard &= Q(version=expected_version)
    assignments["low_stock_since"] = low_stock_since_after(new_available, new_threshold)
    return Inventory.objects.filter(guard).update(**assignments) == 1


# What one row's guarded update adds to (available_stock, reserved_stock), and the
# counters it leaves.
Deltas = tuple[int, int]
Counters = tuple[int, int]


def guarded_update_many(deltas: Mapping[int, Deltas]) -> dict[int, Counters]:
    """Apply (available, reserved) deltas to many products' rows, each only if neither of
    its counters would go below zero; the new counters of the rows that changed.

    Rows are locked in product_id order, as every service locks them.
    """
    if not deltas:
        return {}
    if not db.postgresql_statements():
        changed = [
            product_id
            for product_id in sorted(deltas)
            if guarded_update(product_id, available_delta=deltas[product_id][0], reserved_delta=deltas[product_id][1])
        ]
        return _counters_of(changed)
    product_ids = sorted(deltas)
    rows = db.fetch_all(
        _guarded_update_many_sql(),
        {
            "product_ids": product_ids,
            "available_deltas": [deltas[product_id][0] for product_id in product_ids],
            "reserved_deltas": [deltas[product_id][1] for product_id in product_ids],
        },
    )
    return {product_id: (available, reserved) for product_id, available, reserved in rows}


@cache
def _guarded_update_many_sql() -> str:
    table = Inventory._meta.db_table
    # `locked` takes the row locks in product_id order before the UPDATE, whose join
    # would take them in whatever order its plan visits the rows.
    return f"""
    WITH change AS (
        SELECT * FROM unnest(%(product_ids)s::bigint[], %(available_deltas)s::bigint[], %(reserved_deltas)s::bigint[])
            AS given(product_id, available_delta, reserved_delta)
    ),
    locked AS MATERIALIZED (
        SELECT product_id FROM {table} WHERE product_id = ANY(%(product_ids)s::bigint[]) ORDER BY product_id FOR UPDATE
    )
    UPDATE {table} AS inv
    SET {counter_assignments_sql("change.available_delta", "change.reserved_delta")}
    FROM change
    WHERE inv.product_id = change.product_id
        AND inv.product_id IN (SELECT product_id FROM locked)
        AND inv.available_stock + change.available_delta >= 0
        AND inv.reserved_stock + change.reserved_delta >= 0
    RETURNING inv.product_id, inv.available_stock, inv.reserved_stock
    """  # noqa: S608 (the table name from the model, values bound as parameters)


def _counters_of(product_ids: Iterable[int]) -> dict[int, Counters]:
    rows = Inventory.objects.filter(product_id__in=product_ids).values_list(
        "product_id", "available_stock", "reserved_stock"
    )
    return {product_id: (available, reserved) for product_id, available, reserved in rows}


def counter_assignments_sql(available_delta: str, reserved_delta: str) -> str:
    """The SET list of a hand-written guarded update of the row aliased `inv`, as
    `guarded_update` writes it: the counters moved by the two SQL terms, the version
    bumped, and `low_stock_since` kept, set or cleared (`low_stock_since_after`)."""
    new_available = f"inv.available_stock + {available_delta}"
    return f"""available_stock = {new_available},
        reserved_stock = inv.reserved_stock + {reserved_delta},
        version = inv.version + 1,
        updated_at = now(),
        low_stock_since = CASE
            WHEN {new_available} <= inv.low_stock_threshold THEN COALESCE(inv.low_stock_since, now())
        END"""


def low_stock_since_after(new_available, new_threshold) -> Case:
    """Keep the time an item went low while it stays low; clear it once it is not."""
    return Case(
        When(LessThanOrEqual(new_available, new_threshold), then=Coalesce(F("low_stock_since"), Now())),
        default=Value(None, output_field=DateTimeField()),
    )


def record(movements: Sequence[Movement], *, actor: str) -> dict[int, Inventory]:
    """Write the ledger entries of `movements`, already applied in this order.

    The rows are read after the updates, under the locks this transaction holds, so
    the after-values are exact; each entry's before-values are its after-values less
    its own deltas, walking back from the last entry of each product.
    """
    rows = {row.product_id: row for row in Inventory.objects.filter(product_id__in={m.product_id for m in movements})}
    write_entries(
        movements,
        actor=actor,
        after={product_id: (row.available_stock, row.reserved_stock) for product_id, row in rows.items()},
    )
    return rows


def write_entries(movements: Sequence[Movement], *, actor: str, after: Mapping[int, Counters]) -> None:
    """`record` for callers that hold the rows' new counters (`after`) already."""
    if not connection.in_atomic_block:
        raise RuntimeError("The ledger must be written in the transaction that changed the stock.")
    state = dict(after)
    entries = []
    for movement in reversed(movements):
        available_after, reserved_after = state[movement.product_id]
        available_before = available_after - movement.available_delta
        reserved_before = reserved_after - movement.reserved_delta
        state[movement.product_id] = (available_before, reserved_before)
        entries.append(
            InventoryLog(
                product_id=movement.product_id,
                operation=movement.operation,
                quantity=movement.quantity,
                available_before=available_before,
                available_after=available_after,
                reserved_before=reserved_before,
                reserved_after=reserved_after,
                order_id=movement.order_id,
                actor=actor,
                reason=movement.reason,
                reference=movement.reference,
            )
        )
    entries.reverse()
    InventoryLog.objects.bulk_create(entries)
    announce(entries)


def announce(entries: Sequence[InventoryLog]) -> None:
    """Write the JSON lines of these ledger entries once their transaction commits."""
    transaction.on_commit(lambda: _emit_log_lines(entries))


def _emit_log_lines(entries: Iterable[InventoryLog]) -> None:
    for entry in entries:
        stock_logger.info(
            "stock_change",
            extra={
                "log_id": entry.pk,
                "product_id": entry.product_id,
                "operation": entry.operation,
                "quantity": entry.quantity,
                "available_before": entry.available_before,
                "available_after": entry.available_after,
                "reserved_before": entry.reserved_before,
                "reserved_after": entry.reserved_after,
                "order_id": entry.order_id,
                "actor": entry.actor,
                "reason": entry.reason,
                "reference": entry.reference,
            },
        )


def db_now() -> datetime:
    """The database's clock, which judges expiry for every process alike."""
    if connection.vendor != "postgresql":
        return timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT STATEMENT_TIMESTAMP()")
        return cursor.fetchone()[0]
