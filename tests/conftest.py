import itertools
import os

import pytest
from hypothesis import HealthCheck, settings

from inventory import services
from inventory.models import Inventory

settings.register_profile(
    "ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile("dev", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

_product_ids = itertools.count(10_000)


@pytest.fixture(params=["postgresql statements", "orm"])
def statement_path(request, monkeypatch) -> str:
    """Run a test on both ways the services write: the hand-written PostgreSQL statements
    of the hot paths, and the portable ORM paths that serve on SQLite."""
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
