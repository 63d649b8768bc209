"""Warehouses and pools: created, changed and deleted here, by the API and the back office alike.

A code names a warehouse or a pool everywhere and never changes. The pool `all`
(migration 0011) stands for every warehouse that accepts orders, whatever is stored
for it: it is never created, changed or deleted. The warehouse `default`, which every
call that names no warehouse acts on, is never deleted, nor is a warehouse with stock
(or with any history: the log, reservations and transfers name it); taking one out of
allocation is `accepts_orders=False`. Locations have no ledger: each change writes a
JSON line (logger `inventory.locations`) with its actor.
"""

import logging
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from inventory import limits
from inventory.exceptions import CodeInUse, InvalidInput, PoolNotFound, WarehouseNotFound
from inventory.models import Pool, PoolStrategy, Warehouse
from inventory.services._validation import require_int, require_location_code

logger = logging.getLogger("inventory.locations")

# What a person may change of each; the code never changes.
WAREHOUSE_CHANGES = ("name", "region", "latitude", "longitude", "priority", "accepts_orders")
POOL_CHANGES = ("name", "warehouses", "strategy")
# A name or a region: any text but control characters (C0, DEL, C1), as a product's name.


# --- warehouses ---------------------------------------------------------------------


def create_warehouse(
    *,
    code: str,
    actor: str,
    name: str = "",
    region: str = "",
    latitude: float | None = None,
    longitude: float | None = None,
    priority: int = 0,
    accepts_orders: bool = True,
) -> Warehouse:
    """A new warehouse, with no stock; CodeInUse if a warehouse has the code."""
    require_location_code("code", code)
    fields = _warehouse_fields(
        name=name,
        region=region,
        latitude=latitude,
        longitude=longitude,
        priority=priority,
        accepts_orders=accepts_orders,
    )
    try:
        with transaction.atomic():
            # created_at (the database's clock) comes back with the INSERT: RETURNING.
            warehouse = Warehouse.objects.create(code=code, **fields)
    except IntegrityError:
        if Warehouse.objects.filter(code=code).exists():
            raise CodeInUse(code) from None
        raise
    _log("warehouse_created", code, actor, fields)
    return warehouse


def update_warehouse(code: str, /, *, actor: str, **changes: Any) -> Warehouse:
    """Change some of WAREHOUSE_CHANGES; latitude and longitude only together.

    `code` may be among the changes only as it is (a client sending back what it
    read); another code is refused. WarehouseNotFound if no warehouse has `code`.
    """
    require_location_code("code", code)
    fields = _warehouse_fields(**_without_same_code(code, changes, WAREHOUSE_CHANGES))
    with transaction.atomic():
        warehouse = Warehouse.objects.select_for_update().filter(code=code).first()
        if warehouse is None:
            raise WarehouseNotFound(code)
        for name, value in fields.items():
            setattr(warehouse, name, value)
        warehouse.save(update_fields=list(fields))
    _log("warehouse_changed", code, actor, fields)
    return warehouse


def delete_warehouse(code: str, *, actor: str) -> None:
    """Delete a warehouse that never held stock; never `default`.

    Django's PROTECT check finds every level, log entry, reservation and transfer
    committed before the row lock was taken; one committed after it fails its own
    (deferred) foreign key check instead. Either way no stock outlives its warehouse.
    """
    require_location_code("code", code)
    if code == limits.DEFAULT_WAREHOUSE:
        raise InvalidInput(f"The warehouse {code} is never deleted.", code=code)
    with transaction.atomic():
        warehouse = Warehouse.objects.select_for_update().filter(code=code).first()
        if warehouse is None:
            raise WarehouseNotFound(code)
        try:
            warehouse.delete()
        except ProtectedError:
            raise InvalidInput(
                f"The warehouse {code} has held stock, so it is kept: set accepts_orders to false to stop "
                "selling from it.",
                code=code,
            ) from None
    _log("warehouse_deleted", code, actor, {})


def _warehouse_fields(**fields: Any) -> dict[str, Any]:
    """The given fields, checked: each a bound of inventory.limits; latitude and longitude together."""
    checked = dict(fields)
    if "name" in fields:
        checked["name"] = _require_label("name", fields["name"], limits.WAREHOUSE_NAME_MAX_LENGTH)
    if "region" in fields:
        checked["region"] = _require_label("region", fields["region"], limits.REGION_MAX_LENGTH)
    if "priority" in fields:
        require_int("priority", fields["priority"], minimum=limits.MIN_PRIORITY, maximum=limits.MAX_PRIORITY)
    if "accepts_orders" in fields and not isinstance(fields["accepts_orders"], bool):
        raise InvalidInput("accepts_orders must be true or false.", accepts_orders=fields["accepts_orders"])
    if ("latitude" in fields) != ("longitude" in fields):
        raise _one_coordinate()
    if "latitude" in fields:
        checked["latitude"], checked["longitude"] = _coordinates(fields["latitude"], fields["longitude"])
    return checked


def _coordinates(latitude: object, longitude: object) -> tuple[float | None, float | None]:
    if latitude is None and longitude is None:
        return None, None
    if latitude is None or longitude is None:
        raise _one_coordinate()
    return (
        _require_degrees("latitude", latitude, limits.MAX_LATITUDE),
        _require_degrees("longitude", longitude, limits.MAX_LONGITUDE),
    )


def _one_coordinate() -> InvalidInput:
    return InvalidInput("Give latitude and longitude together, or neither.", latitude=None, longitude=None)


