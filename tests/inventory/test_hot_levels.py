"""Hot levels through the services, on both stores: buckets, their ledger, and every change of a hot level."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory import services
from inventory.exceptions import (
    InsufficientStock,
    InvalidInput,
    ProductNotFound,
    StockWouldGoNegative,
    VersionConflict,
)
from inventory.models import InventoryLog, Reservation, StockLevel, StockRow
from inventory.selectors import empty_levels, low_levels
from inventory.services import TransferLineInput, allocation
from tests.inventory.helpers import assert_invariants, stock_of
from tests.inventory.test_services_reserve import make_overdue, reserve

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("store")]


def rows(product_id: int, code: str = "default") -> dict[int, tuple[int, int]]:
    """bucket -> (available, reserved) of a level's rows."""
    return {
        r.bucket: (r.available_stock, r.reserved_stock)
        for r in StockRow.objects.filter(product_id=product_id, warehouse__code=code)
    }


def hot(item, buckets: int, **kwargs) -> StockLevel:
    return services.make_hot(product_id=item.product_id, buckets=buckets, actor="lead", **kwargs)


class TestMakeHot:
    def test_spreads_the_stock_evenly_with_a_rebalance_entry_per_changed_row(self, make_item):
        item = make_item(available_stock=10)

        level = hot(item, 4)

        assert level.buckets == 4
        assert (level.available_stock, level.reserved_stock) == (10, 0)
        assert rows(item.product_id) == {0: (3, 0), 1: (3, 0), 2: (2, 0), 3: (2, 0)}
        entries = InventoryLog.objects.filter(product_id=item.product_id, operation="rebalance").order_by("id")
        assert [(e.bucket, e.quantity, e.available_before, e.available_after) for e in entries] == [
            (0, -7, 10, 3),
            (1, 3, 0, 3),
            (2, 2, 0, 2),
            (3, 2, 0, 2),
        ]
        assert stock_of(item.product_id) == (10, 0)
        assert_invariants(item.product_id)

    def test_turning_it_off_merges_the_rows_back(self, make_item):
        item = make_item(available_stock=10)
        hot(item, 4)

        level = hot(item, 1)

        assert level.buckets == 1
        assert rows(item.product_id) == {0: (10, 0)}
        assert_invariants(item.product_id)

    def test_a_row_holding_reserved_stock_lingers_until_its_holds_end(self, make_item):
        item = make_item(available_stock=8)
        hot(item, 2)
        result = reserve("H-1", (item.product_id, 4))
        bucket = result.reservations[0].bucket

        hot(item, 1)

        if bucket:
            assert rows(item.product_id)[bucket] == (0, 4)
        assert stock_of(item.product_id) == (4, 4)
        assert_invariants(item.product_id)
        services.release_reservations(order_id="H-1", actor="order-app")
        services.rebalance_hot_levels()
        assert rows(item.product_id) == {0: (8, 0)}
        assert_invariants(item.product_id)

    def test_the_level_version_only_grows_when_rows_are_dropped(self, make_item):
        item = make_item(available_stock=10)
        before = hot(item, 8).version
        after = hot(item, 1).version
        assert after > before

    @pytest.mark.parametrize("buckets", [0, 65, True, 2.0, "4", None])
    def test_strict_bucket_counts(self, make_item, buckets):
        item = make_item(available_stock=10)
        with pytest.raises(InvalidInput):
            hot(item, buckets)
        assert rows(item.product_id) == {0: (10, 0)}

    def test_unknown_product(self, db):
        with pytest.raises(ProductNotFound):
            services.make_hot(product_id=424242, buckets=4, actor="lead")

    def test_opens_the_level_in_another_warehouse(self, make_item, warehouse):
        item = make_item(available_stock=3)
        warehouse("north")

        level = hot(item, 4, warehouse="north")

        assert (level.buckets, level.available_stock) == (4, 0)
        assert set(rows(item.product_id, "north")) == {0, 1, 2, 3}


class TestReserveOnAHotLevel:
    def test_a_line_larger_than_any_bucket_is_gathered_into_one_row(self, make_item):
        item = make_item(available_stock=8)
        hot(item, 4)

        result = reserve("G-1", (item.product_id, 7))

        assert [r.quantity for r in result.reservations] == [7]
        assert stock_of(item.product_id) == (1, 7)
        assert InventoryLog.objects.filter(product_id=item.product_id, operation="rebalance").count() > 4
        assert_invariants(item.product_id)

    def test_it_fails_only_when_the_whole_level_is_short(self, make_item):
        item = make_item(available_stock=8)
        hot(item, 4)
        reserve("S-1", (item.product_id, 8))

        with pytest.raises(InsufficientStock) as refused:
            reserve("S-2", (item.product_id, 1))

        assert refused.value.details["items"][0]["available"] == 0
        assert_invariants(item.product_id)

    def test_release_deduct_and_expiry_return_units_to_the_holds_row(self, make_item):
        item = make_item(available_stock=12)
        hot(item, 3)
        for order in ("E-1", "E-2", "E-3"):
            reserve(order, (item.product_id, 2))

        services.release_reservations(order_id="E-1", actor="order-app")
        services.deduct_reservations(order_id="E-2", actor="order-app")
        make_overdue(*Reservation.objects.filter(order_id="E-3"))
        assert services.expire_overdue_reservations() == 1

        assert stock_of(item.product_id) == (10, 0)
        ended = InventoryLog.objects.filter(product_id=item.product_id, operation__in=["release", "deduct", "expire"])
        holds = {r.order_id: r.bucket for r in Reservation.objects.filter(product_id=item.product_id)}
        assert {(e.order_id, e.bucket) for e in ended} == set(holds.items())
        assert_invariants(item.product_id)

    def test_a_late_payment_gathers_units_from_the_other_rows(self, make_item):
        item = make_item(available_stock=4)
        hot(item, 2)
        held = reserve("L-1", (item.product_id, 2)).reservations[0]
        make_overdue(held)
        services.expire_overdue_reservations()
        # Empty the hold's row, leave the units in the other one.
        other = 1 - held.bucket
        StockRow.objects.filter(product_id=item.product_id, bucket=held.bucket).update(available_stock=0)
        StockRow.objects.filter(product_id=item.product_id, bucket=other).update(available_stock=4)

        services.deduct_reservations(order_id="L-1", actor="order-app")

        assert Reservation.objects.get(order_id="L-1").reacquired
        assert stock_of(item.product_id) == (2, 0)


