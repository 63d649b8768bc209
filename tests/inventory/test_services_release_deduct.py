import pytest

from inventory import selectors, services
from inventory.exceptions import (
    InvalidInput,
    ReservationExpired,
    ReservationNotActive,
    ReservationNotFound,
)
from inventory.models import InventoryLog, Reservation
from tests.inventory.helpers import assert_invariants, last_entry, stock_of
from tests.inventory.test_services_reserve import make_overdue, reserve

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("store")]


def release(order_id, **kwargs):
    return services.release_reservations(order_id=order_id, actor="order-app", **kwargs)


def deduct(order_id, **kwargs):
    return services.deduct_reservations(order_id=order_id, actor="order-app", **kwargs)


def operations(product_id):
    return list(InventoryLog.objects.filter(product_id=product_id).order_by("id").values_list("operation", flat=True))


class TestRelease:
    def test_gives_held_units_back(self, make_item):
        item = make_item(available_stock=10)
        reserve("A-1", (item.product_id, 4))

        [reservation] = release("A-1")

        assert reservation.status == "cancelled"
        assert stock_of(item.product_id) == (10, 0)
        entry = last_entry(item.product_id)
        assert (entry.operation, entry.quantity, entry.order_id, entry.reserved_before, entry.reserved_after) == (
            "release",
            4,
            "A-1",
            4,
            0,
        )
        assert_invariants(item.product_id)

    def test_one_product_of_an_order(self, make_item):
        first, second = make_item(), make_item()
        reserve("A-1", (first.product_id, 1), (second.product_id, 2))

        [reservation] = release("A-1", product_id=second.product_id)

        assert reservation.product_id == second.product_id
        assert stock_of(first.product_id) == (9, 1)
        assert stock_of(second.product_id) == (10, 0)

    def test_again_returns_the_ended_lines_unchanged(self, make_item):
        item = make_item()
        reserve("A-1", (item.product_id, 1))
        release("A-1")

        [reservation] = release("A-1")

        assert reservation.status == "cancelled"
        assert operations(item.product_id) == ["create", "reserve", "release"]

    def test_an_expired_line_is_returned_unchanged(self, make_item):
        item = make_item()
        make_overdue(*reserve("A-1", (item.product_id, 1)).reservations)
        services.expire_overdue_reservations()

        [reservation] = release("A-1")

        assert reservation.status == "expired"
        assert operations(item.product_id) == ["create", "reserve", "expire"]

    def test_a_confirmed_line_stops_the_whole_order(self, make_item):
        first, second = make_item(), make_item()
        reserve("A-1", (first.product_id, 1), (second.product_id, 1))
        deduct("A-1", product_id=first.product_id)

        with pytest.raises(ReservationNotActive):
            release("A-1")

        assert Reservation.objects.get(product_id=second.product_id).status == "active"
        assert stock_of(second.product_id) == (9, 1)

    def test_unknown_order(self, make_item):
        reserve("A-1", (make_item().product_id, 1))

        with pytest.raises(ReservationNotFound):
            release("NOPE")
        with pytest.raises(ReservationNotFound):
            release("A-1", product_id=999_999)

    def test_refuses_a_malformed_order_id(self, db):
        with pytest.raises(InvalidInput):
            release("no spaces")


class TestDeduct:
    def test_confirms_and_takes_the_units_out_of_reserved(self, make_item):
        item = make_item(available_stock=10)
        reserve("A-1", (item.product_id, 4))

        [reservation] = deduct("A-1")

        assert (reservation.status, reservation.reacquired) == ("confirmed", False)
        assert stock_of(item.product_id) == (6, 0)
        entry = last_entry(item.product_id)
        assert (entry.operation, entry.available_before, entry.available_after) == ("deduct", 6, 6)
        assert (entry.reserved_before, entry.reserved_after) == (4, 0)
        assert_invariants(item.product_id)

    def test_again_changes_nothing(self, make_item):
        item = make_item()
        reserve("A-1", (item.product_id, 2))
        deduct("A-1")

        [reservation] = deduct("A-1")

        assert reservation.status == "confirmed"
        assert operations(item.product_id) == ["create", "reserve", "deduct"]

    def test_a_cancelled_line_stops_the_whole_order(self, make_item):
        first, second = make_item(), make_item()
        reserve("A-1", (first.product_id, 1), (second.product_id, 1))
        release("A-1", product_id=first.product_id)

        with pytest.raises(ReservationNotActive):
            deduct("A-1")
        assert Reservation.objects.get(product_id=second.product_id).status == "active"

    def test_unknown_order(self, db):
        with pytest.raises(ReservationNotFound):
            deduct("NOPE")


