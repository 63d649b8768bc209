"""An order belongs to the internal client that first reserved it (contract, internal endpoints)."""

import pytest

from inventory.models import Reservation
from tests.api.conftest import API, error_code, make_client, token_client
from tests.inventory.helpers import stock_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("store")]


@pytest.fixture
def other(db):
    """A second order application, with its own internal client."""
    return token_client(make_client("other-order-app", "internal"))


def post(client, path, **body):
    return client.post(f"{API}/inventory/{path}", body, format="json")


@pytest.fixture
def first_order(internal, product):
    product(product_id=42, available_stock=10)
    product(product_id=43, available_stock=10)
    response = post(internal, "reserve", order_id="OWN-1", product_id=42, quantity=2)
    assert response.status_code == 201
    return "OWN-1"


@pytest.mark.parametrize("path", ["release", "deduct"])
def test_another_client_cannot_move_the_order(other, first_order, path):
    for body in ({"order_id": first_order}, {"order_id": first_order, "product_id": 42}):
        response = post(other, path, **body)
        assert response.status_code == 404
        assert error_code(response) == "reservation_not_found"
    assert Reservation.objects.get(order_id=first_order).status == "active"
    assert stock_of(42) == (8, 2)


def test_another_client_cannot_reserve_with_the_order_id(other, first_order):
    for body in (
        {"product_id": 42, "quantity": 2},  # the same line: not a repeat for another client
        {"product_id": 43, "quantity": 1},  # a new line of the same order
        {"items": [{"product_id": 42, "quantity": 2}, {"product_id": 43, "quantity": 1}]},
    ):
        response = post(other, "reserve", order_id=first_order, **body)
        assert response.status_code == 409
        assert error_code(response) == "reservation_exists"
        # Nothing of the other client's order is told.
        assert response.json()["error"]["details"] == {"order_id": first_order}
    assert stock_of(42) == (8, 2)
    assert stock_of(43) == (10, 0)
    assert Reservation.objects.filter(order_id=first_order).count() == 1


def test_the_owner_keeps_every_right(internal, first_order):
    assert post(internal, "reserve", order_id=first_order, product_id=42, quantity=2).status_code == 200
    assert post(internal, "reserve", order_id=first_order, product_id=43, quantity=1).status_code == 201
    assert post(internal, "deduct", order_id=first_order).status_code == 200
    assert set(Reservation.objects.filter(order_id=first_order).values_list("status", flat=True)) == {"confirmed"}


def test_the_list_shows_a_client_its_own_orders_only(internal, other, staff, first_order, product):
    product(product_id=44, available_stock=10)
    assert post(other, "reserve", order_id="OTHER-1", product_id=44, quantity=1).status_code == 201

    def listed(client, query=""):
        response = client.get(f"{API}/inventory/reservations{query}")
        assert response.status_code == 200
        return {row["order_id"] for row in response.json()["results"]}, response.json()["count"]

    assert listed(internal) == ({first_order}, 1)
    assert listed(other) == ({"OTHER-1"}, 1)
    assert listed(other, f"?order_id={first_order}") == (set(), 0)
    assert listed(staff) == ({first_order, "OTHER-1"}, 2)


def test_the_reservations_record_their_client(internal, other, first_order):
    owner = Reservation.objects.select_related("client").get(order_id=first_order).client
    assert owner.name == "order-app"
