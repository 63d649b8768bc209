"""Order ownership in the services, on every store, and the migration that gives old orders their client."""

import importlib

import pytest
from django.apps import apps
from django.db import connection

from inventory import services
from inventory.exceptions import OrderOfAnotherClient, ReservationNotFound
from inventory.models import ApiClient, Reservation
from tests.api.conftest import make_client
from tests.inventory.helpers import assert_invariants

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("store")]


@pytest.fixture
def clients(db) -> tuple[int, int]:
    make_client("shop-a", "internal")
    make_client("shop-b", "internal")
    return tuple(ApiClient.objects.get(name=name).pk for name in ("shop-a", "shop-b"))


def reserve(order_id, client_id, *lines):
    return services.reserve_stock(
        order_id=order_id,
        lines=[services.ReservationLine(product_id, quantity) for product_id, quantity in lines],
        actor="tester",
        client_id=client_id,
    )


def test_an_order_is_its_first_clients(make_item, clients):
    first, second = clients
    a, b = make_item(available_stock=5), make_item(available_stock=5)
    reserve("O-1", first, (a.product_id, 1))

    with pytest.raises(OrderOfAnotherClient):
        reserve("O-1", second, (b.product_id, 1))
    with pytest.raises(OrderOfAnotherClient):
        reserve("O-1", second, (a.product_id, 1))
    for settle in (services.release_reservations, services.deduct_reservations):
        with pytest.raises(ReservationNotFound):
            settle(order_id="O-1", actor="tester", client_id=second)

    assert reserve("O-1", first, (a.product_id, 1)).created is False
    assert reserve("O-1", first, (a.product_id, 1), (b.product_id, 2)).created is True
    services.release_reservations(order_id="O-1", actor="tester", client_id=first)
    for item in (a, b):
        assert_invariants(item.product_id)


def test_in_process_callers_see_every_order(make_item, clients):
    first, _ = clients
    item = make_item(available_stock=5)
    reserve("O-2", first, (item.product_id, 2))
    # The order flows of this monolith (and staff through the admin) act for no client.
    assert reserve("O-2", None, (item.product_id, 2)).created is False
    released = services.release_reservations(order_id="O-2", actor="admin")
    assert [hold.status for hold in released] == ["cancelled"]


def test_lines_an_in_process_caller_adds_are_the_owners(make_item, clients):
    first, _ = clients
    a, b = make_item(available_stock=5), make_item(available_stock=5)
    reserve("O-3", first, (a.product_id, 1))
    reserve("O-3", None, (b.product_id, 1))
    assert set(Reservation.objects.filter(order_id="O-3").values_list("client_id", flat=True)) == {first}
    assert len(services.release_reservations(order_id="O-3", actor="tester", client_id=first)) == 2


def test_a_client_cannot_take_over_an_in_process_order(make_item, clients):
    first, _ = clients
    a, b = make_item(available_stock=5), make_item(available_stock=5)
    reserve("O-4", None, (a.product_id, 1))
    with pytest.raises(OrderOfAnotherClient):
        reserve("O-4", first, (b.product_id, 1))
    assert_invariants(b.product_id)


def test_the_migration_gives_old_orders_the_client_of_their_first_reserve(make_item, clients):
    first, _ = clients
    item = make_item(available_stock=5)
    # Reserved before the owner was recorded: the ledger's actor names the client.
    services.reserve_stock(order_id="OLD-1", lines=[services.ReservationLine(item.product_id, 1)], actor="shop-a")
    services.reserve_stock(order_id="OLD-2", lines=[services.ReservationLine(item.product_id, 1)], actor="a person")
    assert not Reservation.objects.filter(client__isnull=False).exists()

    migration = importlib.import_module("inventory.migrations.0007_reservation_client")
    with connection.schema_editor() as schema_editor:
        migration.assign_clients(apps, schema_editor)

    assert Reservation.objects.get(order_id="OLD-1").client_id == first
    assert Reservation.objects.get(order_id="OLD-2").client_id is None
