"""The internal endpoints: reserve, release, deduct, cleanup-expired, reservations."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.models import Inventory, Reservation
from tests.api.conftest import API, error_code

pytestmark = pytest.mark.django_db

RESERVATION_FIELDS = {
    "id",
    "order_id",
    "product_id",
    "warehouse",
    "quantity",
    "status",
    "reacquired",
    "expires_at",
    "created_at",
    "updated_at",
}


def reserve(client, **body):
    return client.post(f"{API}/inventory/reserve", body, format="json")


def stock(product_id):
    return Inventory.objects.values_list("available_stock", "reserved_stock").get(product_id=product_id)


def overdue(order_id):
    Reservation.objects.filter(order_id=order_id).update(expires_at=timezone.now() - timedelta(seconds=1))


def test_reserve_one_line(internal, product):
    product(42, 10)
    response = reserve(internal, order_id="A-1001", product_id=42, quantity=2)
    assert response.status_code == 201
    body = response.json()
    assert body["order_id"] == "A-1001"
    (reservation,) = body["reservations"]
    assert set(reservation) == RESERVATION_FIELDS
    assert (reservation["product_id"], reservation["quantity"], reservation["status"], reservation["reacquired"]) == (
        42,
        2,
        "active",
        False,
    )
    assert stock(42) == (8, 2)
    again = reserve(internal, order_id="A-1001", product_id=42, quantity=2)
    assert again.status_code == 200
    assert again.json() == body
    assert stock(42) == (8, 2)


def test_reserve_ttl(internal, product):
    product(42, 10)
    body = reserve(internal, order_id="T", product_id=42, quantity=1, ttl_seconds=60).json()
    reservation = body["reservations"][0]
    expires = timezone.datetime.fromisoformat(reservation["expires_at"])
    created = timezone.datetime.fromisoformat(reservation["created_at"])
    assert expires - created == timedelta(seconds=60)
    default = reserve(internal, order_id="D", product_id=42, quantity=1).json()["reservations"][0]
    delta = timezone.datetime.fromisoformat(default["expires_at"]) - timezone.datetime.fromisoformat(
        default["created_at"]
    )
    assert delta == timedelta(seconds=1800)


def test_reserve_integer_order_id_is_stored_as_its_decimal_string(internal, product):
    product(42, 10)
    response = reserve(internal, order_id=1001, product_id=42, quantity=1)
    assert response.status_code == 201
    assert response.json()["order_id"] == "1001"
    assert Reservation.objects.get().order_id == "1001"


def test_reserve_a_whole_order_in_request_order(internal, product):
    product(1, 10)
    product(2, 10)
    response = reserve(
        internal, order_id="O", items=[{"product_id": 2, "quantity": 1}, {"product_id": 1, "quantity": 3}]
    )
    assert response.status_code == 201
    assert [r["product_id"] for r in response.json()["reservations"]] == [2, 1]
    assert stock(1) == (7, 3)
    # A repeat with the lines in another order is still a repeat.
    again = reserve(internal, order_id="O", items=[{"product_id": 1, "quantity": 3}, {"product_id": 2, "quantity": 1}])
    assert again.status_code == 200


def test_reserve_all_or_nothing(internal, product):
    product(1, 10)
    product(2, 1)
    response = reserve(
        internal, order_id="O", items=[{"product_id": 1, "quantity": 3}, {"product_id": 2, "quantity": 5}]
    )
    assert response.status_code == 409
    assert error_code(response) == "insufficient_stock"
    assert response.json()["error"]["details"]["items"] == [{"product_id": 2, "requested": 5, "available": 1}]
    assert stock(1) == (10, 0)
    assert not Reservation.objects.exists()


def test_reserve_conflicts(internal, product):
    product(1, 10)
    reserve(internal, order_id="O", product_id=1, quantity=2)
    other = reserve(internal, order_id="O", product_id=1, quantity=3)
    assert other.status_code == 409
    assert error_code(other) == "reservation_exists"
    internal.post(f"{API}/inventory/release", {"order_id": "O"}, format="json")
    reopened = reserve(internal, order_id="O", product_id=1, quantity=2)
    assert reopened.status_code == 409
    assert error_code(reopened) == "reservation_exists"
    missing = reserve(internal, order_id="P", product_id=99, quantity=1)
    assert missing.status_code == 404
    assert error_code(missing) == "product_not_found"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"product_id": 1, "quantity": 1}, "order_id"),
        ({"order_id": "", "product_id": 1, "quantity": 1}, "order_id"),
        ({"order_id": "a b", "product_id": 1, "quantity": 1}, "order_id"),
        ({"order_id": "x" * 65, "product_id": 1, "quantity": 1}, "order_id"),
        ({"order_id": True, "product_id": 1, "quantity": 1}, "order_id"),
        ({"order_id": 1.5, "product_id": 1, "quantity": 1}, "order_id"),
        ({"order_id": "O", "product_id": 1}, "quantity"),
        ({"order_id": "O", "quantity": 1}, "product_id"),
        ({"order_id": "O"}, "product_id"),
        ({"order_id": "O", "product_id": 1, "quantity": 1, "items": [{"product_id": 2, "quantity": 1}]}, "items"),
        ({"order_id": "O", "items": []}, "items"),
        ({"order_id": "O", "items": [{"product_id": 1, "quantity": 1}] * 2}, "items"),
        ({"order_id": "O", "items": [{"product_id": n, "quantity": 1} for n in range(1, 102)]}, "items"),
        ({"order_id": "O", "product_id": 1, "quantity": 1, "ttl_seconds": 0}, "ttl_seconds"),
        ({"order_id": "O", "product_id": 1, "quantity": 1, "ttl_seconds": 86401}, "ttl_seconds"),
        ({"order_id": "O", "product_id": 1, "quantity": 1, "ttl_seconds": 60.0}, "ttl_seconds"),
    ],
)
def test_reserve_refuses_bad_bodies(internal, product, body, field):
    product(1, 10)
    response = internal.post(f"{API}/inventory/reserve", body, format="json")
    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert field in response.json()["error"]["details"]
    assert stock(1) == (10, 0)


def test_release(internal, product):
    product(1, 10)
    product(2, 10)
    reserve(internal, order_id="O", items=[{"product_id": 1, "quantity": 2}, {"product_id": 2, "quantity": 3}])
    one = internal.post(f"{API}/inventory/release", {"order_id": "O", "product_id": 2}, format="json")
    assert one.status_code == 200
    assert [(r["product_id"], r["status"]) for r in one.json()["reservations"]] == [(2, "cancelled")]
    everything = internal.post(f"{API}/inventory/release/", {"order_id": "O"}, format="json")
    assert everything.status_code == 200
    assert {r["status"] for r in everything.json()["reservations"]} == {"cancelled"}
    assert stock(1) == (10, 0)
    again = internal.post(f"{API}/inventory/release", {"order_id": "O"}, format="json")
    assert again.status_code == 200
    missing = internal.post(f"{API}/inventory/release", {"order_id": "nope"}, format="json")
    assert missing.status_code == 404
    assert error_code(missing) == "reservation_not_found"


def test_release_of_a_confirmed_order_is_409(internal, product):
    product(1, 10)
    reserve(internal, order_id="O", product_id=1, quantity=2)
    internal.post(f"{API}/inventory/deduct", {"order_id": "O"}, format="json")
    response = internal.post(f"{API}/inventory/release", {"order_id": "O"}, format="json")
    assert response.status_code == 409
    assert error_code(response) == "reservation_not_active"


def test_deduct(internal, product):
    product(1, 10)
    reserve(internal, order_id="O", product_id=1, quantity=2)
    response = internal.post(f"{API}/inventory/deduct", {"order_id": "O"}, format="json")
    assert response.status_code == 200
    assert response.json()["reservations"][0]["status"] == "confirmed"
    assert stock(1) == (8, 0)
    again = internal.post(f"{API}/inventory/deduct", {"order_id": "O", "product_id": 1}, format="json")
    assert again.status_code == 200
    assert stock(1) == (8, 0)
    missing = internal.post(f"{API}/inventory/deduct", {"order_id": "Z"}, format="json")
    assert missing.status_code == 404
    assert error_code(missing) == "reservation_not_found"


def test_deduct_of_a_cancelled_order_is_409(internal, product):
    product(1, 10)
    reserve(internal, order_id="O", product_id=1, quantity=2)
    internal.post(f"{API}/inventory/release", {"order_id": "O"}, format="json")
    response = internal.post(f"{API}/inventory/deduct", {"order_id": "O"}, format="json")
    assert response.status_code == 409
    assert error_code(response) == "reservation_not_active"


def test_late_payment_reacquires_or_fails(internal, product):
    product(1, 2)
    reserve(internal, order_id="late", product_id=1, quantity=2)
    overdue("late")
    paid = internal.post(f"{API}/inventory/deduct", {"order_id": "late"}, format="json")
    assert paid.status_code == 200
    assert paid.json()["reservations"][0]["reacquired"] is True
    product(2, 2)
    reserve(internal, order_id="gone", product_id=2, quantity=2)
    overdue("gone")
    reserve(internal, order_id="other", product_id=2, quantity=2)  # takes the units back after expiring the hold
    failed = internal.post(f"{API}/inventory/deduct", {"order_id": "gone"}, format="json")
    assert failed.status_code == 409
    assert error_code(failed) == "reservation_expired"


def test_cleanup_expired(internal, product):
    product(1, 10)
    reserve(internal, order_id="O", product_id=1, quantity=4)
    overdue("O")
    response = internal.post(f"{API}/inventory/cleanup-expired")
    assert response.status_code == 200
    assert response.json() == {"expired": 1}
    assert stock(1) == (10, 0)
    assert internal.post(f"{API}/inventory/cleanup-expired/", {}, format="json").json() == {"expired": 0}


def test_reservations_list(internal, staff, product):
    product(1, 10)
    product(2, 10)
    reserve(internal, order_id="A", product_id=1, quantity=1)
    reserve(internal, order_id="B", product_id=2, quantity=1)
    internal.post(f"{API}/inventory/release", {"order_id": "B"}, format="json")
    response = internal.get(f"{API}/inventory/reservations")
    assert response.status_code == 200
    assert [r["order_id"] for r in response.json()["results"]] == ["B", "A"]
    assert [r["order_id"] for r in staff.get(f"{API}/inventory/reservations/?order_id=A").json()["results"]] == ["A"]
    assert [r["order_id"] for r in internal.get(f"{API}/inventory/reservations?product_id=2").json()["results"]] == [
        "B"
    ]
    assert [r["order_id"] for r in internal.get(f"{API}/inventory/reservations?status=active").json()["results"]] == [
        "A"
    ]
    for bad in ("status=gone", "product_id=x", "order_id=a%20b"):
        response = internal.get(f"{API}/inventory/reservations?{bad}")
        assert response.status_code == 400, bad


def _reserve_queries(internal, order_id, lines):
    with CaptureQueriesContext(connection) as queries:
        response = reserve(internal, order_id=order_id, items=[{"product_id": p, "quantity": 1} for p in lines])
    assert response.status_code == 201
    return len(queries)


def test_reserve_costs_a_constant_number_of_queries_per_line(internal, product):
    for product_id in range(1, 41):
        product(product_id, 10)
    one = _reserve_queries(internal, "q1", [1])
    ten = _reserve_queries(internal, "q10", range(1, 11))
    twenty = _reserve_queries(internal, "q20", range(11, 31))
    per_line = (twenty - ten) / 10
    assert per_line == (ten - one) / 9
    assert per_line <= 1
    assert one <= 12
