"""InventoryClient against the real server (pytest-django's live_server)."""

from datetime import timedelta

import pytest

from inventory import services
from orders_integration import client as inventory_client
from orders_integration.client import InventoryClient, Line, ShipTo, ShortLine
from tests.inventory.helpers import assert_invariants, stock_of
from tests.orders_integration.conftest import EAST, NEAR_POOL, NORTH, create_api_client, make_overdue


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


BEIJING = ShipTo(latitude=39.91, longitude=116.39)


class TestRouting:
    def test_a_line_goes_to_the_warehouse_nearest_the_destination(self, inventory, stocked_in):
        product_id = stocked_in(east=5, north=5)

        held = inventory.reserve("W-1", product_id, 2, pool=NEAR_POOL, ship_to=BEIJING)
        by_region = inventory.reserve("W-2", product_id, 1, pool=NEAR_POOL, ship_to=ShipTo(region="east"))

        assert [(r.warehouse, r.quantity) for r in held.reservations] == [(NORTH["code"], 2)]
        assert [r.warehouse for r in by_region.reservations] == [EAST["code"]]

    def test_a_line_no_warehouse_holds_whole_is_split_and_settled_together(self, inventory, stocked_in):
        product_id, other = stocked_in(east=2, north=2), stocked_in(east=5, north=0)

        held = inventory.reserve_order("W-3", [Line(other, 1), Line(product_id, 3)], pool=NEAR_POOL, ship_to=BEIJING)
        again = inventory.reserve_order("W-3", [Line(other, 1), Line(product_id, 3)], pool=NEAR_POOL, ship_to=BEIJING)

        parts = held.by_product()
        assert [(r.warehouse, r.quantity) for r in parts[product_id]] == [(NORTH["code"], 2), (EAST["code"], 1)]
        assert [r.warehouse for r in parts[other]] == [EAST["code"]]
        assert (again.created, again.reservations) == (False, held.reservations)
        paid = inventory.deduct("W-3", product_id=product_id)
        assert sorted((r.warehouse, r.status) for r in paid.reservations) == [
            (EAST["code"], "confirmed"),
            (NORTH["code"], "confirmed"),
        ]
        assert stock_of(product_id) == (1, 0)
        assert_invariants(product_id)

    def test_without_split_such_a_line_is_short_with_the_pools_units(self, inventory, stocked_in):
        product_id = stocked_in(east=2, north=2)

        with pytest.raises(inventory_client.InsufficientStock) as short:
            inventory.reserve("W-4", product_id, 3, pool=NEAR_POOL, ship_to=BEIJING, split=False)

        assert short.value.short_lines == (ShortLine(product_id, 3, 4),)
        assert stock_of(product_id) == (4, 0)

    def test_checks_answer_for_a_pool(self, inventory, stocked_in, actor):
        product_id = stocked_in(east=2, north=0)
        services.restock(product_id=product_id, quantity=7, actor=actor)  # in `default`, outside the pool

        assert inventory.check(product_id, quantity=3, pool=NEAR_POOL).available_stock == 2
        assert inventory.check(product_id, quantity=3).available_stock == 9
        assert inventory.check_batch([Line(product_id, 3)], pool=NEAR_POOL).all_available is False

    def test_an_unknown_pool(self, inventory, make_item):
        item = make_item(available_stock=5)

        with pytest.raises(inventory_client.PoolNotFound) as missing:
            inventory.reserve("W-5", item.product_id, 1, pool="nowhere")

        assert missing.value.status == 404
        assert stock_of(item.product_id) == (5, 0)


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
