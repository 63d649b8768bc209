"""Back-office changes of stock: create, restock, adjust, threshold, each of one level
(a product in a warehouse; the `default` warehouse unless the caller names another)."""

from django.db import IntegrityError, transaction

from inventory import limits
from inventory.exceptions import (
    AlreadyExists,
    InvalidInput,
    ProductNotFound,
    SkuInUse,
    StockWouldGoNegative,
    VersionConflict,
    WarehouseNotFound,
)
from inventory.models import Inventory, InventoryLog, StockLevel, Warehouse
from inventory.services import store
from inventory.services._validation import (
    require_figure,
    require_int,
    require_location_code,
    require_name,
    require_product_id,
    require_quantity,
    require_sku,
)
from inventory.services.store import LevelKey, Movement


def create_inventory(
    *,
    product_id: int,
    actor: str,
    available_stock: int = 0,
    low_stock_threshold: int = limits.DEFAULT_LOW_STOCK_THRESHOLD,
    reason: str = "",
    sku: str = "",
    name: str = "",
    warehouse: str = limits.DEFAULT_WAREHOUSE,
) -> Inventory:
    """Create a product's record, its level in `warehouse` and the level's `create` entry.

    AlreadyExists if the product has a record; SkuInUse if another product has the SKU.
    """
    require_product_id(product_id)
    require_figure("available_stock", available_stock)
    require_figure("low_stock_threshold", low_stock_threshold)
    require_sku(sku)
    require_name(name)
    writer = store.current()
    warehouse_id = warehouse_id_of(warehouse)
    try:
        with transaction.atomic():
            writer.create_product(product_id=product_id, sku=sku, name=name)
            _create_level(
                writer,
                (product_id, warehouse_id),
                actor=actor,
                available_stock=available_stock,
                low_stock_threshold=low_stock_threshold,
                reason=reason,
            )
    except IntegrityError:
        if Inventory.products.filter(product_id=product_id).exists():
            raise AlreadyExists(product_id) from None
        if sku and Inventory.products.filter(sku=sku).exists():
            raise SkuInUse(sku) from None
        raise
    return _record(product_id)


def restock(
    *,
    product_id: int,
    quantity: int,
    actor: str,
    reason: str = "",
    reference: str = "",
    warehouse: str = limits.DEFAULT_WAREHOUSE,
) -> Inventory:
    """Goods received in `warehouse`: add `quantity` to its available stock."""
    require_product_id(product_id)
    require_quantity(quantity)
    level = (product_id, warehouse_id_of(warehouse))
    movement = Movement(
        product_id=product_id,
        warehouse_id=level[1],
        operation=InventoryLog.Operation.RESTOCK,
        quantity=quantity,
        available_delta=quantity,
        reason=reason,
        reference=reference,
    )
    return _change_level(level, movement, actor=actor, available_delta=quantity)


def adjust_stock(
    *,
    product_id: int,
    reason: str,
    actor: str,
    delta: int | None = None,
    counted: int | None = None,
    expected_version: int | None = None,
    reference: str = "",
    warehouse: str = limits.DEFAULT_WAREHOUSE,
) -> Inventory:
    """A stock-take correction of a level's available stock, by `delta` or to a `counted` figure.

    A counted figure is turned into a delta under the level's lock, so the change is
    the same guarded update either way; `expected_version` (the level's) makes it fail
    rather than overwrite a change the person did not see. A delta of 0 is a count that
    confirmed the figure: it is recorded like any other adjustment.
    """
    require_product_id(product_id)
    if (delta is None) == (counted is None):
        raise InvalidInput("Give exactly one of delta and counted.")
    if not reason or not reason.strip():
        raise InvalidInput("An adjustment needs a reason.", reason="This field is required.")
    if expected_version is not None:
        require_int("expected_version", expected_version, minimum=1, maximum=limits.MAX_VERSION)
    if counted is not None:
        require_figure("counted", counted)
    else:
        require_int("delta", delta, minimum=-limits.MAX_QUANTITY, maximum=limits.MAX_QUANTITY)
    level = (product_id, warehouse_id_of(warehouse))
    writer = store.current()
    with transaction.atomic():
        ensure_level(writer, level, actor=actor)
        if counted is not None:
            delta = counted - _locked_level(writer, level, expected_version).available_stock
        if not writer.update_level(level, available_delta=delta, expected_version=expected_version):
            row = _current_level(level, expected_version)
            raise StockWouldGoNegative(product_id, row.available_stock, delta)
        movement = Movement(
            product_id=product_id,
            warehouse_id=level[1],
            operation=InventoryLog.Operation.ADJUST,
            quantity=delta,
            available_delta=delta,
            reason=reason,
            reference=reference,
        )
        writer.record([movement], actor=actor)
    return _record(product_id)