def _require_degrees(name: str, value: object, limit: int) -> float:
    # bool is an int in Python; NaN and the infinities fail the comparison.
    if isinstance(value, bool) or not isinstance(value, int | float) or not -limit <= value <= limit:
        raise InvalidInput(f"{name} must be a number from {-limit} to {limit}.", **{name: value})
    return float(value)


# --- pools ------------------------------------------------------------------------------


def create_pool(
    *, code: str, actor: str, name: str = "", warehouses: Iterable[str] = (), strategy: str = PoolStrategy.PRIORITY
) -> Pool:
    """A new pool of the warehouses named by code; CodeInUse if a pool has the code (`all` always exists)."""
    require_location_code("code", code)
    if code == limits.EVERY_WAREHOUSE_POOL:
        raise CodeInUse(code)
    fields = _pool_fields(name=name, warehouses=warehouses, strategy=strategy)
    members = fields.pop("warehouses")
    try:
        with transaction.atomic():
            pool = Pool.objects.create(code=code, **fields)
            pool.warehouses.set(_locked_warehouses(members))
    except IntegrityError:
        if Pool.objects.filter(code=code).exists():
            raise CodeInUse(code) from None
        raise
    _log("pool_created", code, actor, {**fields, "warehouses": members})
    return pool


def update_pool(code: str, /, *, actor: str, **changes: Any) -> Pool:
    """Change some of POOL_CHANGES (`warehouses` replaces the members); never the pool `all`.

    PoolNotFound if no pool has `code`; `code` among the changes as for update_warehouse.
    """
    require_location_code("code", code)
    if code == limits.EVERY_WAREHOUSE_POOL:
        raise _every_warehouse_pool_is_fixed()
    fields = _pool_fields(**_without_same_code(code, changes, POOL_CHANGES))
    members = fields.pop("warehouses", None)
    with transaction.atomic():
        pool = Pool.objects.select_for_update().filter(code=code).first()
        if pool is None:
            raise PoolNotFound(code)
        for name, value in fields.items():
            setattr(pool, name, value)
        pool.save(update_fields=list(fields))
        if members is not None:
            pool.warehouses.set(_locked_warehouses(members))
    _log("pool_changed", code, actor, fields if members is None else {**fields, "warehouses": members})
    return pool


def delete_pool(code: str, *, actor: str) -> None:
    """Delete a pool (its warehouses stay); never `all`. Callers naming it then get pool_not_found."""
    require_location_code("code", code)
    if code == limits.EVERY_WAREHOUSE_POOL:
        raise _every_warehouse_pool_is_fixed()
    deleted, _ = Pool.objects.filter(code=code).delete()
    if not deleted:
        raise PoolNotFound(code)
    _log("pool_deleted", code, actor, {})


def _every_warehouse_pool_is_fixed() -> InvalidInput:
    return InvalidInput(
        f"The pool {limits.EVERY_WAREHOUSE_POOL} holds every warehouse that accepts orders: it cannot be changed."
    )


def _pool_fields(**fields: Any) -> dict[str, Any]:
    checked = dict(fields)
    if "name" in fields:
        checked["name"] = _require_label("name", fields["name"], limits.WAREHOUSE_NAME_MAX_LENGTH)
    if "strategy" in fields and fields["strategy"] not in PoolStrategy.values:
        raise InvalidInput(f"strategy must be one of {', '.join(PoolStrategy.values)}.", strategy=fields["strategy"])
    if "warehouses" in fields:
        checked["warehouses"] = _member_codes(fields["warehouses"])
    return checked


def _member_codes(codes: object) -> list[str]:
    if isinstance(codes, str | bytes) or not isinstance(codes, Iterable):
        raise InvalidInput("warehouses must be a list of warehouse codes.", warehouses=None)
    codes = list(codes)
    if len(codes) > limits.MAX_POOL_WAREHOUSES:
        raise InvalidInput(f"A pool has at most {limits.MAX_POOL_WAREHOUSES} warehouses.", warehouses=None)
    for code in codes:
        require_location_code("warehouses", code)
    if len(set(codes)) != len(codes):
        raise InvalidInput("Name each warehouse once.", warehouses=None)
    return codes


def _locked_warehouses(codes: list[str]) -> list[Warehouse]:
    """The warehouses with these codes, locked against a delete until the pool is saved; all must exist."""
    found = list(Warehouse.objects.select_for_update().filter(code__in=codes).order_by("id"))
    unknown = sorted(set(codes) - {warehouse.code for warehouse in found})
    if unknown:
        raise InvalidInput(f"No warehouse {', '.join(unknown)}.", warehouses=unknown)
    return found


# --- shared -----------------------------------------------------------------------------


def _without_same_code(code: str, changes: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    changes = dict(changes)
    given = changes.pop("code", code)
    if given != code:
        raise InvalidInput("A code never changes once created.", code=given)
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise InvalidInput(f"Only {', '.join(allowed)} can be changed.", **dict.fromkeys(unknown))
    return changes


def _require_label(name: str, value: object, max_length: int) -> str:
    if not limits.is_label(value, max_length):
        raise InvalidInput(
            f"{name} must be text of at most {max_length} characters, none a control character.", **{name: None}
        )
    return value


def _log(event: str, code: str, actor: str, fields: dict[str, Any]) -> None:
    # Once committed: a change that the caller's transaction rolls back was never made.
    transaction.on_commit(lambda: logger.info(event, extra={"code": code, "actor": actor, "fields": fields}))
