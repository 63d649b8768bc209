import itertools
import os

import pytest
from hypothesis import HealthCheck, settings

from inventory import services
from inventory.models import Inventory
from inventory.services.store import STORES

settings.register_profile(
    "ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile("dev", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

_product_ids = itertools.count(10_000)


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
