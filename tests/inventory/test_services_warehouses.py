"""Stock per warehouse through the services, on both stores: routing, split lines, levels, transfers."""

import pytest

from inventory import services
from inventory.exceptions import (
    InsufficientStock,
    InvalidInput,
    PoolNotFound,
    ProductNotFound,
    ReservationExists,
    TransferNotOpen,
    VersionConflict,
    WarehouseNotFound,
)
from inventory.models import InventoryLog, Reservation, StockLevel
from inventory.selectors import ledger_discrepancies
from inventory.services import Routing, TransferLineInput
from inventory.services.allocation import Destination
from tests.inventory.helpers import assert_invariants, stock_of
from tests.inventory.test_services_reserve import make_overdue, reserve

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("store")]


def level(product_id: int, code: str) -> tuple[int, int, int]:
    row = StockLevel.objects.get(product_id=product_id, warehouse__code=code)
    return row.available_stock, row.reserved_stock, row.in_transit


def held_in(result) -> list[tuple[str, int]]:
    return [(r.warehouse.code, r.quantity) for r in result.reservations]


class TestRouting:
    def test_a_line_goes_whole_to_the_first_warehouse_of_the_pool_that_holds_it(self, spread_item):
        item = spread_item(2, 5, 9)

        result = reserve("R-1", (item.product_id, 4))

        assert held_in(result) == [("spread-1", 4)]
        assert level(item.product_id, "spread-1") == (1, 4, 0)
        assert_invariants(item.product_id)

    def test_a_line_no_warehouse_holds_is_split_in_the_pools_order(self, spread_item):
        item = spread_item(2, 3, 4)

        result = reserve("R-1", (item.product_id, 8))

        assert held_in(result) == [("default", 2), ("spread-1", 3), ("spread-2", 3)]
        assert stock_of(item.product_id) == (1, 8)
        entries = InventoryLog.objects.filter(product_id=item.product_id, operation="reserve").order_by("id")
        assert [(e.warehouse.code, e.quantity, e.available_before, e.available_after) for e in entries] == [
            ("default", 2, 2, 0),
            ("spread-1", 3, 3, 0),
            ("spread-2", 3, 4, 1),
        ]
        assert_invariants(item.product_id)

    def test_split_false_refuses_with_the_pools_units(self, spread_item):
        item = spread_item(2, 3, 4)

        with pytest.raises(InsufficientStock) as refused:
            reserve("R-1", (item.product_id, 8), routing=Routing(split=False))

        assert refused.value.details["items"] == [{"product_id": item.product_id, "requested": 8, "available": 9}]
        assert stock_of(item.product_id) == (9, 0)

    def test_a_split_order_is_all_or_nothing(self, spread_item, make_item):
        item, short = spread_item(2, 3, 4), make_item(available_stock=1)

        with pytest.raises(InsufficientStock):
            reserve("R-1", (item.product_id, 8), (short.product_id, 2))

        assert stock_of(item.product_id) == (9, 0)
        assert not Reservation.objects.filter(order_id="R-1").exists()

    def test_a_pool_sells_only_its_warehouses(self, spread_item, pool, warehouse):
        item = spread_item(5, 5, 5)
        east = pool("east", [StockLevel.objects.get(product_id=item.product_id, warehouse__code="spread-2").warehouse])

        result = reserve("R-1", (item.product_id, 5), routing=Routing(pool="east"))

        assert held_in(result) == [("spread-2", 5)]
        with pytest.raises(InsufficientStock) as refused:
            reserve("R-2", (item.product_id, 1), routing=Routing(pool=east.code))
        assert refused.value.details["items"][0]["available"] == 0

    def test_a_warehouse_that_does_not_accept_orders_is_left_out(self, spread_item):
        item = spread_item(0, 5, 5)
        StockLevel.objects.get(
            product_id=item.product_id, warehouse__code="spread-1"
        ).warehouse.__class__.objects.filter(code="spread-1").update(accepts_orders=False)

        assert held_in(reserve("R-1", (item.product_id, 5))) == [("spread-2", 5)]
        with pytest.raises(InsufficientStock):
            reserve("R-2", (item.product_id, 1))

    def test_nearest_routes_to_the_nearest_warehouse_that_holds_the_line(self, make_item, warehouse, pool, actor):
        item = make_item(available_stock=0)
        places = {
            "sh": warehouse("sh", latitude=31.23, longitude=121.47, priority=2),
            "bj": warehouse("bj", latitude=39.90, longitude=116.40, priority=1),
            "gz": warehouse("gz", latitude=23.13, longitude=113.26),
        }
        for code in places:
            services.restock(product_id=item.product_id, quantity=3, actor=actor, warehouse=code)
        pool("cn", places.values(), strategy="nearest")
        hangzhou = Routing(pool="cn", destination=Destination(latitude=30.27, longitude=120.16))

        assert held_in(reserve("N-1", (item.product_id, 2), routing=hangzhou)) == [("sh", 2)]
        # Shanghai has 1 left: the next nearest that holds all of the line.
        assert held_in(reserve("N-2", (item.product_id, 2), routing=hangzhou)) == [("gz", 2)]
        assert_invariants(item.product_id)

    def test_an_unknown_pool_is_not_found_and_a_malformed_one_invalid(self, make_item):
        item = make_item()
        with pytest.raises(PoolNotFound):
            reserve("P-1", (item.product_id, 1), routing=Routing(pool="nowhere"))
        with pytest.raises(InvalidInput):
            reserve("P-2", (item.product_id, 1), routing=Routing(pool="Not A Code"))
        assert stock_of(item.product_id) == (10, 0)


