import pytest

from inventory.exceptions import InsufficientStock, ReservationNotActive, ShortLine
from inventory.models import Reservation
from inventory.selectors.warehouses import warehouse_code
from orders_integration.flows import (
    Destination,
    RefundRequired,
    ReservationLine,
    cancel_order,
    pay_order,
    place_order,
)
from tests.inventory.helpers import assert_invariants, stock_of
from tests.orders_integration.conftest import EAST, NEAR_POOL, NORTH, make_overdue

pytestmark = pytest.mark.django_db


def statuses(order_id):
    return sorted(Reservation.objects.filter(order_id=order_id).values_list("product_id", "status"))


class TestPlaceOrder:
    def test_holds_every_line(self, make_item):
        shirt, socks = make_item(available_stock=5), make_item(available_stock=5)

        placed = place_order(
            order_id="O-1", lines=[ReservationLine(shirt.product_id, 2), ReservationLine(socks.product_id, 1)]
        )

        assert [(r.product_id, r.quantity, r.status) for r in placed.reservations] == [
            (shirt.product_id, 2, "active"),
            (socks.product_id, 1, "active"),
        ]
        assert placed.order is None
        assert stock_of(shirt.product_id) == (3, 2)
        assert stock_of(socks.product_id) == (4, 1)

    def test_fails_with_the_short_lines_and_holds_nothing(self, make_item):
        plenty, scarce = make_item(available_stock=5), make_item(available_stock=1)

        with pytest.raises(InsufficientStock) as rejected:
            place_order(
                order_id="O-2", lines=[ReservationLine(plenty.product_id, 2), ReservationLine(scarce.product_id, 3)]
            )

        assert rejected.value.short_lines == (ShortLine(scarce.product_id, 3, 1),)
        assert stock_of(plenty.product_id) == (5, 0)
        assert statuses("O-2") == []

    def test_creates_the_order_once_the_stock_is_held(self, make_item):
        item = make_item(available_stock=5)
        seen_when_creating = []

        def create_order():
            seen_when_creating.append(stock_of(item.product_id))
            return {"number": "O-3"}

        placed = place_order(order_id="O-3", lines=[ReservationLine(item.product_id, 2)], create_order=create_order)

        assert seen_when_creating == [(3, 2)]
        assert placed.order == {"number": "O-3"}

    def test_a_failed_order_creation_gives_the_stock_back(self, make_item):
        item = make_item(available_stock=5)

        def create_order():
            raise ValueError("the order table is on fire")

        with pytest.raises(ValueError, match="on fire"):
            place_order(order_id="O-4", lines=[ReservationLine(item.product_id, 2)], create_order=create_order)

        assert stock_of(item.product_id) == (5, 0)
        assert statuses("O-4") == [(item.product_id, "cancelled")]
        assert_invariants(item.product_id)

    def test_placing_again_is_a_repeat(self, make_item):
        item = make_item(available_stock=5)
        lines = [ReservationLine(item.product_id, 2)]
        first = place_order(order_id="O-5", lines=lines)

        again = place_order(order_id="O-5", lines=lines)

        assert [r.pk for r in again.reservations] == [r.pk for r in first.reservations]
        assert stock_of(item.product_id) == (3, 2)


def held_in(reservations):
    return [(r.product_id, warehouse_code(r.warehouse_id), r.quantity, r.status) for r in reservations]


BEIJING = Destination(latitude=39.91, longitude=116.39)


