"""Pre-sale (预售): units of a level sold ahead of stock, and the backorders of the orders that bought them.

- Staff create a pre-sale (`create_presale`: a product in a warehouse, the units that may
  be sold ahead, its start and end, optionally the purchase order it sells against),
  change its limit (never below what it sold) or its dates (`change_presale`), or end it
  (`end_presale`: no new backorder; the open ones are still filled).
- A reserve line that may backorder sells what free stock lacks ahead of stock on the
  product's open pre-sale (the store's planned path, `OrmStore._book_ahead`); arrivals at
  the level fill the backorders oldest first (`backorders.fill_backorders`).
- `cancel_backorders` cancels what an order's backorders still wait for: the units go back
  to their pre-sales' limits; what was filled stays shipped. Releasing the order's holds
  is `release_reservations`, exactly as before.

Nothing here changes stock, so nothing here writes the ledger: a pre-sale's `sold` and a
backorder's units replay from the backorders and their fill entries (`ledger_discrepancies`).
Locks, as every writer: the levels' stock rows first, then backorder rows (by id), then
pre-sale rows (by id); a reserve takes stock rows, quotas, then pre-sales.
"""

import logging
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Now

from inventory import limits
from inventory.exceptions import (
    BackorderNotFound,
    CodeInUse,
    InvalidInput,
    PreSaleNotActive,
    PreSaleNotFound,
    ProductNotFound,
    PurchaseOrderNotFound,
)
from inventory.models import Backorder, Inventory, PreSale, PurchaseOrder, PurchaseOrderLine
from inventory.selectors.presales import presales
from inventory.services import store
from inventory.services._validation import (
    require_int,
    require_location_code,
    require_order_id,
    require_product_id,
    require_quantity,
    require_window,
)
from inventory.services.stock import ensure_level, warehouse_id_of

Status = PreSale.Status
logger = logging.getLogger("inventory.presales")


def create_presale(
    *,
    code: str,
    product_id: int,
    limit: int,
    starts_at: datetime,
    ends_at: datetime,
    actor: str,
    warehouse: str = limits.DEFAULT_WAREHOUSE,
    purchase_order_id: int | None = None,
) -> PreSale:
    """Let reserves sell up to `limit` units of the product's level in `warehouse` ahead of stock.

    The level is opened if the product has none there yet (so a reserve can lock it). A
    purchase order named must deliver the product to that warehouse.
    """
    require_location_code("code", code)
    require_product_id(product_id)
    require_quantity(limit, "limit")
    warehouse_id = warehouse_id_of(warehouse)
    if not Inventory.products.filter(product_id=product_id).exists():
        raise ProductNotFound(product_id)
    if purchase_order_id is not None:
        _require_supply(purchase_order_id, product_id, warehouse_id)
    writer = store.current()
    with transaction.atomic():
        require_window("A pre-sale", starts_at, ends_at, writer.db_now())
        ensure_level(writer, (product_id, warehouse_id), actor=actor)
        try:
            with transaction.atomic():
                made = PreSale.objects.create(
                    code=code,
                    product_id=product_id,
                    warehouse_id=warehouse_id,
                    limit=limit,
                    purchase_order_id=purchase_order_id,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    actor=actor,
                )
        except IntegrityError:
            raise CodeInUse(code) from None
        _log("presale_created", actor, code=code, product_id=product_id, warehouse=warehouse, limit=limit)
    return get_presale(made.code)


