"""`PUT /inventory/{product_id}/hot` and what a hot level looks like through the real URL conf."""

import pytest
from rest_framework.test import APIClient

from inventory.models import InventoryLog, StockRow, Warehouse
from tests.api.conftest import API, STAFF_PERMS, error_code, staff_user
from tests.api.test_internal import RESERVATION_FIELDS

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(db) -> APIClient:
    client = APIClient()
    client.force_login(staff_user("lead", (*STAFF_PERMS, "make_hot_inventory")))
    return client


def make_hot(client, product_id=42, **body):
    return client.put(f"{API}/inventory/{product_id}/hot", body, format="json")


def test_turning_a_level_hot_answers_the_level_and_changes_no_figure(manager, product):
    product(42, 10)

    response = make_hot(manager, buckets=4)

    assert response.status_code == 200, response.json()
    level = response.json()
    assert (level["warehouse"], level["buckets"], level["available_stock"], level["reserved_stock"]) == (
        "default",
        4,
        10,
        0,
    )
    record = manager.get(f"{API}/inventory/product/42").json()
    assert (record["available_stock"], record["total_stock"]) == (10, 10)
    levels = manager.get(f"{API}/inventory/product/42/levels").json()["results"]
    assert [(lv["warehouse"], lv["buckets"]) for lv in levels] == [("default", 4)]
    assert StockRow.objects.filter(product_id=42).count() == 4


def test_log_entries_carry_their_bucket_and_rebalance_entries_their_rows_change(manager, product):
    product(42, 10)
    make_hot(manager, buckets=2)

    entries = manager.get(f"{API}/inventory/logs/42", {"operation": "rebalance"}).json()["results"]

    assert sorted((e["bucket"], e["quantity"], e["available_before"], e["available_after"]) for e in entries) == [
        (0, -5, 10, 5),
        (1, 5, 0, 5),
    ]
    first = manager.get(f"{API}/inventory/logs/42", {"operation": "create"}).json()["results"][0]
    assert first["bucket"] == 0


def test_reserves_of_a_hot_level_look_as_before(manager, product, internal):
    product(42, 4)
    make_hot(manager, buckets=4)

    taken = internal.post(
        f"{API}/inventory/reserve", {"order_id": "H-1", "product_id": 42, "quantity": 3}, format="json"
    )
    assert taken.status_code == 201, taken.json()
    assert set(taken.json()["reservations"][0]) == RESERVATION_FIELDS
    short = internal.post(
        f"{API}/inventory/reserve", {"order_id": "H-2", "product_id": 42, "quantity": 2}, format="json"
    )
    assert short.status_code == 409
    assert short.json()["error"]["details"]["items"] == [{"product_id": 42, "requested": 2, "available": 1}]


def test_turning_it_off_merges_the_rows(manager, product):
    product(42, 10)
    make_hot(manager, buckets=8)

    response = make_hot(manager, buckets=1)

    assert response.status_code == 200
    assert response.json()["buckets"] == 1
    assert StockRow.objects.filter(product_id=42).count() == 1


def test_another_warehouse_and_the_idempotency_key(manager, product):
    product(42, 10)
    Warehouse.objects.create(code="north")
    headers = {"HTTP_IDEMPOTENCY_KEY": "hot-1"}

    first = manager.put(f"{API}/inventory/42/hot", {"buckets": 3, "warehouse": "north"}, format="json", **headers)
    again = manager.put(f"{API}/inventory/42/hot", {"buckets": 3, "warehouse": "north"}, format="json", **headers)

    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.json() == again.json()
    assert first.json()["warehouse"] == "north"
    other = manager.put(f"{API}/inventory/42/hot", {"buckets": 2, "warehouse": "north"}, format="json", **headers)
    assert other.status_code == 422


@pytest.mark.parametrize(
    "body",
    [{}, {"buckets": 0}, {"buckets": 65}, {"buckets": True}, {"buckets": 2.0}, {"buckets": "4"}, {"buckets": None}],
)
def test_strict_input_changes_nothing(manager, product, body):
    product(42, 10)
    before = InventoryLog.objects.count()

    response = make_hot(manager, **body)

    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert "buckets" in response.json()["error"]["details"]
    assert InventoryLog.objects.count() == before


def test_unknown_product_and_warehouse(manager, product):
    assert error_code(make_hot(manager, 777, buckets=2)) == "product_not_found"
    product(42, 1)
    assert error_code(make_hot(manager, buckets=2, warehouse="nowhere")) == "warehouse_not_found"
    assert make_hot(manager, "abc", buckets=2).status_code == 400


def test_roles_before_existence(staff, internal, anon, product):
    product(42, 1)
    assert make_hot(anon, 777, buckets=2).status_code in (401, 403)
    assert make_hot(internal, 777, buckets=2).status_code == 403
    # A clerk without the permission.
    assert make_hot(staff, 777, buckets=2).status_code == 403