class TestRouting:
    def test_a_line_goes_to_the_warehouse_nearest_the_destination(self, stocked_in):
        product_id = stocked_in(east=5, north=5)

        to_beijing = place_order(
            order_id="R-1", lines=[ReservationLine(product_id, 2)], pool=NEAR_POOL, ship_to=BEIJING
        )
        to_the_east = place_order(
            order_id="R-2", lines=[ReservationLine(product_id, 1)], pool=NEAR_POOL, ship_to=Destination(region="east")
        )

        assert held_in(to_beijing.reservations) == [(product_id, NORTH["code"], 2, "active")]
        assert held_in(to_the_east.reservations) == [(product_id, EAST["code"], 1, "active")]

    def test_without_routing_the_pool_all_takes_the_line(self, stocked_in):
        product_id = stocked_in(east=5, north=5)

        placed = place_order(order_id="R-3", lines=[ReservationLine(product_id, 2)])

        # `all` by priority, then code: `default` (empty here), east-1, north-1.
        assert held_in(placed.reservations) == [(product_id, EAST["code"], 2, "active")]

    def test_a_split_line_is_paid_and_cancelled_whole(self, stocked_in):
        paid_product, cancelled_product = stocked_in(east=2, north=2), stocked_in(east=2, north=2)
        for order_id, product_id in (("R-4", paid_product), ("R-5", cancelled_product)):
            placed = place_order(
                order_id=order_id, lines=[ReservationLine(product_id, 3)], pool=NEAR_POOL, ship_to=BEIJING
            )
            assert held_in(placed.reservations) == [
                (product_id, NORTH["code"], 2, "active"),
                (product_id, EAST["code"], 1, "active"),
            ]

        paid = pay_order(order_id="R-4")
        cancelled = cancel_order(order_id="R-5")

        assert sorted(r.status for r in paid) == ["confirmed", "confirmed"]
        assert sorted(r.status for r in cancelled) == ["cancelled", "cancelled"]
        assert stock_of(paid_product) == (1, 0)
        assert stock_of(cancelled_product) == (4, 0)
        assert_invariants(paid_product)
        assert_invariants(cancelled_product)

    def test_a_failed_order_creation_releases_every_part(self, stocked_in):
        product_id = stocked_in(east=2, north=2)

        def create_order():
            raise ValueError("no order table today")

        with pytest.raises(ValueError, match="no order table"):
            place_order(
                order_id="R-6",
                lines=[ReservationLine(product_id, 4)],
                pool=NEAR_POOL,
                ship_to=BEIJING,
                create_order=create_order,
            )

        assert statuses("R-6") == [(product_id, "cancelled"), (product_id, "cancelled")]
        assert stock_of(product_id) == (4, 0)

    def test_without_split_the_line_is_short_by_the_pools_units(self, stocked_in):
        product_id = stocked_in(east=2, north=2)

        with pytest.raises(InsufficientStock) as rejected:
            place_order(
                order_id="R-7", lines=[ReservationLine(product_id, 3)], pool=NEAR_POOL, ship_to=BEIJING, split=False
            )

        assert rejected.value.short_lines == (ShortLine(product_id, 3, 4),)
        assert statuses("R-7") == []


@pytest.fixture
def placed(make_item):
    """Place a one-line order of 2 units; the product id."""

    def place(order_id: str, available_stock: int = 5) -> int:
        product_id = make_item(available_stock=available_stock).product_id
        place_order(order_id=order_id, lines=[ReservationLine(product_id, 2)])
        return product_id

    return place


class TestPayOrder:
    def test_takes_the_held_units_out_of_stock(self, placed):
        product_id = placed("P-1")

        paid = pay_order(order_id="P-1")

        assert [(r.status, r.reacquired) for r in paid] == [("confirmed", False)]
        assert stock_of(product_id) == (3, 0)

    def test_paying_twice_changes_nothing(self, placed):
        product_id = placed("P-2")
        pay_order(order_id="P-2")

        again = pay_order(order_id="P-2")

        assert [r.status for r in again] == ["confirmed"]
        assert stock_of(product_id) == (3, 0)
        assert_invariants(product_id)

    def test_a_late_payment_takes_the_units_again_if_they_are_there(self, placed):
        product_id = placed("P-3")
        make_overdue("P-3")

        paid = pay_order(order_id="P-3")

        assert [(r.status, r.reacquired) for r in paid] == [("confirmed", True)]
        assert stock_of(product_id) == (3, 0)
        assert_invariants(product_id)

    def test_a_late_payment_whose_units_were_sold_asks_for_a_refund(self, placed):
        product_id = placed("P-4", available_stock=2)
        make_overdue("P-4")
        place_order(order_id="P-5", lines=[ReservationLine(product_id, 2)])  # expires P-4's hold, takes the units

        with pytest.raises(RefundRequired) as refund:
            pay_order(order_id="P-4")

        assert refund.value.reason == "reservation_expired"
        assert refund.value.order_id == "P-4"
        assert refund.value.short_lines == (ShortLine(product_id, 2, 0),)
        assert "Refund order P-4" in str(refund.value)
        assert statuses("P-4") == [(product_id, "expired")]
        assert stock_of(product_id) == (0, 2)
        assert_invariants(product_id)

    def test_paying_a_cancelled_order_asks_for_a_refund(self, placed):
        product_id = placed("P-6")
        cancel_order(order_id="P-6")

        with pytest.raises(RefundRequired) as refund:
            pay_order(order_id="P-6")

        assert refund.value.reason == "reservation_not_active"
        assert stock_of(product_id) == (5, 0)


class TestCancelOrder:
    def test_gives_the_held_units_back_once(self, placed):
        product_id = placed("C-1")

        first = cancel_order(order_id="C-1")
        again = cancel_order(order_id="C-1")

        assert [r.status for r in first] == [r.status for r in again] == ["cancelled"]
        assert stock_of(product_id) == (5, 0)
        assert_invariants(product_id)

    def test_an_order_that_held_nothing_has_nothing_to_give_back(self, db):
        assert cancel_order(order_id="C-never-placed") == []

    def test_a_paid_order_cannot_be_cancelled_here(self, placed):
        product_id = placed("C-2")
        pay_order(order_id="C-2")

        with pytest.raises(ReservationNotActive):
            cancel_order(order_id="C-2")

        assert stock_of(product_id) == (3, 0)