class TestStaffChangesOfAHotLevel:
    def test_restock_is_spread_over_the_rows(self, make_item):
        item = make_item(available_stock=0)
        hot(item, 4)

        services.restock(product_id=item.product_id, quantity=8, actor="lead")

        assert rows(item.product_id) == {0: (2, 0), 1: (2, 0), 2: (2, 0), 3: (2, 0)}
        restocks = InventoryLog.objects.filter(product_id=item.product_id, operation="restock")
        assert [(e.bucket, e.quantity) for e in restocks] == [(0, 8)]
        assert_invariants(item.product_id)

    def test_a_lowering_adjustment_gathers_from_every_row(self, make_item):
        item = make_item(available_stock=8)
        hot(item, 4)

        services.adjust_stock(product_id=item.product_id, delta=-7, reason="count", actor="lead")

        assert stock_of(item.product_id) == (1, 0)
        with pytest.raises(StockWouldGoNegative):
            services.adjust_stock(product_id=item.product_id, delta=-2, reason="count", actor="lead")
        assert_invariants(item.product_id)

    def test_a_count_and_expected_version_are_the_levels(self, make_item):
        item = make_item(available_stock=8)
        level = hot(item, 4)

        with pytest.raises(VersionConflict):
            services.adjust_stock(
                product_id=item.product_id, counted=3, reason="count", actor="lead", expected_version=level.version + 1
            )
        services.adjust_stock(
            product_id=item.product_id, counted=3, reason="count", actor="lead", expected_version=level.version
        )
        assert stock_of(item.product_id) == (3, 0)
        current = StockLevel.objects.get(product_id=item.product_id)
        services.set_low_stock_threshold(
            product_id=item.product_id, low_stock_threshold=5, actor="lead", expected_version=current.version
        )
        assert StockLevel.objects.get(product_id=item.product_id).is_low_stock
        assert_invariants(item.product_id)

    def test_a_transfer_out_of_a_hot_level_and_into_one(self, make_item, warehouse):
        item = make_item(available_stock=9)
        warehouse("north")
        hot(item, 3)
        hot(item, 2, warehouse="north")

        shipment = services.create_transfer(
            source="default", destination="north", lines=[TransferLineInput(item.product_id, 8)], actor="lead"
        )
        services.receive_transfer(transfer_id=shipment.pk, actor="lead")

        assert sum(a for a, _ in rows(item.product_id).values()) == 1
        assert rows(item.product_id, "north") == {0: (4, 0), 1: (4, 0)}
        assert_invariants(item.product_id)


class TestAllocationOfRows:
    def test_spread_and_uneven(self):
        assert allocation.spread([(0, 10), (1, 0)], 2) == {0: -5, 1: 5}
        assert allocation.spread([(0, 5), (1, 5)], 2) == {}
        assert allocation.spread([(0, 1), (1, 0), (2, 3)], 2) == {0: 1, 1: 2, 2: -3}
        with pytest.raises(ValueError, match="lacks"):
            allocation.spread([(0, 1)], 2)
        assert allocation.uneven([(0, 9), (1, 1)], 2)
        assert not allocation.uneven([(0, 6), (1, 4)], 2)
        assert allocation.uneven([(0, 0), (1, 0), (2, 1)], 2)

    def test_gather_takes_the_fullest_rows_first(self):
        assert allocation.gather(0, 5, [(0, 1), (1, 2), (2, 3)]) == ((2, 3), (1, 1))
        assert allocation.gather(0, 1, [(0, 1), (1, 2)]) == ()
        assert allocation.gather(0, 9, [(0, 1), (1, 2)]) is None


class TestReadsOfAHotLevel:
    def test_low_and_empty_levels_are_judged_on_the_levels_sums(self, make_item):
        item = make_item(available_stock=8, low_stock_threshold=2)
        hot(item, 4)
        # Row 0 holds 2 of the 8: low on its own, not as the level.
        assert rows(item.product_id)[0] == (2, 0)
        assert not low_levels(product_id=item.product_id).exists()

        services.adjust_stock(product_id=item.product_id, delta=-6, reason="count", actor="lead")
        assert low_levels(product_id=item.product_id).exists()
        assert not empty_levels(product_id=item.product_id).exists()

        services.adjust_stock(product_id=item.product_id, delta=-2, reason="count", actor="lead")
        assert empty_levels(product_id=item.product_id).exists()
        assert StockLevel.objects.get(product_id=item.product_id).available_stock == 0


@pytest.mark.django_db(transaction=True)
def test_a_product_of_several_levels_is_not_tried_a_second_time(spread_item, store):
    """The second try waits for a hot level's row; a product of several levels goes to the planned path at once.
    (Outside a transaction: inside one, a single line runs in a savepoint and never tries twice.)"""
    item = spread_item(1, 5, 0)
    with CaptureQueriesContext(connection) as queries:
        reserve("R-1", (item.product_id, 3))
    assert sum("taken AS" in query["sql"] for query in queries.captured_queries) == (store == "postgresql")
    assert stock_of(item.product_id) == (3, 3)