def change_presale(
    *,
    code: str,
    actor: str,
    limit: int | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> PreSale:
    """A new limit (never below what the pre-sale sold already) or new dates of an active pre-sale."""
    if limit is not None:
        require_quantity(limit, "limit")
    with transaction.atomic():
        presale = _locked_active(code)
        require_window("A pre-sale", starts_at or presale.starts_at, ends_at or presale.ends_at, presale.db_now)
        if limit is not None and limit < presale.sold:
            raise InvalidInput(
                f"Pre-sale {code} has sold {presale.sold} units already.", limit=f"At least {presale.sold}."
            )
        terms = {"limit": limit, "starts_at": starts_at, "ends_at": ends_at}
        changed = {
            name: value for name, value in terms.items() if value is not None and getattr(presale, name) != value
        }
        # The guard keeps the limit at or above `sold` (under the lock only a bug can trip it).
        kept = PreSale.objects.filter(pk=presale.pk, sold__lte=changed.get("limit", F("limit")))
        if changed and kept.update(**changed, updated_at=Now()) != 1:
            raise RuntimeError(f"Pre-sale {code} changed under its lock.")
        if changed:
            _log("presale_changed", actor, code=code, fields={name: str(value) for name, value in changed.items()})
    return get_presale(code)


def end_presale(*, code: str, actor: str) -> PreSale:
    """End an active pre-sale now: it takes no new backorder; its open backorders are still filled."""
    with transaction.atomic():
        presale = _locked_active(code)
        PreSale.objects.filter(pk=presale.pk).update(status=Status.ENDED, updated_at=Now())
        _log("presale_ended", actor, code=code)
    return get_presale(code)


def get_presale(code: str) -> PreSale:
    """A pre-sale with its backorders' figures; PreSaleNotFound if there is none."""
    require_location_code("code", code)
    found = presales().filter(code=code).first()
    if found is None:
        raise PreSaleNotFound(code)
    return found


def cancel_backorders(
    *, order_id: str, actor: str, product_id: int | None = None, client_id: int | None = None
) -> list[Backorder]:
    """Cancel what an order's open backorders (of one product, if given) still wait for.

    Their units not yet filled go back to their pre-sales' limits; what was filled stays
    shipped. Filled and cancelled backorders are returned as they are. With `client_id`,
    only that client's order is seen: another's is not found (BackorderNotFound).
    """
    require_order_id(order_id)
    if product_id is not None:
        require_product_id(product_id)
    of_order = Q(order_id=order_id)
    if product_id is not None:
        of_order &= Q(product_id=product_id)
    if client_id is not None:
        of_order &= Q(client_id=client_id)
    writer = store.current()
    with transaction.atomic():
        # The levels first, as a fill takes them: a fill and a cancel of one backorder queue.
        levels = Backorder.objects.filter(of_order, status=Backorder.Status.OPEN).values_list(
            "product_id", "warehouse_id"
        )
        writer.lock_levels(set(levels))
        backorders = list(Backorder.objects.select_for_update().filter(of_order).order_by("id"))
        if not backorders:
            raise BackorderNotFound(order_id, product_id)
        waiting = [backorder for backorder in backorders if backorder.status == Backorder.Status.OPEN]
        _cancel(waiting)
        if waiting:
            _log("backorders_cancelled", actor, order_id=order_id, backorders=[backorder.pk for backorder in waiting])
    return list(Backorder.objects.filter(pk__in=[backorder.pk for backorder in backorders]).order_by("id"))


def _cancel(backorders: list[Backorder]) -> None:
    """Locked open backorders cancelled, their units still to come back in their pre-sales' limits."""
    returned: dict[int, int] = {}
    for backorder in backorders:
        cancelled = Backorder.objects.filter(pk=backorder.pk, status=Backorder.Status.OPEN).update(
            status=Backorder.Status.CANCELLED, updated_at=Now()
        )
        if cancelled != 1:
            raise RuntimeError(f"Backorder {backorder.pk} changed under its lock.")
        returned[backorder.presale_id] = returned.get(backorder.presale_id, 0) + backorder.quantity - backorder.filled
    for presale_id, units in sorted(returned.items()):
        given_back = PreSale.objects.filter(pk=presale_id, sold__gte=units).update(
            sold=F("sold") - units, updated_at=Now()
        )
        if given_back != 1:
            raise RuntimeError(f"Pre-sale {presale_id} sold fewer units than its backorders hold.")


def _locked_active(code: str) -> PreSale:
    require_location_code("code", code)
    presale = PreSale.objects.select_for_update().annotate(db_now=Now()).filter(code=code).first()
    if presale is None:
        raise PreSaleNotFound(code)
    if presale.status != Status.ACTIVE:
        raise PreSaleNotActive(code)
    return presale


def _require_supply(purchase_order_id: int, product_id: int, warehouse_id: int) -> None:
    """The purchase order exists, delivers to the warehouse and lists the product."""
    require_int("purchase_order_id", purchase_order_id, minimum=1, maximum=limits.MAX_PRODUCT_ID)
    order = PurchaseOrder.objects.filter(pk=purchase_order_id).values_list("warehouse_id", flat=True).first()
    if order is None:
        raise PurchaseOrderNotFound(purchase_order_id)
    lists = PurchaseOrderLine.objects.filter(order_id=purchase_order_id, product_id=product_id).exists()
    if order != warehouse_id or not lists:
        raise InvalidInput(
            f"Purchase order {purchase_order_id} does not bring product {product_id} to this warehouse.",
            purchase_order_id="Name an order of this product for this warehouse.",
        )


def _log(event: str, actor: str, **fields: Any) -> None:
    # Once committed: a change that the caller's transaction rolls back was never made.
    transaction.on_commit(lambda: logger.info(event, extra={"actor": actor, **fields}))
