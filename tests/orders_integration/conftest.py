from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import F

from inventory import services
from inventory.models import PoolStrategy, Reservation


def create_api_client(name: str, role: str) -> str:
    out = StringIO()
    call_command("create_api_client", name, "--role", role, stdout=out)
    return out.getvalue().strip()


@pytest.fixture
def internal_token(transactional_db) -> str:
    return create_api_client("order-app", "internal")


def make_overdue(order_id: str) -> None:
    """Move an order's holds a day into the past, as if the order had been abandoned."""
    Reservation.objects.filter(order_id=order_id).update(expires_at=F("expires_at") - timedelta(days=1))


# Two warehouses 1,070 km apart, in a `nearest` pool; `default` is not in it.
EAST = {"code": "east-1", "region": "east", "latitude": 31.23, "longitude": 121.47}
NORTH = {"code": "north-1", "region": "north", "latitude": 39.90, "longitude": 116.40}
NEAR_POOL = "near"


@pytest.fixture
def stocked_in(make_item, actor):
    """Make the two warehouses and their pool; stocked_in(east=N, north=M) makes a product with
    N units in east-1 and M in north-1 (and an empty level in `default`); its product id."""
    for priority, site in enumerate((EAST, NORTH)):
        services.create_warehouse(**site, priority=priority, actor=actor)
    services.create_pool(
        code=NEAR_POOL, warehouses=[EAST["code"], NORTH["code"]], strategy=PoolStrategy.NEAREST, actor=actor
    )

    def make(*, east: int, north: int) -> int:
        product_id = make_item(available_stock=0).product_id
        for site, units in ((EAST, east), (NORTH, north)):
            if units:
                services.restock(product_id=product_id, quantity=units, warehouse=site["code"], actor=actor)
        return product_id

    return make
