"""Read queries of warehouses and pools."""

from django.db.models import Exists, Expression, Q, QuerySet

from inventory.models import Pool, Warehouse


def pool_warehouses(pool_code: "str | Expression") -> QuerySet[Warehouse]:
    """The warehouses of a pool (a code, or an SQL term) that accept orders; `all` has every one that does."""
    every = Pool.objects.filter(code=pool_code, every_warehouse=True)
    members = Pool.warehouses.through.objects.filter(pool__code=pool_code).values("warehouse_id")
    return Warehouse.objects.filter(Q(accepts_orders=True) & (Q(Exists(every)) | Q(id__in=members)))


# Warehouse codes by id. A code never changes and an id is never given to another
# warehouse, so an entry is right forever; an unknown id reloads the map.
_codes: dict[int, str] = {}


def warehouse_code(warehouse_id: int) -> str:
    """The code of a warehouse, without a query once known (answers name warehouses by code)."""
    code = _codes.get(warehouse_id)
    if code is None:
        _codes.update(Warehouse.objects.values_list("id", "code"))
        code = _codes[warehouse_id]
    return code
