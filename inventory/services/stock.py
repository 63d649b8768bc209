"""Back-office changes of stock: create, restock, adjust, threshold, each of one level
(a product in a warehouse; the `default` warehouse unless the caller names another).

Each changes the level's own row (row 0). On a hot level (`hot.py`) a change that
lowers available stock first gathers the units into row 0 from the level's other
rows, and one that adds stock spreads it over the rows again afterwards, all in the
same transaction with their `rebalance` entries.
"""

from django.db import IntegrityError, transaction

from inventory import limits, metrics
from inventory.exceptions import (
    AlreadyExists,
    InvalidInput,
    ProductNotFound,
    SkuInUse,
    StockWouldGoNegative,
    VersionConflict,
    WarehouseNotFound,
)
from inventory.models import Inventory, InventoryLog, StockLevel, StockRow, Warehouse
from inventory.services import quota_units, sold_out, store
from inventory.services._validation import (
    require_figure,
    require_int,
    require_location_code,
    require_name,
    require_product_id,
    require_quantity,
    require_sku,
)
from inventory.services.backorders import fill_backorders
from inventory.services.store import LevelKey, Movement, RowKey


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
    """Goods received in `warehouse`: add `quantity` to its available stock; they fill the
    level's open backorders first (`backorders.fill_backorders`)."""
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
        if counted is not None or expected_version is not None:
            current = _locked_level(writer, level, expected_version)
            if counted is not None:
                delta = counted - current.available_stock
        if delta < 0:
            _cover_loss(writer, level, -delta, actor=actor, reason=reason)
        if not writer.update_row(own_row(level), available_delta=delta):
            raise StockWouldGoNegative(product_id, _current_level(level).available_stock, delta)
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
        writer.even_out([level], actor=actor)
        sold_out.observe([product_id])
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


def _change_level(
    level: LevelKey, movement: Movement, *, actor: str, expected_version: int | None = None, **update
) -> Inventory:
    """One guarded update of a level's own row and its ledger entry (stock added fills the
    level's backorders, and is spread over a hot level's rows); the product's record as it now is.

    `expected_version` (the level's) makes it fail rather than overwrite a change the
    person did not see.
    """
    writer = store.current()
    with transaction.atomic():
        ensure_level(writer, level, actor=actor)
        if expected_version is not None:
            _locked_level(writer, level, expected_version)
        if not writer.update_row(own_row(level), **update):
            raise RuntimeError(f"The guarded update of level {level} changed no row.")
        writer.record([movement], actor=actor)
        if movement.available_delta > 0:
            # Goods that came go to the level's backorders first, from the own row that holds them.
            fill_backorders(
                writer,
                {level: movement.available_delta},
                actor=actor,
                reason=movement.reason,
                reference=movement.reference,
            )
            writer.even_out([level], actor=actor)
            sold_out.observe([level[0]])
    return _record(level[0])


def _cover_loss(writer: store.OrmStore, level: LevelKey, lost: int, *, actor: str, reason: str) -> None:
    """Before a count takes `lost` units out of a level's own row: gather its free units
    there, and where free stock cannot cover the loss, shrink the level's quotas
    (`quotas.shrink_for_loss`): a quota can never promise more than is there."""
    writer.top_up({own_row(level): lost}, actor=actor)
    current = _current_level(level)
    missing = lost - (current.available_stock - current.allotted_stock)
    if 0 < missing <= current.allotted_stock:
        quota_units.shrink_for_loss(writer, level, missing, actor=actor, reason=reason)


def own_row(level: LevelKey) -> RowKey:
    """A level's own row: bucket 0."""
    return (*level, 0)


def ensure_level(writer: store.OrmStore, level: LevelKey, *, actor: str) -> None:
    """A product's first stock in a warehouse opens its level there (with a `create` entry of 0).

    ProductNotFound when there is no such product. Two callers opening one level at
    once: the loser's savepoint rolls back, and it finds the winner's level.
    """
    if _own_row_exists(level):
        return
    if not Inventory.products.filter(product_id=level[0]).exists():
        raise ProductNotFound(level[0])
    try:
        with transaction.atomic():
            _create_level(writer, level, actor=actor)
    except IntegrityError:
        if not _own_row_exists(level):
            raise


def _own_row_exists(level: LevelKey) -> bool:
    product_id, warehouse_id = level
    return StockRow.objects.filter(product_id=product_id, warehouse_id=warehouse_id, bucket=0).exists()


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
    """The level with its rows locked; VersionConflict when its version is not the one expected."""
    found = writer.locked_level(level)
    if found is None:
        raise ProductNotFound(level[0])
    if expected_version is not None and found.version != expected_version:
        metrics.version_conflict()
        raise VersionConflict(found.version)
    return found


def _current_level(level: LevelKey) -> StockLevel:
    product_id, warehouse_id = level
    return StockLevel.objects.get(product_id=product_id, warehouse_id=warehouse_id)
