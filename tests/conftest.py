import itertools
import os

import pytest
import redis
from hypothesis import HealthCheck, settings

from inventory import services
from inventory.models import Inventory
from inventory.services import sold_out
from inventory.services.store import STORES

settings.register_profile(
    "ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile("dev", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

_product_ids = itertools.count(10_000)


@pytest.fixture(autouse=True)
def _no_sold_out_flags(settings):
    """Product ids repeat between tests and runs: none sees another's sold-out flags."""
    sold_out.reset()
    if settings.REDIS_URL:
        with redis.Redis.from_url(settings.REDIS_URL) as client:
            for key in client.scan_iter(match=f"{sold_out.KEY_PREFIX}*"):
                client.delete(key)


@pytest.fixture(params=sorted(STORES))
def store(request, monkeypatch) -> str:
    """Run a test on each store the services write through (the contract suite): the
    PostgreSQL store's single statements, and the portable ORM store that serves on
    SQLite. The token lookup takes the matching path too."""
    monkeypatch.setattr("inventory.services.store.current", lambda: STORES[request.param])
    if request.param == "orm":
        monkeypatch.setattr("inventory.db.postgresql_statements", lambda: False)
    return request.param


@pytest.fixture
def actor() -> str:
    return "tester"


@pytest.fixture
def make_item(db, actor):
    """Create an inventory record with a fresh product id through the service."""

    def make(available_stock: int = 10, low_stock_threshold: int = 2, product_id: int | None = None) -> Inventory:
        return services.create_inventory(
            product_id=product_id or next(_product_ids),
            available_stock=available_stock,
            low_stock_threshold=low_stock_threshold,
            actor=actor,
        )

    return make


@pytest.fixture
def warehouse(db):
    """Make a warehouse (accepting orders) through the ORM: the tests of stock need places, not their API."""
    from inventory.models import Warehouse

    def make(code: str, *, priority: int = 0, region: str = "", latitude=None, longitude=None, **fields):
        return Warehouse.objects.create(
            code=code, name=code, priority=priority, region=region, latitude=latitude, longitude=longitude, **fields
        )

    return make


@pytest.fixture
def pool(db):
    from inventory.models import Pool

    def make(code: str, warehouses, strategy: str = "priority") -> Pool:
        created = Pool.objects.create(code=code, name=code, strategy=strategy)
        created.warehouses.set(warehouses)
        return created

    return make


@pytest.fixture
def spread_item(make_item, warehouse, actor):
    """An item whose stock is spread over `default` and two more warehouses (priorities 0, 1, 2)."""
    places = [warehouse("spread-1", priority=1), warehouse("spread-2", priority=2)]

    def make(*figures: int, low_stock_threshold: int = 2) -> Inventory:
        first, *others = figures
        item = make_item(available_stock=first, low_stock_threshold=low_stock_threshold)
        for place, quantity in zip(places, others, strict=True):
            if quantity:
                services.restock(product_id=item.product_id, quantity=quantity, actor=actor, warehouse=place.code)
        return Inventory.objects.get(product_id=item.product_id)

    return make
