"""The inventory row counter that triggers keep, and the list pages that read it."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import Inventory, InventoryRowCount
from inventory.selectors import whole_inventory_count
from tests.api.conftest import API

pytestmark = pytest.mark.django_db


def counted() -> int:
    return InventoryRowCount.objects.get().row_count


def bare_rows(*product_ids: int) -> list[Inventory]:
    """Rows without a log entry, so that nothing protects them from a delete."""
    return Inventory.objects.bulk_create(Inventory(product_id=product_id) for product_id in product_ids)


def inventory_counts(queries) -> list[str]:
    return [query["sql"] for query in queries if "COUNT(*)" in query["sql"] and "inventory_inventory" in query["sql"]]


def test_the_counter_follows_creates_bulk_inserts_and_deletes(product):
    product(1)
    assert counted() == Inventory.objects.count()
    bare_rows(*range(100, 150))
    assert counted() == Inventory.objects.count()
    Inventory.objects.filter(product_id__range=(100, 119)).delete()
    assert counted() == Inventory.objects.count()


def test_the_counter_follows_raw_sql():
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO inventory_inventory (product_id, created_at) SELECT g, now() FROM generate_series(500, 999) g"
        )
        assert counted() == Inventory.objects.count()
        cursor.execute("DELETE FROM inventory_inventory WHERE product_id BETWEEN 500 AND 599")
        assert counted() == Inventory.objects.count()


# Transactional: the flush of a test that runs inside a transaction meets pending FK checks.
@pytest.mark.django_db(transaction=True)
def test_the_counter_survives_a_flush(product):
    product(1)
    # Truncates every table, the counter's too, as the test runner does between transactional tests.
    call_command("flush", interactive=False, verbosity=0)
    assert counted() == 0
    product(2)
    assert counted() == Inventory.objects.count() == 1


def test_only_the_whole_table_is_read_from_the_counter(product):
    product(1)
    assert whole_inventory_count(Inventory.objects.order_by("-available_stock")) == Inventory.objects.count()
    assert whole_inventory_count(Inventory.objects.filter(product_id=1)) is None
    assert whole_inventory_count(Inventory.objects.all()[:1]) is None
    assert whole_inventory_count(Inventory.objects.none()) is None


@pytest.mark.parametrize("query", [{}, {"page_size": 2}, {"ordering": "-available_stock", "page": 2, "page_size": 1}])
def test_the_unfiltered_list_counts_from_the_counter(staff, product, query):
    for product_id in (1, 2, 3):
        product(product_id)
    with CaptureQueriesContext(connection) as queries:
        response = staff.get(f"{API}/inventory", query)
    assert response.status_code == 200
    assert response.json()["count"] == Inventory.objects.count()
    assert not inventory_counts(queries)


def test_a_filtered_list_counts_its_rows(staff, product):
    for product_id in (1, 2, 3):
        product(product_id, available_stock=product_id)
    with CaptureQueriesContext(connection) as queries:
        response = staff.get(f"{API}/inventory", {"is_low_stock": "true"})
    assert response.json()["count"] == 3
    assert inventory_counts(queries)
