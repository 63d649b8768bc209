"""The units a quota sets aside on its level's own row, and their ledger entries.

The lowest layer of quotas (`quotas.py` builds the staff's operations on it), apart so
that the stock services can shrink a level's quotas when a count finds units gone
without importing the quota services, which build on them.
"""

from django.db.models import F
from django.db.models.functions import Now

from inventory import limits
from inventory.exceptions import InsufficientStock, ShortLine
from inventory.models import InventoryLog, Quota, StockLevel
from inventory.services import store
from inventory.services.store import LevelKey, Movement, RowKey

Operation = InventoryLog.Operation
Status = Quota.Status


def shrink_for_loss(writer: store.OrmStore, level: LevelKey, missing: int, *, actor: str, reason: str) -> None:
    """Return `missing` set-aside units of a locked level to free stock, from its quotas
    served last first (highest priority number, then the newest): a count found them gone."""
    quotas = list(
        Quota.objects.select_for_update()
        .filter(product_id=level[0], warehouse_id=level[1], status=Status.ACTIVE, allotted__gt=0)
        .order_by("id")
    )
    movements = []
    for quota in sorted(quotas, key=lambda q: (-q.priority, -q.pk)):
        if missing <= 0:
            break
        taken = min(missing, quota.allotted)
        set_aside(writer, quota, -taken, actor=actor)
        update(quota, allotted=quota.allotted - taken)
        movements.append(movement(quota, Operation.QUOTA_RETURN, taken, joined("stock lost in a count", reason)))
        missing -= taken
    if missing > 0:
        raise RuntimeError(f"The quotas of level {level} set aside fewer units than its row says.")
    writer.record(movements, actor=actor)


def set_aside(writer: store.OrmStore, quota: Quota, change: int, *, actor: str) -> None:
    """Move `change` units of the quota's locked level into (or, negative, out of) its set-aside units."""
    if change == 0:
        return
    level = (quota.product_id, quota.warehouse_id)
    if change > 0:
        # A hot level's free units gathered into its own row, which holds what quotas set aside.
        writer.top_up({_own_row(level): change}, actor=actor)
    if not writer.update_row(_own_row(level), allotted_delta=change):
        if change < 0:
            raise RuntimeError(f"The row of level {level} sets aside fewer units than quota {quota.code}.")
        raise InsufficientStock([ShortLine(quota.product_id, change, free_stock(level))])


def update(quota: Quota, **changes) -> None:
    """A locked quota's new figures and terms (the CHECKs keep its units within its quantity)."""
    updated = Quota.objects.filter(pk=quota.pk, status=Status.ACTIVE).update(**changes, updated_at=Now())
    if updated != 1:
        raise RuntimeError(f"Quota {quota.code} changed under its lock.")
    quota.refresh_from_db()


def movement(quota: Quota, operation: str, units: int, reason: str) -> Movement:
    allotted_delta = {Operation.QUOTA_SET: units, Operation.QUOTA_RETURN: -units}.get(operation, 0)
    return Movement(
        product_id=quota.product_id,
        warehouse_id=quota.warehouse_id,
        operation=operation,
        quantity=units,
        allotted_delta=allotted_delta,
        quota_id=quota.pk,
        reason=reason[: limits.MAX_REASON_LENGTH],
        reference=f"quota:{quota.code}",
    )


def free_stock(level: LevelKey) -> int:
    """The level's available stock that no quota sets aside."""
    found = (
        StockLevel.objects.filter(product_id=level[0], warehouse_id=level[1])
        .values_list(F("available_stock") - F("allotted_stock"), flat=True)
        .first()
    )
    return found or 0


def joined(*parts: str) -> str:
    return "; ".join(part for part in parts if part)


def _own_row(level: LevelKey) -> RowKey:
    return (*level, 0)
