"""Back-office changes of stock: create, restock, adjust, threshold."""

from django.db import IntegrityError, transaction

from inventory import limits
from inventory.exceptions import (
    AlreadyExists,
    InvalidInput,
    ProductNotFound,
    SkuInUse,
    StockWouldGoNegative,
    VersionConflict,
)
from inventory.models import Inventory, InventoryLog
from inventory.services import store
from inventory.services._validation import (
    require_figure,
    require_int,
    require_name,
    require_product_id,
    require_quantity,
    require_sku,
)
from inventory.services.store import Movement


def create_inventory(
    *,
    product_id: int,
    actor: str,
    available_stock: int = 0,
    low_stock_threshold: int = limits.DEFAULT_LOW_STOCK_THRESHOLD,
    reason: str = "",
    sku: str = "",
    name: str = "",
) -> Inventory:
    """Create a product's record and its `create` ledger entry.

    AlreadyExists if the product has a record; SkuInUse if another product has the SKU.
    """
    require_product_id(product_id)
    require_figure("available_stock", available_stock)
    require_figure("low_stock_threshold", low_stock_threshold)
    require_sku(sku)
    require_name(name)
    writer = store.current()
    try:
        with transaction.atomic():
            writer.create_row(
                product_id=product_id,
                available_stock=available_stock,
                low_stock_threshold=low_stock_threshold,
                sku=sku,
                name=name,
            )
            movement = Movement(
                product_id=product_id,
                operation=InventoryLog.Operation.CREATE,
                quantity=available_stock,
                available_delta=available_stock,
                reason=reason,
            )
            return writer.record([movement], actor=actor)[product_id]
    except IntegrityError:
        if Inventory.objects.filter(product_id=product_id).exists():
            raise AlreadyExists(product_id) from None
        if sku and Inventory.objects.filter(sku=sku).exists():
            raise SkuInUse(sku) from None
        raise


def restock(*, product_id: int, quantity: int, actor: str, reason: str = "", reference: str = "") -> Inventory:
    """Goods received: add `quantity` to available stock."""
    require_product_id(product_id)
    require_quantity(quantity)
    movement = Movement(
        product_id=product_id,
        operation=InventoryLog.Operation.RESTOCK,
        quantity=quantity,
        available_delta=quantity,
        reason=reason,
        reference=reference,
    )
    return _change_row(product_id, movement, actor=actor, available_delta=quantity)


def adjust_stock(
    *,
    product_id: int,
    reason: str,
    actor: str,
    delta: int | None = None,
    counted: int | None = None,
    expected_version: int | None = None,
    reference: str = "",
) -> Inventory:
    """A stock-take correction of available stock, by `delta` or to a `counted` figure.

    A counted figure is turned into a delta under the row lock, so the change is the
    same guarded update either way; `expected_version` makes it fail rather than
    overwrite a change the person did not see. A delta of 0 is a count that
    confirmed the figure: it is recorded like any other adjustment.
    """
    require_product_id(product_id)
    if (delta is None) == (counted is None):
        raise InvalidInput("Give exactly one of delta and counted.")
    if not reason or not reason.strip():
        raise InvalidInput("An adjustment needs a reason.", reason="This field is required.")
    if expected_version is not None:
        require_int("expected_version", expected_version, minimum=1, maximum=limits.MAX_VERSION)
    writer = store.current()
    with transaction.atomic():
        if counted is not None:
            require_figure("counted", counted)
            delta = counted - _locked_row(writer, product_id, expected_version).available_stock
        else:
            require_int("delta", delta, minimum=-limits.MAX_QUANTITY, maximum=limits.MAX_QUANTITY)
        if not writer.update_row(product_id, available_delta=delta, expected_version=expected_version):
            row = _current_row(product_id, expected_version)
            raise StockWouldGoNegative(product_id, row.available_stock, delta)
        movement = Movement(
            product_id=product_id,
            operation=InventoryLog.Operation.ADJUST,
            quantity=delta,
            available_delta=delta,
            reason=reason,
            reference=reference,
        )
        return writer.record([movement], actor=actor)[product_id]


def set_low_stock_threshold(
    *,
    product_id: int,
    low_stock_threshold: int,
    actor: str,
    expected_version: int | None = None,
    reason: str = "",
) -> Inventory:
    """Change the level at or below which the item counts as low on stock."""
    require_product_id(product_id)
    require_figure("low_stock_threshold", low_stock_threshold)
    movement = Movement(
        product_id=product_id,
        operation=InventoryLog.Operation.THRESHOLD,
        quantity=low_stock_threshold,
        reason=reason,
    )
    return _change_row(
        product_id,
        movement,
        actor=actor,
        low_stock_threshold=low_stock_threshold,
        expected_version=expected_version,
    )


def _change_row(product_id: int, movement: Movement, *, actor: str, **update) -> Inventory:
    """One guarded update of the product's row and its ledger entry; the row as it now is.

    When the update changed nothing, the row explains why (no product, a stale version).
    """
    writer = store.current()
    with transaction.atomic():
        if not writer.update_row(product_id, **update):
            _current_row(product_id, update.get("expected_version"))
            raise RuntimeError(f"The guarded update of product {product_id} changed no row.")
        return writer.record([movement], actor=actor)[product_id]


def _locked_row(writer: store.OrmStore, product_id: int, expected_version: int | None) -> Inventory:
    row = writer.locked_row(product_id)
    if row is None:
        raise ProductNotFound(product_id)
    if expected_version is not None and row.version != expected_version:
        raise VersionConflict(row.version)
    return row


def _current_row(product_id: int, expected_version: int | None) -> Inventory:
    """Read the row after a guarded update changed nothing, raising what explains it."""
    row = Inventory.objects.filter(product_id=product_id).first()
    if row is None:
        raise ProductNotFound(product_id)
    if expected_version is not None and row.version != expected_version:
        raise VersionConflict(row.version)
    return row
