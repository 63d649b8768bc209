"""The two primitives every stock change is made of.

1. `guarded_update`: one conditional `UPDATE ... WHERE` built from `F()` expressions.
   The guard (enough stock, the expected version) sits in the `WHERE`; the count of
   rows it changed says whether the change happened. Nothing is read first.
2. `record`: the ledger entries for the changes just made, with before/after values
   read back from the rows this transaction has just updated (and so holds locked),
   inserted in the same transaction. A JSON line per entry goes to the
   `inventory.stock` logger once the transaction commits.

Only the modules of this package call them.
"""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Case, DateTimeField, F, Q, Value, When
from django.db.models.functions import Coalesce, Now
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

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
    if not connection.in_atomic_block:
        raise RuntimeError("record() must run in the transaction that changed the stock.")
    rows = {row.product_id: row for row in Inventory.objects.filter(product_id__in={m.product_id for m in movements})}
    state = {product_id: (row.available_stock, row.reserved_stock) for product_id, row in rows.items()}
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
    transaction.on_commit(lambda: _emit_log_lines(entries))
    return rows


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
