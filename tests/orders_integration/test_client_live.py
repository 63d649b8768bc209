"""InventoryClient against the real server (pytest-django's live_server)."""

from datetime import timedelta

import pytest

from orders_integration import client as inventory_client
from orders_integration.client import InventoryClient, Line, ShortLine
from tests.inventory.helpers import stock_of
from tests.orders_integration.conftest import create_api_client, make_overdue


@pytest.fixture
def inventory(live_server, internal_token):
    with InventoryClient(live_server.url, internal_token, timeout=10, retries=1) as client:
        yield client


class TestChecks:
    def test_one_product(self, inventory, make_item):
        item = make_item(available_stock=3, low_stock_threshold=5)

        check = inventory.check(item.product_id, quantity=4)

        assert check == inventory_client.StockCheck(item.product_id, 3, True, True, False)

    def test_an_unknown_product(self, inventory, transactional_db):
        with pytest.raises(inventory_client.ProductNotFound) as missing:
            inventory.check(987_654_321)

        assert missing.value.status == 404

    def test_a_batch_in_request_order(self, inventory, make_item):
        plenty, scarce = make_item(available_stock=9), make_item(available_stock=1)

        batch = inventory.check_batch([Line(scarce.product_id, 2), Line(987_654_321, 1), Line(plenty.product_id, 2)])

        assert batch.all_available is False
        assert [(i.product_id, i.found, i.available_stock, i.sufficient) for i in batch.items] == [
            (scarce.product_id, True, 1, False),
            (987_654_321, False, 0, False),
            (plenty.product_id, True, 9, True),
        ]


class TestReserve:
    def test_a_whole_order_then_again_as_a_repeat(self, inventory, make_item):
        shirt, socks = make_item(available_stock=5), make_item(available_stock=5)
        lines = [Line(socks.product_id, 1), Line(shirt.product_id, 2)]

        first = inventory.reserve_order("R-1", lines, ttl_seconds=120)
        again = inventory.reserve_order("R-1", lines, ttl_seconds=120)

        assert (first.order_id, first.created, again.created) == ("R-1", True, False)
        assert sorted((r.product_id, r.quantity, r.status) for r in first.reservations) == sorted(
            [(socks.product_id, 1, "active"), (shirt.product_id, 2, "active")]
        )
        assert again.reservations == first.reservations
        assert {r.expires_at - r.created_at for r in first.reservations} == {timedelta(seconds=120)}
        assert stock_of(shirt.product_id) == (3, 2)

    def test_one_line(self, inventory, make_item):
        item = make_item(available_stock=5)

        result = inventory.reserve("R-2", item.product_id, 4)

        assert [(r.order_id, r.quantity, r.reacquired) for r in result.reservations] == [("R-2", 4, False)]
        assert stock_of(item.product_id) == (1, 4)

    def test_short_lines_reserve_nothing(self, inventory, make_item):
        plenty, scarce = make_item(available_stock=5), make_item(available_stock=1)

        with pytest.raises(inventory_client.InsufficientStock) as short:
            inventory.reserve_order("R-3", [Line(plenty.product_id, 1), Line(scarce.product_id, 2)])

        assert short.value.short_lines == (ShortLine(scarce.product_id, 2, 1),)
        assert stock_of(plenty.product_id) == (5, 0)

    def test_another_quantity_for_a_held_line(self, inventory, make_item):
        item = make_item(available_stock=5)
        inventory.reserve("R-4", item.product_id, 1)

        with pytest.raises(inventory_client.ReservationExists):
            inventory.reserve("R-4", item.product_id, 2)

    def test_an_unknown_product(self, inventory, transactional_db):
        with pytest.raises(inventory_client.ProductNotFound):
            inventory.reserve("R-5", 987_654_321, 1)

    def test_a_malformed_request(self, inventory, make_item):
        item = make_item(available_stock=5)

        with pytest.raises(inventory_client.ValidationError) as invalid:
            inventory.reserve("not a valid id!", item.product_id, 1)

        assert "order_id" in invalid.value.details


