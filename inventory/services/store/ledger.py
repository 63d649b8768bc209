"""The ledger entries of the changes a store has just made, in the same transaction.

`write_entries` walks back from each level's new counters (which the transaction that
changed the level knows, holding it locked): each entry's before-values are its
after-values less its own deltas. `announce` writes one JSON line per entry to the
`inventory.stock` logger once the transaction commits.
"""

import logging
from collections.abc import Iterable, Mapping, Sequence

from django.db import connection, transaction

from inventory.models import InventoryLog
from inventory.services.store.types import Counters, LevelKey, Movement

stock_logger = logging.getLogger("inventory.stock")

# The fields of an entry that its JSON log line carries, under their log names.
# The warehouse by its id: its code would cost a query per line.
_LOG_LINE_FIELDS = {field: "log_id" if field == "id" else field for field in InventoryLog.ENTRY_FIELDS}
del _LOG_LINE_FIELDS["created_at"], _LOG_LINE_FIELDS["warehouse"]
_LOG_LINE_FIELDS["warehouse_id"] = "warehouse_id"


def write_entries(movements: Sequence[Movement], *, actor: str, after: Mapping[LevelKey, Counters]) -> None:
    """Insert the entries of `movements`, applied in this order and leaving the levels at `after`."""
    if not connection.in_atomic_block:
        raise RuntimeError("The ledger must be written in the transaction that changed the stock.")
    state = dict(after)
    entries = []
    for movement in reversed(movements):
        entry = entry_of(movement, actor=actor, after=state[movement.level])
        state[movement.level] = (entry.available_before, entry.reserved_before)
        entries.append(entry)
    entries.reverse()
    InventoryLog.objects.bulk_create(entries)
    announce(entries)


def entry_of(movement: Movement, *, actor: str, after: Counters) -> InventoryLog:
    """The ledger entry of `movement` that left its level at `after`: the before-values are the
    after-values less the movement's own deltas."""
    available_after, reserved_after = after
    return InventoryLog(
        product_id=movement.product_id,
        warehouse_id=movement.warehouse_id,
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
    )


def announce(entries: Sequence[InventoryLog]) -> None:
    """Write the JSON lines of these ledger entries once their transaction commits."""
    transaction.on_commit(lambda: _emit_log_lines(entries))


def _emit_log_lines(entries: Iterable[InventoryLog]) -> None:
    for entry in entries:
        stock_logger.info(
            "stock_change", extra={name: getattr(entry, field) for field, name in _LOG_LINE_FIELDS.items()}
        )
