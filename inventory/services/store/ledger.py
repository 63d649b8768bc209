"""The ledger entries of the changes a store has just made, in the same transaction.

`write_entries` walks back from each row's new counters (which the transaction that
changed the level knows, holding it locked): each entry's before-values are its
after-values less its own deltas. `announce` writes one JSON line per entry to the
`inventory.stock` logger once the transaction commits; a batch job's entries, one line
per batch when INVENTORY_BATCH_LOG_LINES is "summary" (the ledger keeps every entry).
"""

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from django.conf import settings
from django.db import connection, transaction

from inventory.models import InventoryLog
from inventory.services.store.types import Counters, Movement, RowKey

stock_logger = logging.getLogger("inventory.stock")

# The fields of an entry that its JSON log line carries, under their log names.
# The warehouse by its id: its code would cost a query per line.
_LOG_LINE_FIELDS = {field: "log_id" if field == "id" else field for field in InventoryLog.ENTRY_FIELDS}
del _LOG_LINE_FIELDS["created_at"], _LOG_LINE_FIELDS["warehouse"]
_LOG_LINE_FIELDS["warehouse_id"] = "warehouse_id"
_LOG_LINE_FIELDS.update(quota_id="quota_id", allotted_change="allotted_change", backorder_id="backorder_id")


def write_entries(
    movements: Sequence[Movement], *, actor: str, after: Mapping[RowKey, Counters], batch_job: bool = False
) -> None:
    """Insert the entries of `movements`, applied in this order and leaving the rows at `after`."""
    if not connection.in_atomic_block:
        raise RuntimeError("The ledger must be written in the transaction that changed the stock.")
    state = dict(after)
    entries = []
    for movement in reversed(movements):
        entry = entry_of(movement, actor=actor, after=state[movement.row])
        state[movement.row] = (entry.available_before, entry.reserved_before)
        entries.append(entry)
    entries.reverse()
    InventoryLog.objects.bulk_create(entries)
    announce(entries, batch_job=batch_job)


def entry_of(movement: Movement, *, actor: str, after: Counters) -> InventoryLog:
    """The ledger entry of `movement` that left its row at `after`: the before-values are the
    after-values less the movement's own deltas."""
    available_after, reserved_after = after
    return InventoryLog(
        product_id=movement.product_id,
        warehouse_id=movement.warehouse_id,
        bucket=movement.bucket,
        operation=movement.operation,
        quantity=movement.quantity,
        available_before=available_after - movement.available_delta,
        available_after=available_after,
        reserved_before=reserved_after - movement.reserved_delta,
        reserved_after=reserved_after,
        order_id=movement.order_id,
        actor=actor,
        reason=movement.reason,
        reference=movement.reference,
        quota_id=movement.quota_id,
        allotted_change=movement.allotted_delta,
        backorder_id=movement.backorder_id,
    )


def announce(entries: Sequence[InventoryLog], *, batch_job: bool = False) -> None:
    """Write the JSON lines of these ledger entries once their transaction commits.

    One `stock_change` line per entry; for the entries of one batch of a job
    (`batch_job`, e.g. the expiry of overdue holds), one `stock_batch` line instead
    when INVENTORY_BATCH_LOG_LINES is "summary".
    """
    if not entries:
        return
    summarised = batch_job and settings.INVENTORY_BATCH_LOG_LINES == "summary"
    emit = _emit_batch_lines if summarised else _emit_log_lines
    transaction.on_commit(lambda: emit(entries))


def _emit_log_lines(entries: Iterable[InventoryLog]) -> None:
    for entry in entries:
        stock_logger.info(
            "stock_change", extra={name: getattr(entry, field) for field, name in _LOG_LINE_FIELDS.items()}
        )


def _emit_batch_lines(entries: Iterable[InventoryLog]) -> None:
    """One line per operation and actor of a batch: how many entries and units, over how many
    products and warehouses, and the range of log ids that holds them all (the ledger has each;
    other changes committed meanwhile may have ids inside the range too)."""
    batches: dict[tuple[str, str], list[InventoryLog]] = defaultdict(list)
    for entry in entries:
        batches[entry.operation, entry.actor].append(entry)
    for (operation, actor), batch in batches.items():
        log_ids = [entry.id for entry in batch]
        stock_logger.info(
            "stock_batch",
            extra={
                "operation": operation,
                "actor": actor,
                "entries": len(batch),
                "quantity": sum(entry.quantity for entry in batch),
                "products": len({entry.product_id for entry in batch}),
                "warehouses": len({entry.warehouse_id for entry in batch}),
                "first_log_id": min(log_ids),
                "last_log_id": max(log_ids),
            },
        )
