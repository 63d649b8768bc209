"""Back-office changes of stock: create, restock, adjust, threshold."""

from django.db import IntegrityError, transaction
from django.db.models.functions import Now

from inventory import limits
from inventory.exceptions import (
    AlreadyExists,
    InvalidInput,
    ProductNotFound,
    StockWouldGoNegative,
    VersionConflict,
)
from inventory.models import Inventory, InventoryLog
from inventory.services._ledger import Movement, guarded_update, record
from inventory.services._validation import require_int, require_product_id, require_quantity


def create_inventory(
    *,
    product_id: int,
    actor: str,
    available_stock: int = 0,
    low_stock_threshold: int = limits.DEFAULT_LOW_STOCK_THRESHOLD,
    reason: str = "",
) -> Inventory:
    """Create a product's record and its `create` ledger entry; AlreadyExists if it has one."""
    require_product_id(product_id)
    require_int("available_stock", available_stock, minimum=0, maximum=limits.MAX_QUANTITY)
    require_int("low_stock_threshold", low_stock_threshold, minimum=0, maximum=limits.MAX_QUANTITY)
    try:
        with transaction.atomic():
            Inventory.objects.create(
                product_id=product_id,
                available_stock=available_stock,
                low_stock_threshold=low_stock_threshold,
                low_stock_since=Now() if available_stock <= low_stock_threshold else None,
            )
            movement = Movement(
                product_id=product_id,
                operation=InventoryLog.Operation.CREATE,
                quantity=available_stock,
                available_delta=available_stock,
                reason=reason,
            )
            return record([movement], actor=actor)[product_id]
    except IntegrityError:
        if Inventory.objects.filter(product_id=product_id).exists():
            raise AlreadyExists(product_id) from None
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
    with transaction.atomic():
        if not guarded_update(product_id, available_delta=quantity):
            raise ProductNotFound(product_id)
        return record([movement], actor=actor)[product_id]


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
    overwrite a change the person did not see.
    """
    require_product_id(product_id)
    if (delta is None) == (counted is None):
        raise InvalidInput("Give exactly one of delta and counted.")
    if not reason or not reason.strip():
        raise InvalidInput("An adjustment needs a reason.", reason="This field is required.")
    if expected_version is not None:
        require_int("expected_version", expected_version, minimum=1, maximum=2**63 - 1)
    with transaction.atomic():
        if counted is not None:
            require_int("counted", counted, minimum=0, maximum=limits.MAX_QUANTITY)
            delta = counted - _locked_row(product_id, expected_version).available_stock
        else:
            require_int("delta", delta, minimum=-limits.MAX_QUANTITY, maximum=limits.MAX_QUANTITY)
        if not guarded_update(product_id, available_delta=delta, expected_version=expected_version):
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
        return record([movement], actor=actor)[product_id]


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
    require_int("low_stock_threshold", low_stock_threshold, minimum=0, maximum=limits.MAX_QUANTITY)
    movement = Movement(
        product_id=product_id,
        operation=InventoryLog.Operation.THRESHOLD,
        quantity=low_stock_threshold,
        reason=reason,
    )
    with transaction.atomic():
        if not guarded_update(product_id, low_stock_threshold=low_stock_threshold, expected_version=expected_version):
            _current_row(product_id, expected_version)
            raise RuntimeError(f"The threshold update of product {product_id} changed no row.")
        return record([movement], actor=actor)[product_id]


def _locked_row(product_id: int, expected_version: int | None) -> Inventory:
    try:
        row = Inventory.objects.select_for_update().get(product_id=product_id)
    except Inventory.DoesNotExist:
        raise ProductNotFound(product_id) from None
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
