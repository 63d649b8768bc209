from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from inventory import limits, services
from inventory.exceptions import InsufficientStock, InvalidInput, ProductNotFound, ReservationExists
from inventory.models import InventoryLog, Reservation
from inventory.services import ReservationLine
from tests.inventory.helpers import assert_invariants, last_entry, stock_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("store")]


def reserve(order_id, *lines, actor="order-app", **kwargs):
    return services.reserve_stock(
        order_id=order_id, lines=[ReservationLine(p, q) for p, q in lines], actor=actor, **kwargs
    )


def make_overdue(*reservations):
    Reservation.objects.filter(pk__in=[r.pk for r in reservations]).update(
        expires_at=F("expires_at") - timedelta(days=1)
    )


class TestReserveOneLine:
    def test_moves_units_from_available_to_reserved(self, make_item):
        item = make_item(available_stock=10)

        result = reserve("A-1", (item.product_id, 3))

        assert result.created
        [reservation] = result.reservations
        assert (reservation.order_id, reservation.quantity, reservation.status) == ("A-1", 3, "active")
        assert reservation.reacquired is False
        assert stock_of(item.product_id) == (7, 3)
        entry = last_entry(item.product_id)
        assert (entry.operation, entry.quantity, entry.order_id, entry.actor) == ("reserve", 3, "A-1", "order-app")
        assert (entry.available_before, entry.available_after, entry.reserved_before, entry.reserved_after) == (
            10,
            7,
            0,
            3,
        )
        assert_invariants(item.product_id)

    def test_expires_after_the_default_ttl(self, make_item, settings):
        settings.INVENTORY_RESERVATION_TTL = 1800
        item = make_item()

        [reservation] = reserve("A-1", (item.product_id, 1)).reservations

        assert reservation.expires_at - reservation.created_at == timedelta(seconds=1800)

    def test_takes_a_ttl(self, make_item):
        [reservation] = reserve("A-1", (make_item().product_id, 1), ttl_seconds=60).reservations

        assert reservation.expires_at - reservation.created_at == timedelta(seconds=60)

    def test_quantity_equal_to_available(self, make_item):
        item = make_item(available_stock=5)

        reserve("A-1", (item.product_id, 5))

        assert stock_of(item.product_id) == (0, 5)

    def test_one_more_than_available_changes_nothing(self, make_item):
        item = make_item(available_stock=5)

        with pytest.raises(InsufficientStock) as raised:
            reserve("A-1", (item.product_id, 6))

        assert raised.value.details == {"items": [{"product_id": item.product_id, "requested": 6, "available": 5}]}
        assert stock_of(item.product_id) == (5, 0)
        assert not Reservation.objects.exists()

    def test_no_stock(self, make_item):
        item = make_item(available_stock=0)

        with pytest.raises(InsufficientStock):
            reserve("A-1", (item.product_id, 1))

    def test_the_largest_allowed_quantity(self, make_item):
        item = make_item(available_stock=limits.MAX_QUANTITY)

        reserve("A-1", (item.product_id, limits.MAX_QUANTITY))

        assert stock_of(item.product_id) == (0, limits.MAX_QUANTITY)

    def test_unknown_product(self, db):
        with pytest.raises(ProductNotFound):
            reserve("A-1", (123_456, 1))

    @pytest.mark.parametrize(
        ("order_id", "quantity", "ttl"),
        [
            ("", 1, None),
            ("x" * 65, 1, None),
            ("bad id", 1, None),
            (42, 1, None),
            ("A", 0, None),
            ("A", limits.MAX_QUANTITY + 1, None),
            ("A", True, None),
            ("A", 1, 0),
            ("A", 1, 86_401),
        ],
    )
    def test_refuses_invalid_arguments(self, make_item, order_id, quantity, ttl):
        item = make_item()

        with pytest.raises(InvalidInput):
            reserve(order_id, (item.product_id, quantity), ttl_seconds=ttl)
        assert stock_of(item.product_id) == (10, 0)


class TestReserveRepeats:
    def test_same_request_again_changes_nothing(self, make_item):
        item = make_item(available_stock=10)
        first = reserve("A-1", (item.product_id, 3))

        again = reserve("A-1", (item.product_id, 3))

        assert not again.created
        assert [r.pk for r in again.reservations] == [r.pk for r in first.reservations]
        assert stock_of(item.product_id) == (7, 3)
        assert InventoryLog.objects.filter(product_id=item.product_id).count() == 2

    def test_repeat_of_a_confirmed_line_changes_nothing(self, make_item):
        item = make_item(available_stock=10)
        reserve("A-1", (item.product_id, 3))
        services.deduct_reservations(order_id="A-1", actor="order-app")

        again = reserve("A-1", (item.product_id, 3))

        assert not again.created
        assert again.reservations[0].status == "confirmed"

    def test_another_quantity_conflicts(self, make_item):
        item = make_item(available_stock=10)
        reserve("A-1", (item.product_id, 3))

        with pytest.raises(ReservationExists):
            reserve("A-1", (item.product_id, 4))
        assert stock_of(item.product_id) == (7, 3)

    @pytest.mark.parametrize("end", ["release", "expire"])
    def test_an_ended_line_is_never_reopened(self, make_item, end):
        item = make_item(available_stock=10)
        result = reserve("A-1", (item.product_id, 3))
        if end == "release":
            services.release_reservations(order_id="A-1", actor="order-app")
        else:
            make_overdue(*result.reservations)
            services.expire_overdue_reservations()

        with pytest.raises(ReservationExists):
            reserve("A-1", (item.product_id, 3))
        assert stock_of(item.product_id) == (10, 0)

    def test_new_lines_beside_existing_ones_are_reserved(self, make_item):
        first, second = make_item(), make_item()
        reserve("A-1", (first.product_id, 1))

        result = reserve("A-1", (first.product_id, 1), (second.product_id, 2))

        assert result.created
        assert [r.product_id for r in result.reservations] == [first.product_id, second.product_id]
        assert stock_of(first.product_id) == (9, 1)
        assert stock_of(second.product_id) == (8, 2)