class TestLatePayment:
    @pytest.mark.parametrize("cleanup_ran", [True, False])
    def test_takes_the_units_again_when_they_are_there(self, make_item, cleanup_ran):
        item = make_item(available_stock=10)
        make_overdue(*reserve("A-1", (item.product_id, 4)).reservations)
        if cleanup_ran:
            assert services.expire_overdue_reservations() == 1

        [reservation] = deduct("A-1")

        assert (reservation.status, reservation.reacquired) == ("confirmed", True)
        assert stock_of(item.product_id) == (6, 0)
        assert operations(item.product_id) == ["create", "reserve", "expire", "deduct"]
        assert_invariants(item.product_id)

    def test_never_takes_units_held_for_others(self, make_item):
        item = make_item(available_stock=5)
        make_overdue(*reserve("LATE", (item.product_id, 5)).reservations)
        services.expire_overdue_reservations()
        reserve("OTHER", (item.product_id, 3))

        with pytest.raises(ReservationExpired) as raised:
            deduct("LATE")

        assert raised.value.details["items"] == [{"product_id": item.product_id, "requested": 5, "available": 2}]
        assert Reservation.objects.get(order_id="LATE").status == "expired"
        assert stock_of(item.product_id) == (2, 3)

    def test_when_the_units_are_gone_the_overdue_hold_still_expires(self, make_item):
        kept, sold = make_item(available_stock=5), make_item(available_stock=5)
        overdue_hold = reserve("LATE", (kept.product_id, 1)).reservations
        make_overdue(*overdue_hold)
        make_overdue(*reserve("LATE", (sold.product_id, 5)).reservations)
        services.expire_overdue_reservations(product_ids=[sold.product_id])
        reserve("OTHER", (sold.product_id, 5))

        with pytest.raises(ReservationExpired):
            deduct("LATE")

        # The overdue hold was expired and logged by the payment; nothing else moved.
        assert Reservation.objects.get(order_id="LATE", product_id=kept.product_id).status == "expired"
        assert operations(kept.product_id) == ["create", "reserve", "expire"]
        assert last_entry(kept.product_id).actor == "system"
        assert stock_of(kept.product_id) == (5, 0)
        assert_invariants(kept.product_id)
        assert_invariants(sold.product_id)


class TestExpiry:
    def test_expires_overdue_holds_in_batches_and_logs_each_once(self, make_item):
        first, second = make_item(available_stock=10), make_item(available_stock=10)
        holds = [reserve(f"O-{n}", (item.product_id, 1)).reservations[0] for n, item in enumerate([first, second] * 3)]
        fresh = reserve("FRESH", (first.product_id, 2))
        make_overdue(*holds)

        assert selectors.count_overdue_reservations() == 6
        assert services.expire_overdue_reservations(batch_size=4) == 6
        assert services.expire_overdue_reservations() == 0

        assert stock_of(first.product_id) == (8, 2)
        assert stock_of(second.product_id) == (10, 0)
        assert InventoryLog.objects.filter(operation="expire").count() == 6
        assert Reservation.objects.get(pk=fresh.reservations[0].pk).status == "active"
        assert_invariants(first.product_id)
        assert_invariants(second.product_id)

    def test_only_the_products_asked_for(self, make_item):
        first, second = make_item(), make_item()
        make_overdue(*reserve("A", (first.product_id, 1), (second.product_id, 1)).reservations)

        assert services.expire_overdue_reservations(product_ids=[second.product_id]) == 1
        assert stock_of(first.product_id) == (9, 1)
