import pytest

from inventory import limits, services
from inventory.exceptions import (
    AlreadyExists,
    InvalidInput,
    ProductNotFound,
    StockWouldGoNegative,
    VersionConflict,
)
from inventory.models import InventoryLog
from tests.inventory.helpers import assert_invariants, last_entry, stock_of

pytestmark = pytest.mark.django_db


class TestCreate:
    def test_creates_the_record_and_a_create_entry_from_zero(self, actor):
        item = services.create_inventory(product_id=42, available_stock=100, low_stock_threshold=15, actor=actor)

        assert (item.available_stock, item.reserved_stock, item.total_stock) == (100, 0, 100)
        assert item.version == 1
        assert item.low_stock_since is None
        entry = last_entry(42)
        assert entry.operation == InventoryLog.Operation.CREATE
        assert (entry.quantity, entry.available_before, entry.available_after) == (100, 0, 100)
        assert (entry.reserved_before, entry.reserved_after, entry.actor) == (0, 0, actor)
        assert_invariants(42)

    def test_defaults_to_no_stock_and_threshold_ten_which_is_low(self, actor):
        item = services.create_inventory(product_id=7, actor=actor)

        assert (item.available_stock, item.low_stock_threshold) == (0, 10)
        assert item.is_low_stock
        assert not item.in_stock
        assert item.low_stock_since is not None

    def test_refuses_a_second_record_for_the_same_product(self, make_item, actor):
        item = make_item()

        with pytest.raises(AlreadyExists):
            services.create_inventory(product_id=item.product_id, actor=actor)
        assert InventoryLog.objects.filter(product_id=item.product_id).count() == 1

    @pytest.mark.parametrize("product_id", [0, -1, 2**63, True, "5", 1.0])
    def test_refuses_an_invalid_product_id(self, product_id, actor):
        with pytest.raises(InvalidInput):
            services.create_inventory(product_id=product_id, actor=actor)

    def test_refuses_negative_stock(self, actor):
        with pytest.raises(InvalidInput):
            services.create_inventory(product_id=3, available_stock=-1, actor=actor)


class TestRestock:
    def test_adds_to_available_and_logs_reason_and_reference(self, make_item, actor):
        item = make_item(available_stock=5)

        after = services.restock(
            product_id=item.product_id, quantity=20, actor=actor, reason="delivery", reference="PO-9"
        )

        assert (after.available_stock, after.version) == (25, 2)
        entry = last_entry(item.product_id)
        assert (entry.operation, entry.quantity, entry.available_before, entry.available_after) == (
            "restock",
            20,
            5,
            25,
        )
        assert (entry.reason, entry.reference) == ("delivery", "PO-9")

    def test_takes_the_largest_allowed_quantity(self, make_item, actor):
        item = make_item(available_stock=0)

        after = services.restock(product_id=item.product_id, quantity=limits.MAX_QUANTITY, actor=actor)

        assert after.available_stock == limits.MAX_QUANTITY

    @pytest.mark.parametrize("quantity", [0, -5, limits.MAX_QUANTITY + 1, True, 2.0, "3", None])
    def test_refuses_quantities_out_of_range(self, make_item, actor, quantity):
        item = make_item(available_stock=5)

        with pytest.raises(InvalidInput):
            services.restock(product_id=item.product_id, quantity=quantity, actor=actor)
        assert stock_of(item.product_id) == (5, 0)

    def test_unknown_product(self, db, actor):
        with pytest.raises(ProductNotFound):
            services.restock(product_id=999_999, quantity=1, actor=actor)

    def test_clears_low_stock_since_when_lifted_above_the_threshold(self, make_item, actor):
        item = make_item(available_stock=1, low_stock_threshold=5)
        assert item.low_stock_since is not None

        assert services.restock(product_id=item.product_id, quantity=10, actor=actor).low_stock_since is None