class TestReserveWholeOrder:
    def test_every_line_or_none(self, make_item):
        plenty, scarce = make_item(available_stock=10), make_item(available_stock=1)

        with pytest.raises(InsufficientStock) as raised:
            reserve("A-1", (plenty.product_id, 2), (scarce.product_id, 2))

        assert raised.value.details["items"] == [{"product_id": scarce.product_id, "requested": 2, "available": 1}]
        assert stock_of(plenty.product_id) == (10, 0)
        assert not Reservation.objects.exists()

    def test_lists_every_short_line(self, make_item):
        first, second = make_item(available_stock=0), make_item(available_stock=1)

        with pytest.raises(InsufficientStock) as raised:
            reserve("A-1", (second.product_id, 5), (first.product_id, 5))

        assert {line["product_id"] for line in raised.value.details["items"]} == {first.product_id, second.product_id}

    def test_answers_in_request_order(self, make_item):
        first, second = make_item(), make_item()

        result = reserve("A-1", (second.product_id, 1), (first.product_id, 1))

        assert [r.product_id for r in result.reservations] == [second.product_id, first.product_id]

    def test_unknown_product_among_lines(self, make_item):
        item = make_item()

        with pytest.raises(ProductNotFound):
            reserve("A-1", (item.product_id, 1), (987_654, 1))
        assert stock_of(item.product_id) == (10, 0)

    def test_refuses_a_product_twice_and_too_many_lines(self, make_item):
        item = make_item()

        with pytest.raises(InvalidInput):
            reserve("A-1", (item.product_id, 1), (item.product_id, 1))
        with pytest.raises(InvalidInput):
            services.reserve_stock(order_id="A-1", lines=[], actor="order-app")
        with pytest.raises(InvalidInput):
            reserve("A-1", *[(p, 1) for p in range(1, 102)])


class TestReserveExpiresOverdueHolds:
    def test_a_short_reserve_first_frees_overdue_holds_of_that_product(self, make_item):
        item = make_item(available_stock=5)
        stale = reserve("OLD", (item.product_id, 5))
        make_overdue(*stale.reservations)

        reserve("NEW", (item.product_id, 5))

        assert Reservation.objects.get(order_id="OLD").status == "expired"
        assert stock_of(item.product_id) == (0, 5)
        operations = list(
            InventoryLog.objects.filter(product_id=item.product_id).order_by("id").values_list("operation", "actor")
        )
        assert operations[-2:] == [("expire", "system"), ("reserve", "order-app")]
        assert_invariants(item.product_id)

    def test_holds_that_are_not_overdue_stay(self, make_item):
        item = make_item(available_stock=5)
        reserve("OLD", (item.product_id, 5))

        with pytest.raises(InsufficientStock):
            reserve("NEW", (item.product_id, 1))
        assert Reservation.objects.get(order_id="OLD").status == "active"


class TestReserveQueryCount:
    def count_queries(self, lines):
        with CaptureQueriesContext(connection) as queries:
            reserve(f"Q-{len(lines)}", *lines)
        # The savepoints stand in for BEGIN/COMMIT inside the test's transaction.
        return sum(not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT")) for query in queries)

    def test_costs_a_constant_number_of_queries_per_line(self, make_item, store):
        items = [make_item() for _ in range(5)]

        one = self.count_queries([(items[0].product_id, 1)])
        two = self.count_queries([(i.product_id, 1) for i in items[1:3]])
        three = self.count_queries([(i.product_id, 1) for i in items[2:5]])

        if store == "postgresql":
            assert one == two == three == 1
        else:
            assert two - one == three - two == 1
            # existing lines, the pool, the candidate levels locked, the levels locked for the update
            # (move_many locks whatever its caller holds), the update, read back, clock, inserts of holds and entries
            assert one == 9

    def test_a_sold_out_answer_is_one_query(self, make_item, store):
        item = make_item(available_stock=0)
        with CaptureQueriesContext(connection) as queries, pytest.raises(InsufficientStock):
            reserve("SOLD-OUT", (item.product_id, 1))
        statements = [
            query["sql"] for query in queries if not query["sql"].startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))
        ]
        if store == "postgresql":
            assert len(statements) == 1
        else:
            assert len(statements) == 4  # existing lines, the pool, the candidate levels, the explanation