class TestSplitLines:
    def test_a_repeat_of_a_split_line_changes_nothing_and_another_quantity_conflicts(self, spread_item):
        item = spread_item(2, 3, 4)
        first = reserve("S-1", (item.product_id, 8))

        again = reserve("S-1", (item.product_id, 8))

        assert not again.created
        assert sorted(r.pk for r in again.reservations) == sorted(r.pk for r in first.reservations)
        with pytest.raises(ReservationExists):
            reserve("S-1", (item.product_id, 7))
        assert stock_of(item.product_id) == (1, 8)

    def test_release_and_deduct_move_every_part_together(self, spread_item):
        item = spread_item(2, 3, 4)
        reserve("S-1", (item.product_id, 8))
        reserve("S-2", (item.product_id, 1))

        released = services.release_reservations(order_id="S-1", actor="order-app")
        confirmed = services.deduct_reservations(order_id="S-2", actor="order-app")

        assert {r.status for r in released} == {"cancelled"}
        assert len(released) == 3
        assert [r.status for r in confirmed] == ["confirmed"]
        assert stock_of(item.product_id) == (8, 0)
        assert_invariants(item.product_id)

    def test_expiry_returns_each_part_to_its_level(self, spread_item):
        item = spread_item(2, 3, 4)
        make_overdue(*reserve("S-1", (item.product_id, 8)).reservations)

        assert services.expire_overdue_reservations() == 3

        assert [level(item.product_id, c) for c in ("default", "spread-1", "spread-2")] == [
            (2, 0, 0),
            (3, 0, 0),
            (4, 0, 0),
        ]
        assert_invariants(item.product_id)

    def test_a_late_payment_takes_every_part_again_from_its_level(self, spread_item):
        item = spread_item(2, 3, 4)
        make_overdue(*reserve("S-1", (item.product_id, 8)).reservations)

        confirmed = services.deduct_reservations(order_id="S-1", actor="order-app")

        assert {(r.status, r.reacquired) for r in confirmed} == {("confirmed", True)}
        assert stock_of(item.product_id) == (1, 0)
        assert_invariants(item.product_id)


class TestLevels:
    def test_restock_into_another_warehouse_opens_its_level_with_a_create_entry(self, make_item, warehouse, actor):
        item = make_item(available_stock=5)
        warehouse("north")

        record = services.restock(product_id=item.product_id, quantity=7, actor=actor, warehouse="north")

        assert (record.available_stock, level(item.product_id, "north")) == (12, (7, 0, 0))
        north = InventoryLog.objects.filter(product_id=item.product_id, warehouse__code="north").order_by("id")
        assert [(e.operation, e.quantity, e.available_before, e.available_after) for e in north] == [
            ("create", 0, 0, 0),
            ("restock", 7, 0, 7),
        ]
        assert_invariants(item.product_id)

    def test_the_records_version_is_the_sum_of_its_levels(self, make_item, warehouse, actor):
        item = make_item()
        warehouse("north")
        services.restock(product_id=item.product_id, quantity=1, actor=actor, warehouse="north")
        record = services.restock(product_id=item.product_id, quantity=1, actor=actor, warehouse="north")

        assert record.version == sum(
            StockLevel.objects.filter(product_id=item.product_id).values_list("version", flat=True)
        )
        assert record.version > item.version

    def test_adjust_and_threshold_act_on_the_named_level_and_its_version(self, make_item, warehouse, actor):
        item = make_item(available_stock=5)
        warehouse("north")
        services.restock(product_id=item.product_id, quantity=4, actor=actor, warehouse="north")
        north = StockLevel.objects.get(product_id=item.product_id, warehouse__code="north")

        with pytest.raises(VersionConflict):
            services.adjust_stock(
                product_id=item.product_id,
                counted=1,
                reason="count",
                actor=actor,
                warehouse="north",
                expected_version=north.version + 1,
            )
        services.adjust_stock(
            product_id=item.product_id,
            counted=1,
            reason="count",
            actor=actor,
            warehouse="north",
            expected_version=north.version,
        )
        services.set_low_stock_threshold(
            product_id=item.product_id, low_stock_threshold=3, actor=actor, warehouse="north"
        )

        north.refresh_from_db()
        assert (north.available_stock, north.low_stock_threshold, north.is_low_stock) == (1, 3, True)
        assert level(item.product_id, "default") == (5, 0, 0)
        assert_invariants(item.product_id)

    def test_unknown_warehouses_and_products(self, make_item, actor):
        item = make_item()
        with pytest.raises(WarehouseNotFound):
            services.restock(product_id=item.product_id, quantity=1, actor=actor, warehouse="nowhere")
        with pytest.raises(InvalidInput):
            services.restock(product_id=item.product_id, quantity=1, actor=actor, warehouse="No Way")
        with pytest.raises(ProductNotFound):
            services.restock(product_id=999_999_999, quantity=1, actor=actor)
        assert stock_of(item.product_id) == (10, 0)


