"""Filling backorders as goods arrive (分批发货): the lowest layer of pre-sale.

Every arrival of stock at a level (a purchase-order receipt, a restock, a transfer's
receipt) calls `fill_backorders` in its own transaction, after its units are in the
level's own row and before a hot level's rows are evened out, under the level locks it
holds: the arrived units go to the level's open backorders, oldest first, each fill one
guarded update of the own row (the one guard of `store/counters.py`: never below the
units quotas set aside) and one `backorder_fill` entry naming the order and the
backorder. The units leave available stock as a sale: the pre-sale order was paid when
it was placed, and the fill is the batch shipped to the customer. Apart from
`presales.py` so that the stock services can call it without importing the pre-sale
services, which build on them.

Locks: the level's stock rows (the caller's), then the backorder rows (by id).
"""

from collections.abc import Mapping

from django.db.models import F, Q
from django.db.models.functions import Now

from inventory.models import Backorder, InventoryLog
from inventory.services import store
from inventory.services.store import LevelKey, Movement

Status = Backorder.Status


def fill_backorders(
    writer: store.OrmStore, arrived: Mapping[LevelKey, int], *, actor: str, reason: str = "", reference: str = ""
) -> None:
    """Ship units that just arrived (per locked level, in its own row) to the level's open
    backorders, oldest first; at most what arrived, at most what each still waits for.

    The entries carry the arrival's `reason` and `reference`, so a batch says what brought it.
    """
    levels = Q(pk__in=[])
    for product_id, warehouse_id in arrived:
        levels |= Q(product_id=product_id, warehouse_id=warehouse_id)
    waiting = list(Backorder.objects.select_for_update().filter(levels, status=Status.OPEN).order_by("id"))
    left = dict(arrived)
    movements = []
    for backorder in waiting:
        level = (backorder.product_id, backorder.warehouse_id)
        units = min(left[level], backorder.quantity - backorder.filled)
        if units <= 0:
            continue
        # Row 0 has just gained what arrived, so only a bug can find the units short.
        if not writer.update_row((*level, 0), available_delta=-units):
            raise RuntimeError(f"The units that arrived at level {level} are not in its own row.")
        _filled(backorder, units)
        left[level] -= units
        movements.append(
            Movement(
                product_id=backorder.product_id,
                warehouse_id=backorder.warehouse_id,
                operation=InventoryLog.Operation.BACKORDER_FILL,
                quantity=units,
                available_delta=-units,
                order_id=backorder.order_id,
                reason=reason,
                reference=reference,
                backorder_id=backorder.pk,
            )
        )
    if movements:
        writer.record(movements, actor=actor)


def _filled(backorder: Backorder, units: int) -> None:
    """`units` more of a locked open backorder came: filled once it has every unit."""
    shipped = Backorder.objects.filter(pk=backorder.pk, status=Status.OPEN, filled__lte=F("quantity") - units).update(
        filled=F("filled") + units,
        status=Status.FILLED if backorder.filled + units == backorder.quantity else Status.OPEN,
        updated_at=Now(),
    )
    if shipped != 1:
        raise RuntimeError(f"Backorder {backorder.pk} changed under its lock.")