class TestReleaseAndDeduct:
    def test_release_gives_back_once(self, inventory, make_item):
        item = make_item(available_stock=5)
        inventory.reserve("D-1", item.product_id, 2)

        first = inventory.release("D-1")
        again = inventory.release("D-1")

        assert [r.status for r in first.reservations] == [r.status for r in again.reservations] == ["cancelled"]
        assert stock_of(item.product_id) == (5, 0)
        with pytest.raises(inventory_client.ReservationNotActive):
            inventory.deduct("D-1")

    def test_deduct_confirms_once(self, inventory, make_item):
        item = make_item(available_stock=5)
        inventory.reserve("D-2", item.product_id, 2)

        first = inventory.deduct("D-2")
        again = inventory.deduct("D-2")

        assert [r.status for r in first.reservations] == ["confirmed"]
        assert again.reservations == first.reservations
        assert stock_of(item.product_id) == (3, 0)
        with pytest.raises(inventory_client.ReservationNotActive):
            inventory.release("D-2")

    def test_one_product_of_an_order(self, inventory, make_item):
        shirt, socks = make_item(available_stock=5), make_item(available_stock=5)
        inventory.reserve_order("D-3", [Line(shirt.product_id, 1), Line(socks.product_id, 1)])

        released = inventory.release("D-3", product_id=socks.product_id)

        assert [(r.product_id, r.status) for r in released.reservations] == [(socks.product_id, "cancelled")]
        assert stock_of(shirt.product_id) == (4, 1)

    def test_a_late_payment_takes_the_units_again(self, inventory, make_item):
        item = make_item(available_stock=5)
        inventory.reserve("D-4", item.product_id, 2)
        make_overdue("D-4")

        paid = inventory.deduct("D-4")

        assert [(r.status, r.reacquired) for r in paid.reservations] == [("confirmed", True)]

    def test_a_late_payment_whose_units_are_gone(self, inventory, make_item):
        item = make_item(available_stock=2)
        inventory.reserve("D-5", item.product_id, 2)
        make_overdue("D-5")
        inventory.reserve("D-6", item.product_id, 2)

        with pytest.raises(inventory_client.ReservationExpired) as expired:
            inventory.deduct("D-5")

        assert expired.value.short_lines == (ShortLine(item.product_id, 2, 0),)

    def test_an_order_with_no_reservation(self, inventory, transactional_db):
        with pytest.raises(inventory_client.ReservationNotFound):
            inventory.release("D-never")


def test_lists_an_orders_reservations_whatever_their_status(inventory, make_item):
    shirt, socks = make_item(available_stock=5), make_item(available_stock=5)
    inventory.reserve_order("L-1", [Line(shirt.product_id, 1), Line(socks.product_id, 2)])
    inventory.release("L-1", product_id=shirt.product_id)
    inventory.reserve("L-2", shirt.product_id, 1)

    inventory.page_size = 1  # one page per reservation: the client must follow the pages

    listed = inventory.order_reservations("L-1")

    assert sorted((r.product_id, r.quantity, r.status) for r in listed) == [
        (shirt.product_id, 1, "cancelled"),
        (socks.product_id, 2, "active"),
    ]


def test_a_bad_token_is_not_authenticated(live_server, make_item):
    item = make_item(available_stock=5)

    with (
        InventoryClient(live_server.url, "not-a-token", retries=0) as stranger,
        pytest.raises(inventory_client.NotAuthenticated),
    ):
        stranger.reserve("T-1", item.product_id, 1)


def test_a_staff_token_may_not_reserve(live_server, make_item):
    item = make_item(available_stock=5)
    staff_token = create_api_client("warehouse-tool", "staff")

    with (
        InventoryClient(live_server.url, staff_token, retries=0) as staff,
        pytest.raises(inventory_client.PermissionDenied),
    ):
        staff.reserve("T-2", item.product_id, 1)
