"""The staff endpoints: each one's answer and each error it can give."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.models import Inventory, InventoryLog
from tests.api.conftest import API, error_code

pytestmark = pytest.mark.django_db

RECORD_FIELDS = {
    "product_id",
    "available_stock",
    "reserved_stock",
    "total_stock",
    "low_stock_threshold",
    "is_low_stock",
    "version",
    "created_at",
    "updated_at",
}


def test_create(staff):
    response = staff.post(f"{API}/inventory", {"product_id": 42, "available_stock": 90}, format="json")
    assert response.status_code == 201
    record = response.json()
    assert set(record) == RECORD_FIELDS
    assert record["available_stock"] == 90
    assert record["reserved_stock"] == 0
    assert record["total_stock"] == 90
    assert record["low_stock_threshold"] == 10
    assert record["is_low_stock"] is False
    assert record["version"] == 1
    assert record["created_at"].endswith("+00:00")
    entry = InventoryLog.objects.get(product_id=42)
    assert (entry.operation, entry.available_before, entry.reserved_before, entry.available_after) == (
        "create",
        0,
        0,
        90,
    )
    assert entry.actor == "clerk"


def test_create_defaults(staff):
    record = staff.post(f"{API}/inventory/", {"product_id": 1}, format="json").json()
    assert (record["available_stock"], record["low_stock_threshold"], record["is_low_stock"]) == (0, 10, True)


def test_create_twice_is_409(staff, product):
    product(42)
    response = staff.post(f"{API}/inventory", {"product_id": 42}, format="json")
    assert response.status_code == 409
    assert error_code(response) == "already_exists"


def test_list_filters_and_ordering(staff, product):
    product(1, 100)
    product(2, 5)
    product(3, 50)
    assert [r["product_id"] for r in staff.get(f"{API}/inventory").json()["results"]] == [1, 2, 3]
    assert [r["product_id"] for r in staff.get(f"{API}/inventory?ordering=-available_stock").json()["results"]] == [
        1,
        3,
        2,
    ]
    assert [r["product_id"] for r in staff.get(f"{API}/inventory?ordering=available_stock").json()["results"]] == [
        2,
        3,
        1,
    ]
    assert [r["product_id"] for r in staff.get(f"{API}/inventory?is_low_stock=true").json()["results"]] == [2]
    assert [r["product_id"] for r in staff.get(f"{API}/inventory?is_low_stock=false").json()["results"]] == [1, 3]
    assert [r["product_id"] for r in staff.get(f"{API}/inventory?product_id=3").json()["results"]] == [3]
    ordered = staff.get(f"{API}/inventory?ordering=-updated_at").json()["results"]
    assert len(ordered) == 3


@pytest.mark.parametrize(
    "query",
    [
        "product_id=abc",
        "product_id=1.0",
        "product_id=0",
        "product_id=",
        "is_low_stock=maybe",
        "ordering=reserved_stock",
        "ordering=,",
        "ordering=",
        "ordering=product_id,",
    ],
)
def test_list_refuses_bad_filters(staff, query):
    response = staff.get(f"{API}/inventory?{query}")
    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert query.split("=")[0] in response.json()["error"]["details"]


def test_pagination(staff, product):
    for product_id in range(1, 206):
        product(product_id, 100)
    first = staff.get(f"{API}/inventory").json()
    assert first["count"] == 205
    assert len(first["results"]) == 50
    assert first["previous"] is None
    assert "page=2" in first["next"]
    assert len(staff.get(f"{API}/inventory?page_size=500").json()["results"]) == 200
    last = staff.get(f"{API}/inventory?page=2&page_size=200").json()
    assert [r["product_id"] for r in last["results"]] == list(range(201, 206))
    assert last["next"] is None
    response = staff.get(f"{API}/inventory?page=9")
    assert response.status_code == 404
    assert error_code(response) == "not_found"
    for bad in ("page=0", "page=x", "page_size=0", "page_size=-1", "page_size=abc"):
        response = staff.get(f"{API}/inventory?{bad}")
        assert response.status_code == 400, bad
        assert error_code(response) == "validation_error"


def test_product(staff, product):
    product(42, 90)
    response = staff.get(f"{API}/inventory/product/42")
    assert response.status_code == 200
    assert response.json()["product_id"] == 42
    missing = staff.get(f"{API}/inventory/product/43/")
    assert missing.status_code == 404
    assert error_code(missing) == "product_not_found"
    bad = staff.get(f"{API}/inventory/product/forty-two")
    assert bad.status_code == 400
    assert "product_id" in bad.json()["error"]["details"]


def test_low_stock_fewest_first(staff, product):
    product(1, 100)
    product(2, 5)
    product(3, 0)
    product(4, 10)
    response = staff.get(f"{API}/inventory/low-stock")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["product_id"] for r in results] == [3, 2, 4]
    assert all(r["is_low_stock"] for r in results)


def test_restock(staff, product):
    product(42, 10)
    response = staff.post(
        f"{API}/inventory/restock",
        {"product_id": 42, "quantity": 5, "reason": "delivery", "reference": "PO-1"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["available_stock"] == 15
    assert response.json()["version"] == 2
    entry = InventoryLog.objects.filter(product_id=42).first()
    assert (entry.operation, entry.quantity, entry.reason, entry.reference, entry.actor) == (
        "restock",
        5,
        "delivery",
        "PO-1",
        "clerk",
    )


def test_restock_unknown_product(staff):
    response = staff.post(f"{API}/inventory/restock", {"product_id": 42, "quantity": 5}, format="json")
    assert response.status_code == 404
    assert error_code(response) == "product_not_found"


def test_adjust_by_delta_and_to_a_count(staff, product):
    product(42, 10)
    response = staff.post(f"{API}/inventory/adjust", {"product_id": 42, "delta": -3, "reason": "broken"}, format="json")
    assert response.status_code == 200
    assert response.json()["available_stock"] == 7
    response = staff.post(
        f"{API}/inventory/adjust", {"product_id": 42, "available_stock": 20, "reason": "count"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["available_stock"] == 20
    quantities = list(InventoryLog.objects.filter(product_id=42, operation="adjust").values_list("quantity", flat=True))
    assert quantities == [13, -3]  # newest first: the signed changes


def test_adjust_errors(staff, product):
    product(42, 10)
    negative = staff.post(f"{API}/inventory/adjust", {"product_id": 42, "delta": -11, "reason": "x"}, format="json")
    assert negative.status_code == 409
    assert error_code(negative) == "stock_would_go_negative"
    stale = staff.post(
        f"{API}/inventory/adjust", {"product_id": 42, "delta": 1, "reason": "x", "expected_version": 9}, format="json"
    )
    assert stale.status_code == 409
    assert error_code(stale) == "version_conflict"
    assert stale.json()["error"]["details"]["current_version"] == 1
    missing = staff.post(f"{API}/inventory/adjust", {"product_id": 43, "delta": 1, "reason": "x"}, format="json")
    assert missing.status_code == 404
    assert error_code(missing) == "product_not_found"
    for body, field in [
        ({"product_id": 42, "reason": "x"}, "delta"),
        ({"product_id": 42, "delta": 1, "available_stock": 3, "reason": "x"}, "delta"),
        ({"product_id": 42, "delta": 1}, "reason"),
        ({"product_id": 42, "delta": 1, "reason": ""}, "reason"),
        ({"product_id": 42, "available_stock": -1, "reason": "x"}, "available_stock"),
    ]:
        response = staff.post(f"{API}/inventory/adjust", body, format="json")
        assert response.status_code == 400, body
        assert field in response.json()["error"]["details"], body
    assert Inventory.objects.get(product_id=42).available_stock == 10


def test_adjust_with_the_current_version(staff, product):
    product(42, 10)
    response = staff.post(
        f"{API}/inventory/adjust", {"product_id": 42, "delta": 2, "reason": "x", "expected_version": 1}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["version"] == 2


def test_threshold(staff, product):
    product(42, 10, low_stock_threshold=5)
    response = staff.put(f"{API}/inventory/42/threshold", {"low_stock_threshold": 20}, format="json")
    assert response.status_code == 200
    assert (response.json()["low_stock_threshold"], response.json()["is_low_stock"]) == (20, True)
    entry = InventoryLog.objects.filter(product_id=42).first()
    assert (entry.operation, entry.quantity) == ("threshold", 20)
    stale = staff.put(
        f"{API}/inventory/42/threshold/", {"low_stock_threshold": 1, "expected_version": 1}, format="json"
    )
    assert stale.status_code == 409
    assert error_code(stale) == "version_conflict"
    missing = staff.put(f"{API}/inventory/43/threshold", {"low_stock_threshold": 1}, format="json")
    assert missing.status_code == 404
    assert error_code(missing) == "product_not_found"
    negative = staff.put(f"{API}/inventory/42/threshold", {"low_stock_threshold": -1}, format="json")
    assert negative.status_code == 400
    assert staff.post(f"{API}/inventory/42/threshold", {"low_stock_threshold": 1}, format="json").status_code == 405


def test_logs_newest_first_with_filters(staff, internal, product):
    product(42, 10)
    staff.post(f"{API}/inventory/restock", {"product_id": 42, "quantity": 5}, format="json")
    internal.post(f"{API}/inventory/reserve", {"order_id": "A-1001", "product_id": 42, "quantity": 2}, format="json")
    response = staff.get(f"{API}/inventory/logs/42")
    assert response.status_code == 200
    entries = response.json()["results"]
    assert [e["operation"] for e in entries] == ["reserve", "restock", "create"]
    assert entries[0] == {
        "id": entries[0]["id"],
        "product_id": 42,
        "warehouse": "default",
        "bucket": 0,
        "operation": "reserve",
        "quantity": 2,
        "available_before": 15,
        "available_after": 13,
        "reserved_before": 0,
        "reserved_after": 2,
        "order_id": "A-1001",
        "actor": "order-app",
        "reason": "",
        "reference": "",
        "created_at": entries[0]["created_at"],
    }
    assert [e["operation"] for e in staff.get(f"{API}/inventory/logs/42?operation=restock").json()["results"]] == [
        "restock"
    ]
    assert len(staff.get(f"{API}/inventory/logs/42?order_id=A-1001").json()["results"]) == 1
    later = (timezone.now() + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert staff.get(f"{API}/inventory/logs/42", {"since": later}).json()["count"] == 0
    assert staff.get(f"{API}/inventory/logs/42", {"until": later}).json()["count"] == 3
    # Any offset Python accepts, even past what PostgreSQL takes.
    assert staff.get(f"{API}/inventory/logs/42", {"since": "2020-01-01T00:00:00+20:10"}).json()["count"] == 3
    for bad in ("operation=steal", "since=yesterday", "order_id=bad%20id"):
        response = staff.get(f"{API}/inventory/logs/42?{bad}")
        assert response.status_code == 400, bad
        assert bad.split("=")[0] in response.json()["error"]["details"]
    missing = staff.get(f"{API}/inventory/logs/43")
    assert missing.status_code == 404
    assert error_code(missing) == "product_not_found"


def test_staff_token_acts_as_its_client(staff_token_client, product):
    product(42, 10)
    response = staff_token_client.post(f"{API}/inventory/restock", {"product_id": 42, "quantity": 1}, format="json")
    assert response.status_code == 200
    assert InventoryLog.objects.filter(product_id=42).first().actor == "backoffice"


def test_session_posts_need_csrf(db, product):
    from rest_framework.test import APIClient

    from tests.api.conftest import STAFF_PERMS, staff_user

    product(42, 10)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(staff_user("csrf", STAFF_PERMS))
    response = client.post(f"{API}/inventory/restock", {"product_id": 42, "quantity": 1}, format="json")
    assert response.status_code == 403
    assert error_code(response) == "permission_denied"
    assert Inventory.objects.get(product_id=42).available_stock == 10


@pytest.mark.parametrize(
    "path",
    [
        "/inventory",
        "/inventory/product/42",
        "/inventory/low-stock",
        "/inventory/logs/42",
        "/inventory/reservations",
        "/inventory/restock",
        "/inventory/check/42",
        "/inventory/product/43",
    ],
)
def test_the_browsable_api_renders_for_staff(staff, product, path):
    product(42, 10)
    response = staff.get(f"{API}{path}", HTTP_ACCEPT="text/html")
    assert response.status_code in (200, 404, 405)
    assert response["Content-Type"].startswith("text/html")


def test_a_product_created_with_a_sku_and_a_name_carries_them(staff):
    body = {"product_id": 77, "sku": "EAN-4006381333931", "name": "Stabilo pen, blue"}
    response = staff.post(f"{API}/inventory", body, format="json")
    assert response.status_code == 201
    record = response.json()
    assert set(record) == RECORD_FIELDS | {"sku", "name"}
    assert (record["sku"], record["name"]) == ("EAN-4006381333931", "Stabilo pen, blue")
    assert staff.get(f"{API}/inventory/product/77").json()["sku"] == "EAN-4006381333931"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sku": "has space"}, "sku"),
        ({"sku": "x" * 65}, "sku"),
        ({"sku": 12}, "sku"),
        ({"name": "tab\tinside"}, "name"),
        ({"name": "n" * 201}, "name"),
        ({"name": "nul\u0000"}, "name"),
    ],
)
def test_a_malformed_sku_or_name_is_refused(staff, body, field):
    response = staff.post(f"{API}/inventory", {"product_id": 78, **body}, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert not Inventory.objects.filter(product_id=78).exists()


def test_a_sku_belongs_to_one_product(staff):
    assert staff.post(f"{API}/inventory", {"product_id": 79, "sku": "SKU-1"}, format="json").status_code == 201
    response = staff.post(f"{API}/inventory", {"product_id": 80, "sku": "SKU-1"}, format="json")
    assert response.status_code == 409
    assert error_code(response) == "already_exists"
    assert response.json()["error"]["details"] == {"sku": "SKU-1"}
    assert not Inventory.objects.filter(product_id=80).exists()