def transfer(source, destination, *lines, **kwargs):
    return services.create_transfer(
        source=source,
        destination=destination,
        lines=[TransferLineInput(p, q) for p, q in lines],
        actor="clerk",
        **kwargs,
    )


class TestTransfers:
    def test_out_in_parts_and_received(self, make_item, warehouse):
        item = make_item(available_stock=10)
        warehouse("north")

        shipment = transfer("default", "north", (item.product_id, 6), reference="TR-1")

        assert shipment.status == "in_transit"
        assert (level(item.product_id, "default"), level(item.product_id, "north")) == ((4, 0, 0), (0, 0, 6))
        assert stock_of(item.product_id) == (4, 0)

        part = services.receive_transfer(
            transfer_id=shipment.pk, actor="clerk", lines=[TransferLineInput(item.product_id, 2)]
        )
        assert part.status == "partially_received"
        assert level(item.product_id, "north") == (2, 0, 4)

        whole = services.receive_transfer(transfer_id=shipment.pk, actor="clerk")
        assert whole.status == "received"
        assert [(line.quantity, line.received) for line in whole.lines.all()] == [(6, 6)]
        assert level(item.product_id, "north") == (6, 0, 0)
        entries = InventoryLog.objects.filter(reference=f"transfer:{shipment.pk}").order_by("id")
        assert [(e.operation, e.warehouse.code, e.quantity) for e in entries] == [
            ("transfer_out", "default", 6),
            ("transfer_in", "north", 2),
            ("transfer_in", "north", 4),
        ]
        assert_invariants(item.product_id)
        with pytest.raises(TransferNotOpen):
            services.cancel_transfer(transfer_id=shipment.pk, actor="clerk")

    def test_cancel_returns_what_is_still_in_transit(self, make_item, warehouse):
        item = make_item(available_stock=10)
        warehouse("north")
        shipment = transfer("default", "north", (item.product_id, 6))
        services.receive_transfer(transfer_id=shipment.pk, actor="clerk", lines=[TransferLineInput(item.product_id, 2)])

        cancelled = services.cancel_transfer(transfer_id=shipment.pk, actor="clerk")

        assert cancelled.status == "cancelled"
        assert (level(item.product_id, "default"), level(item.product_id, "north")) == ((8, 0, 0), (2, 0, 0))
        assert_invariants(item.product_id)
        with pytest.raises(TransferNotOpen):
            services.receive_transfer(transfer_id=shipment.pk, actor="clerk")

    def test_a_transfer_never_takes_held_units_and_is_all_or_nothing(self, make_item, warehouse):
        item, other = make_item(available_stock=10), make_item(available_stock=10)
        warehouse("north")
        reserve("HELD", (item.product_id, 8))

        with pytest.raises(InsufficientStock) as refused:
            transfer("default", "north", (other.product_id, 5), (item.product_id, 3))

        assert refused.value.details["items"] == [{"product_id": item.product_id, "requested": 3, "available": 2}]
        assert stock_of(other.product_id) == (10, 0)
        assert stock_of(item.product_id) == (2, 8)
        assert not StockLevel.objects.filter(warehouse__code="north", in_transit__gt=0).exists()

    def test_refusals(self, make_item, warehouse):
        item = make_item(available_stock=10)
        warehouse("north")
        with pytest.raises(InvalidInput):
            transfer("default", "default", (item.product_id, 1))
        with pytest.raises(WarehouseNotFound):
            transfer("default", "south", (item.product_id, 1))
        with pytest.raises(InvalidInput):
            transfer("default", "north", (item.product_id, 1), (item.product_id, 2))
        shipment = transfer("default", "north", (item.product_id, 3))
        with pytest.raises(InvalidInput):
            services.receive_transfer(transfer_id=shipment.pk, actor="c", lines=[TransferLineInput(item.product_id, 4)])
        with pytest.raises(InvalidInput):
            services.receive_transfer(transfer_id=shipment.pk, actor="c", lines=[TransferLineInput(12345, 1)])
        assert level(item.product_id, "north") == (0, 0, 3)
        assert list(ledger_discrepancies()) == []