class TestAdjust:
    def test_by_a_negative_delta(self, make_item, actor):
        item = make_item(available_stock=10)

        after = services.adjust_stock(product_id=item.product_id, delta=-4, reason="broken", actor=actor)

        assert after.available_stock == 6
        entry = last_entry(item.product_id)
        assert (entry.operation, entry.quantity, entry.available_before, entry.available_after) == (
            "adjust",
            -4,
            10,
            6,
        )
        assert entry.reason == "broken"

    def test_to_a_counted_figure_logs_the_signed_change(self, make_item, actor):
        item = make_item(available_stock=10)

        after = services.adjust_stock(product_id=item.product_id, counted=13, reason="stock-take", actor=actor)

        assert after.available_stock == 13
        assert last_entry(item.product_id).quantity == 3

    def test_to_exactly_zero(self, make_item, actor):
        item = make_item(available_stock=10)

        assert (
            services.adjust_stock(product_id=item.product_id, delta=-10, reason="lost", actor=actor).available_stock
            == 0
        )
        assert services.adjust_stock(product_id=item.product_id, counted=0, reason="recount", actor=actor).version == 3
        assert_invariants(item.product_id)

    def test_below_zero_changes_nothing(self, make_item, actor):
        item = make_item(available_stock=3)

        with pytest.raises(StockWouldGoNegative) as raised:
            services.adjust_stock(product_id=item.product_id, delta=-4, reason="count", actor=actor)

        assert raised.value.details["available_stock"] == 3
        assert stock_of(item.product_id) == (3, 0)
        assert InventoryLog.objects.filter(product_id=item.product_id).count() == 1

    def test_never_takes_reserved_units(self, make_item, actor):
        item = make_item(available_stock=5)
        services.reserve_stock(order_id="A", lines=[services.ReservationLine(item.product_id, 4)], actor=actor)

        with pytest.raises(StockWouldGoNegative):
            services.adjust_stock(product_id=item.product_id, delta=-2, reason="count", actor=actor)
        assert stock_of(item.product_id) == (1, 4)

    def test_with_the_version_seen(self, make_item, actor):
        item = make_item(available_stock=5)

        after = services.adjust_stock(
            product_id=item.product_id, counted=7, reason="count", actor=actor, expected_version=item.version
        )

        assert (after.available_stock, after.version) == (7, item.version + 1)

    @pytest.mark.parametrize("change", [{"delta": 1}, {"counted": 9}])
    def test_with_a_stale_version_changes_nothing(self, make_item, actor, change):
        item = make_item(available_stock=5)
        services.restock(product_id=item.product_id, quantity=1, actor=actor)

        with pytest.raises(VersionConflict) as raised:
            services.adjust_stock(
                product_id=item.product_id, reason="count", actor=actor, expected_version=item.version, **change
            )

        assert raised.value.details == {"current_version": item.version + 1}
        assert stock_of(item.product_id) == (6, 0)

    @pytest.mark.parametrize(
        "arguments",
        [
            {"reason": "x"},
            {"reason": "x", "delta": 1, "counted": 1},
            {"reason": " ", "delta": 1},
            {"reason": "x", "counted": -1},
        ],
    )
    def test_refuses_malformed_requests(self, make_item, actor, arguments):
        item = make_item()

        with pytest.raises(InvalidInput):
            services.adjust_stock(product_id=item.product_id, actor=actor, **arguments)

    @pytest.mark.parametrize("change", [{"delta": 1}, {"counted": 1}])
    def test_unknown_product(self, db, actor, change):
        with pytest.raises(ProductNotFound):
            services.adjust_stock(product_id=999_998, reason="x", actor=actor, **change)


class TestThreshold:
    def test_sets_it_and_logs_the_new_value(self, make_item, actor):
        item = make_item(available_stock=10, low_stock_threshold=2)

        after = services.set_low_stock_threshold(product_id=item.product_id, low_stock_threshold=10, actor=actor)

        assert (after.low_stock_threshold, after.is_low_stock, after.version) == (10, True, 2)
        assert after.low_stock_since is not None
        entry = last_entry(item.product_id)
        assert (entry.operation, entry.quantity, entry.available_before, entry.available_after) == (
            "threshold",
            10,
            10,
            10,
        )

    def test_low_since_is_kept_while_the_item_stays_low(self, make_item, actor):
        item = make_item(available_stock=3, low_stock_threshold=5)

        after = services.adjust_stock(product_id=item.product_id, delta=-1, reason="x", actor=actor)

        assert after.low_stock_since == item.low_stock_since

    def test_stale_version(self, make_item, actor):
        item = make_item()

        with pytest.raises(VersionConflict):
            services.set_low_stock_threshold(
                product_id=item.product_id, low_stock_threshold=1, actor=actor, expected_version=item.version + 5
            )

    def test_unknown_product(self, db, actor):
        with pytest.raises(ProductNotFound):
            services.set_low_stock_threshold(product_id=999_997, low_stock_threshold=1, actor=actor)

    def test_refuses_a_negative_threshold(self, make_item, actor):
        with pytest.raises(InvalidInput):
            services.set_low_stock_threshold(product_id=make_item().product_id, low_stock_threshold=-1, actor=actor)
