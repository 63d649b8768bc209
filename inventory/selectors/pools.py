"""Pools as the API and the back office show them: each with its members' codes."""

from django.db.models import Prefetch, QuerySet

from inventory.models import Pool, Warehouse
from inventory.selectors.warehouses import pool_warehouses

# Members by priority, then code: the order the `priority` strategy tries them in.
MEMBER_ORDER = ("priority", "code")


def pools() -> QuerySet[Pool]:
    """Every pool by code, each page's members read in one query (`all`'s in one more)."""
    return Pool.objects.order_by("code").prefetch_related(
        Prefetch("warehouses", queryset=Warehouse.objects.order_by(*MEMBER_ORDER))
    )


def member_codes(pool: Pool) -> list[str]:
    """The codes of a pool's warehouses by priority, then code; for `all`, every warehouse that accepts orders.

    A pool's stored members may include warehouses that do not accept orders: allocation
    skips them, and they are shown, so that the pool reads back as it was written.
    """
    if pool.every_warehouse:
        return list(pool_warehouses(pool.code).order_by(*MEMBER_ORDER).values_list("code", flat=True))
    return [warehouse.code for warehouse in pool.warehouses.all()]