def set_low_stock_threshold(
    *,
    product_id: int,
    low_stock_threshold: int,
    actor: str,
    expected_version: int | None = None,
    reason: str = "",
    warehouse: str = limits.DEFAULT_WAREHOUSE,
) -> Inventory:
    """Change the level at or below which the product counts as low on stock in `warehouse`."""
    require_product_id(product_id)
    require_figure("low_stock_threshold", low_stock_threshold)
    if expected_version is not None:
        require_int("expected_version", expected_version, minimum=1, maximum=limits.MAX_VERSION)
    level = (product_id, warehouse_id_of(warehouse))
    movement = Movement(
        product_id=product_id,
        warehouse_id=level[1],
        operation=InventoryLog.Operation.THRESHOLD,
        quantity=low_stock_threshold,
        reason=reason,
    )
    return _change_level(
        level,
        movement,
        actor=actor,
        low_stock_threshold=low_stock_threshold,
        expected_version=expected_version,
    )


def warehouse_id_of(code: str) -> int:
    """The id of the warehouse with this code; WarehouseNotFound if none has it."""
    require_location_code("warehouse", code)
    found = Warehouse.objects.filter(code=code).values_list("id", flat=True).first()
    if found is None:
        raise WarehouseNotFound(code)
    return found


def _change_level(level: LevelKey, movement: Movement, *, actor: str, **update) -> Inventory:
    """One guarded update of a level and its ledger entry; the product's record as it now is.

    When the update changed nothing, the level explains why (no product, a stale version).
    """
    writer = store.current()
    with transaction.atomic():
        ensure_level(writer, level, actor=actor)
        if not writer.update_level(level, **update):
            _current_level(level, update.get("expected_version"))
            raise RuntimeError(f"The guarded update of level {level} changed no row.")
        writer.record([movement], actor=actor)
    return _record(level[0])


def ensure_level(writer: store.OrmStore, level: LevelKey, *, actor: str) -> None:
    """A product's first stock in a warehouse opens its level there (with a `create` entry of 0).

    ProductNotFound when there is no such product. Two callers opening one level at
    once: the loser's savepoint rolls back, and it finds the winner's level.
    """
    product_id, warehouse_id = level
    if StockLevel.objects.filter(product_id=product_id, warehouse_id=warehouse_id).exists():
        return
    if not Inventory.products.filter(product_id=product_id).exists():
        raise ProductNotFound(product_id)
    try:
        with transaction.atomic():
            _create_level(writer, level, actor=actor)
    except IntegrityError:
        if not StockLevel.objects.filter(product_id=product_id, warehouse_id=warehouse_id).exists():
            raise


def _create_level(
    writer: store.OrmStore,
    level: LevelKey,
    *,
    actor: str,
    available_stock: int = 0,
    low_stock_threshold: int = limits.DEFAULT_LOW_STOCK_THRESHOLD,
    reason: str = "",
) -> None:
    product_id, warehouse_id = level
    writer.create_level(
        product_id=product_id,
        warehouse_id=warehouse_id,
        available_stock=available_stock,
        low_stock_threshold=low_stock_threshold,
    )
    movement = Movement(
        product_id=product_id,
        warehouse_id=warehouse_id,
        operation=InventoryLog.Operation.CREATE,
        quantity=available_stock,
        available_delta=available_stock,
        reason=reason,
    )
    writer.record([movement], actor=actor)


def _record(product_id: int) -> Inventory:
    return Inventory.objects.get(product_id=product_id)


def _locked_level(writer: store.OrmStore, level: LevelKey, expected_version: int | None) -> StockLevel:
    row = writer.locked_level(level)
    if row is None:
        raise ProductNotFound(level[0])
    if expected_version is not None and row.version != expected_version:
        raise VersionConflict(row.version)
    return row


def _current_level(level: LevelKey, expected_version: int | None) -> StockLevel:
    """Read the level after a guarded update changed nothing, raising what explains it."""
    product_id, warehouse_id = level
    row = StockLevel.objects.filter(product_id=product_id, warehouse_id=warehouse_id).first()
    if row is None:
        raise ProductNotFound(product_id)
    if expected_version is not None and row.version != expected_version:
        raise VersionConflict(row.version)
    return row
