"""Pre-sale and backorders through the services, on both stores: sold ahead of stock, all or
none with ordinary lines, filled oldest first in batches as goods arrive, cancelled, ended,
read back per order, counted in ATP, and replayed from the ledger."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from inventory import services
from inventory.exceptions import (
    BackorderNotFound,
    CodeInUse,
    InsufficientStock,
    InvalidInput,
    OrderOfAnotherClient,
    PreSaleNotActive,
    PreSaleNotFound,
    ProductNotFound,
    ReservationExists,
    ReservationNotFound,
)
from inventory.models import Backorder, InventoryLog, PreSale, Receipt, StockLevel, StockRow
from inventory.selectors import ledger_discrepancies
from inventory.selectors.atp import product_atp
from inventory.selectors.presales import order_lines
from inventory.services import PurchaseOrderLineInput, ReceiptLineInput, ReservationLine, sold_out
from tests.inventory.helpers import assert_invariants, stock_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("store")]
DUE = date(2030, 1, 1)


def presale(item, limit: int, code: str = "launch", **kwargs) -> PreSale:
    now = timezone.now()
    kwargs.setdefault("starts_at", now - timedelta(minutes=1))
    kwargs.setdefault("ends_at", now + timedelta(hours=1))
    return services.create_presale(code=code, product_id=item.product_id, limit=limit, actor="lead", **kwargs)


def vip_quota(item, quantity: int) -> None:
    now = timezone.now()
    services.create_quota(
        code="vip",
        product_id=item.product_id,
        quantity=quantity,
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(hours=1),
        actor="lead",
    )


def ahead(order_id: str, *lines: tuple[int, int], plain: tuple[tuple[int, int], ...] = (), **kwargs):
    """A reserve whose `lines` may backorder, beside `plain` ordinary lines."""
    return services.reserve_stock(
        order_id=order_id,
        lines=[ReservationLine(p, q, backorder=True) for p, q in lines] + [ReservationLine(p, q) for p, q in plain],
        actor="shop",
        **kwargs,
    )


def sold(code: str = "launch") -> int:
    return PreSale.objects.get(code=code).sold


def backorder_of(order_id: str) -> Backorder:
    return Backorder.objects.get(order_id=order_id)


def fills(item) -> list[tuple[str, int]]:
    return list(
        InventoryLog.objects.filter(product_id=item.product_id, operation="backorder_fill")
        .order_by("id")
        .values_list("order_id", "quantity")
    )


class TestSellingAhead:
    def test_a_line_holds_the_free_units_and_backorders_the_rest(self, make_item):
        item = make_item(available_stock=3)
        presale(item, 10)

        result = ahead("A-1", (item.product_id, 8))

        assert [(r.quantity, r.status) for r in result.reservations] == [(3, "active")]
        [backorder] = result.backorders
        assert (backorder.quantity, backorder.filled, backorder.status, backorder.order_id) == (5, 0, "open", "A-1")
        assert result.created
        assert sold() == 5
        assert stock_of(item.product_id) == (0, 3)
        assert_invariants(item.product_id)

    def test_with_no_free_stock_the_whole_line_is_backordered(self, make_item):
        item = make_item(available_stock=0)
        presale(item, 10)

        result = ahead("A-1", (item.product_id, 4))

        assert result.reservations == []
        assert [b.quantity for b in result.backorders] == [4]
        assert stock_of(item.product_id) == (0, 0)
        assert_invariants(item.product_id)

    def test_a_line_the_free_stock_covers_is_an_ordinary_hold(self, make_item):
        item = make_item(available_stock=10)
        presale(item, 10)

        result = ahead("A-1", (item.product_id, 4))

        assert [r.quantity for r in result.reservations] == [4]
        assert result.backorders == []
        assert sold() == 0

    def test_a_line_that_may_not_backorder_is_short_as_before(self, make_item):
        item = make_item(available_stock=2)
        presale(item, 10)

        with pytest.raises(InsufficientStock) as refused:
            services.reserve_stock(order_id="A-1", lines=[ReservationLine(item.product_id, 5)], actor="shop")

        assert refused.value.short_lines[0].available == 2
        assert sold() == 0
        assert not Backorder.objects.exists()

    def test_a_repeat_changes_nothing_and_a_different_quantity_conflicts(self, make_item):
        item = make_item(available_stock=3)
        presale(item, 10)
        first = ahead("A-1", (item.product_id, 8))

        again = ahead("A-1", (item.product_id, 8))

        assert not again.created
        assert [b.pk for b in again.backorders] == [b.pk for b in first.backorders]
        assert [r.pk for r in again.reservations] == [r.pk for r in first.reservations]
        with pytest.raises(ReservationExists):
            ahead("A-1", (item.product_id, 9))
        assert sold() == 5
        assert Backorder.objects.count() == 1
        assert_invariants(item.product_id)

    def test_a_fully_backordered_order_repeats_and_belongs_to_its_client(self, make_item):
        item = make_item(available_stock=0)
        presale(item, 10)
        owner, stranger = (services.create_api_client(name=n, role="internal").client.pk for n in "ab")
        ahead("A-1", (item.product_id, 4), client_id=owner)

        assert not ahead("A-1", (item.product_id, 4), client_id=owner).created
        with pytest.raises(OrderOfAnotherClient):
            ahead("A-1", (item.product_id, 4), client_id=stranger)
        assert sold() == 4

    def test_the_sold_out_gate_does_not_refuse_a_line_that_may_backorder(self, make_item, settings):
        item = make_item(available_stock=0)
        presale(item, 10)
        sold_out.observe([item.product_id])

        result = ahead("A-1", (item.product_id, 2))

        assert [b.quantity for b in result.backorders] == [2]

    def test_the_first_pre_sale_with_room_sells_lowest_id_first(self, make_item, warehouse):
        item = make_item(available_stock=0)
        warehouse("east", priority=1)
        presale(item, 2, code="first")
        presale(item, 10, code="second", warehouse="east")
        presale(item, 10, code="third")

        taken = ahead("A-1", (item.product_id, 3))
        small = ahead("A-2", (item.product_id, 2))

        assert taken.backorders[0].presale.code == "second"
        assert taken.backorders[0].warehouse.code == "east"
        assert small.backorders[0].presale.code == "first"
        assert (sold("first"), sold("second"), sold("third")) == (2, 3, 0)

    def test_a_pre_sale_outside_its_window_or_pool_sells_nothing(self, make_item, warehouse, pool):
        item = make_item(available_stock=0)
        east = warehouse("east", priority=1)
        pool("east-only", [east])
        now = timezone.now()
        presale(item, 10, code="later", starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=2))
        presale(item, 10, code="default-only")

        with pytest.raises(InsufficientStock):
            ahead("A-1", (item.product_id, 1), routing=services.Routing(pool="east-only"))
        assert sold("default-only") == 0
        assert ahead("A-2", (item.product_id, 1)).backorders[0].presale.code == "default-only"
        assert sold("later") == 0

    def test_a_quota_line_draws_first_then_free_stock_then_the_pre_sale(self, make_item):
        item = make_item(available_stock=5)
        vip_quota(item, 2)
        presale(item, 10)

        result = services.reserve_stock(
            order_id="A-1", lines=[ReservationLine(item.product_id, 9, quota="vip", backorder=True)], actor="shop"
        )

        [hold] = result.reservations
        assert (hold.quantity, hold.quota_units) == (5, 2)
        assert [b.quantity for b in result.backorders] == [4]
        assert_invariants(item.product_id)


class TestAllOrNone:
    def test_a_short_ordinary_line_takes_nothing_of_the_backorder_line(self, make_item):
        item, other = make_item(available_stock=0), make_item(available_stock=1)
        presale(item, 10)

        with pytest.raises(InsufficientStock) as refused:
            ahead("A-1", (item.product_id, 3), plain=((other.product_id, 2),))

        assert [line.product_id for line in refused.value.short_lines] == [other.product_id]
        assert sold() == 0
        assert not Backorder.objects.exists()
        assert stock_of(other.product_id) == (1, 0)

    def test_a_backorder_line_without_room_takes_nothing_of_the_ordinary_lines(self, make_item):
        item, other = make_item(available_stock=2), make_item(available_stock=5)
        presale(item, 4)

        with pytest.raises(InsufficientStock) as refused:
            ahead("A-1", (item.product_id, 7), plain=((other.product_id, 2),))

        [short] = refused.value.short_lines
        # The free units and the pre-sale's room.
        assert (short.product_id, short.requested, short.available) == (item.product_id, 7, 6)
        assert stock_of(item.product_id) == (2, 0)
        assert stock_of(other.product_id) == (5, 0)
        assert sold() == 0

    def test_room_runs_out_and_what_is_left_still_sells(self, make_item):
        item = make_item(available_stock=0)
        presale(item, 5)
        ahead("A-1", (item.product_id, 4))

        with pytest.raises(InsufficientStock) as refused:
            ahead("A-2", (item.product_id, 2))
        ahead("A-3", (item.product_id, 1))
        with pytest.raises(InsufficientStock) as sold_out_now:
            ahead("A-4", (item.product_id, 1))

        assert refused.value.short_lines[0].available == 1
        assert sold_out_now.value.short_lines[0].available == 0
        assert sold() == 5
        assert sorted(Backorder.objects.values_list("order_id", flat=True)) == ["A-1", "A-3"]


class TestFilling:
    def test_receipts_fill_the_oldest_first_across_several_batches(self, make_item):
        item = make_item(available_stock=0)
        order = services.create_purchase_order(
            supplier="Acme", warehouse="default", lines=[PurchaseOrderLineInput(item.product_id, 20, DUE)], actor="b"
        )
        presale(item, 12, purchase_order_id=order.pk)
        for order_id, quantity in (("A-1", 4), ("A-2", 3), ("A-3", 5)):
            ahead(order_id, (item.product_id, quantity))

        def receive(quantity: int, note: str):
            services.receive_purchase_order(
                purchase_order_id=order.pk,
                lines=[ReceiptLineInput(item.product_id, quantity)],
                reference=note,
                actor="c",
            )

        receive(5, "DN-1")
        assert [(b.order_id, b.filled, b.status) for b in Backorder.objects.order_by("id")] == [
            ("A-1", 4, "filled"),
            ("A-2", 1, "open"),
            ("A-3", 0, "open"),
        ]
        receive(4, "DN-2")
        receive(10, "DN-3")

        assert [(b.filled, b.status) for b in Backorder.objects.order_by("id")] == [
            (4, "filled"),
            (3, "filled"),
            (5, "filled"),
        ]
        assert fills(item) == [("A-1", 4), ("A-2", 1), ("A-2", 2), ("A-3", 2), ("A-3", 3)]
        # 19 came, 12 shipped to the backorders: 7 left on the shelf for anyone.
        assert stock_of(item.product_id) == (7, 0)
        [line] = order_lines("A-3")
        _, second, third = Receipt.objects.filter(order=order).order_by("id")
        assert [(b["quantity"], b["reference"], b["reason"]) for b in line["batches"]] == [
            (2, f"po:{order.pk}", f"receipt {second.pk}: DN-2"),
            (3, f"po:{order.pk}", f"receipt {third.pk}: DN-3"),
        ]
        assert (line["backordered"], line["filled"], line["outstanding"]) == (5, 5, 0)
        assert_invariants(item.product_id)

    def test_a_receipt_smaller_than_the_backorders_ships_all_of_it(self, make_item):
        item = make_item(available_stock=0)
        presale(item, 10)
        ahead("A-1", (item.product_id, 6))

        services.restock(product_id=item.product_id, quantity=2, actor="clerk", reference="DN-9")

        backorder = backorder_of("A-1")
        assert (backorder.filled, backorder.status) == (2, "open")
        assert stock_of(item.product_id) == (0, 0)
        entry = InventoryLog.objects.filter(operation="backorder_fill").get()
        assert (entry.quantity, entry.available_before, entry.available_after) == (2, 2, 0)
        assert (entry.order_id, entry.backorder_id, entry.reference) == ("A-1", backorder.pk, "DN-9")
        assert sold() == 6
        assert_invariants(item.product_id)

    def test_the_units_quotas_set_aside_never_fill_a_backorder(self, make_item):
        item = make_item(available_stock=4)
        vip_quota(item, 4)
        presale(item, 10)
        ahead("A-1", (item.product_id, 5))

        services.restock(product_id=item.product_id, quantity=3, actor="clerk")

        assert backorder_of("A-1").filled == 3
        level = StockLevel.objects.get(product_id=item.product_id)
        assert (level.available_stock, level.allotted_stock) == (4, 4)
        assert_invariants(item.product_id)

    def test_a_transfer_received_fills_the_destination_s_backorders(self, make_item, warehouse, actor):
        item = make_item(available_stock=6)
        warehouse("east", priority=1)
        presale(item, 10, warehouse="east")
        shipment = services.create_transfer(
            source="default", destination="east", lines=[services.TransferLineInput(item.product_id, 2)], actor=actor
        )
        services.reserve_stock(order_id="HOLD", lines=[ReservationLine(item.product_id, 4)], actor="shop")
        ahead("A-1", (item.product_id, 5))

        services.receive_transfer(transfer_id=shipment.id, actor=actor)

        assert backorder_of("A-1").filled == 2
        assert StockLevel.objects.get(product_id=item.product_id, warehouse__code="east").available_stock == 0
        assert fills(item) == [("A-1", 2)]
        assert_invariants(item.product_id)

    def test_a_hot_level_fills_from_its_own_row_and_evens_out_after(self, make_item, actor):
        item = make_item(available_stock=0)
        services.make_hot(product_id=item.product_id, buckets=4, actor=actor)
        presale(item, 10)
        ahead("A-1", (item.product_id, 3))

        services.restock(product_id=item.product_id, quantity=11, actor="clerk")

        assert backorder_of("A-1").status == "filled"
        rows = sorted(StockRow.objects.filter(product_id=item.product_id).values_list("bucket", "available_stock"))
        assert rows == [(0, 2), (1, 2), (2, 2), (3, 2)]
        assert_invariants(item.product_id)

    def test_an_ended_pre_sale_takes_no_backorder_but_its_open_ones_are_filled(self, make_item):
        item = make_item(available_stock=0)
        presale(item, 10)
        ahead("A-1", (item.product_id, 3))

        ended = services.end_presale(code="launch", actor="lead")
        with pytest.raises(InsufficientStock):
            ahead("A-2", (item.product_id, 1))
        services.restock(product_id=item.product_id, quantity=5, actor="clerk")

        assert ended.status == "ended"
        assert backorder_of("A-1").status == "filled"
        assert stock_of(item.product_id) == (2, 0)
        with pytest.raises(PreSaleNotActive):
            services.end_presale(code="launch", actor="lead")
        with pytest.raises(PreSaleNotActive):
            services.change_presale(code="launch", limit=20, actor="lead")
        assert_invariants(item.product_id)


class TestCancelling:
    def test_cancel_gives_the_rest_back_to_the_limit_and_keeps_what_was_shipped(self, make_item):
        item = make_item(available_stock=2)
        presale(item, 10)
        ahead("A-1", (item.product_id, 8))
        services.restock(product_id=item.product_id, quantity=4, actor="clerk")

        [cancelled] = services.cancel_backorders(order_id="A-1", actor="shop")

        assert (cancelled.status, cancelled.quantity, cancelled.filled) == ("cancelled", 6, 4)
        assert sold() == 4
        # The holds are the release's, as before.
        assert stock_of(item.product_id) == (0, 2)
        [line] = order_lines("A-1")
        assert (line["held"], line["backordered"], line["filled"], line["cancelled"], line["outstanding"]) == (
            2,
            6,
            4,
            2,
            0,
        )
        released = services.release_reservations(order_id="A-1", actor="shop")
        assert [(r.quantity, r.status) for r in released] == [(2, "cancelled")]
        services.restock(product_id=item.product_id, quantity=3, actor="clerk")
        assert backorder_of("A-1").filled == 4
        assert stock_of(item.product_id) == (5, 0)
        assert_invariants(item.product_id)

    def test_cancelling_again_or_a_filled_one_changes_nothing(self, make_item):
        item = make_item(available_stock=0)
        presale(item, 10)
        ahead("A-1", (item.product_id, 2))
        services.restock(product_id=item.product_id, quantity=2, actor="clerk")

        [as_it_was] = services.cancel_backorders(order_id="A-1", actor="shop")

        assert (as_it_was.status, as_it_was.filled) == ("filled", 2)
        assert sold() == 2
        with pytest.raises(BackorderNotFound):
            services.cancel_backorders(order_id="NONE", actor="shop")
        with pytest.raises(BackorderNotFound):
            services.cancel_backorders(order_id="A-1", product_id=item.product_id + 1, actor="shop")

    def test_only_the_owner_s_backorders_are_seen(self, make_item):
        item = make_item(available_stock=0)
        presale(item, 10)
        owner, stranger = (services.create_api_client(name=n, role="internal").client.pk for n in "ab")
        ahead("A-1", (item.product_id, 2), client_id=owner)

        with pytest.raises(BackorderNotFound):
            services.cancel_backorders(order_id="A-1", actor="x", client_id=stranger)
        with pytest.raises(ReservationNotFound):
            order_lines("A-1", client_id=stranger)
        assert services.cancel_backorders(order_id="A-1", actor="x", client_id=owner)[0].status == "cancelled"
        assert sold() == 0

    def test_a_cancelled_line_may_be_backordered_again(self, make_item):
        item = make_item(available_stock=0)
        presale(item, 10)
        ahead("A-1", (item.product_id, 2))
        services.cancel_backorders(order_id="A-1", actor="shop")

        again = ahead("A-1", (item.product_id, 3))

        assert again.created
        assert sold() == 3
        [line] = order_lines("A-1")
        assert (line["backordered"], line["cancelled"], line["outstanding"], line["backorder_status"]) == (
            5,
            2,
            3,
            "open",
        )


class TestStaff:
    def test_create_checks_its_terms(self, make_item, warehouse):
        item = make_item(available_stock=0)
        warehouse("east", priority=1)
        order = services.create_purchase_order(
            supplier="Acme", warehouse="east", lines=[PurchaseOrderLineInput(item.product_id, 5, DUE)], actor="b"
        )
        presale(item, 5)
        now = timezone.now()

        with pytest.raises(CodeInUse):
            presale(item, 5)
        with pytest.raises(ProductNotFound):
            services.create_presale(
                code="x", product_id=999_999, limit=1, starts_at=now, ends_at=now + timedelta(hours=1), actor="a"
            )
        with pytest.raises(InvalidInput):
            presale(item, 5, code="elsewhere", purchase_order_id=order.pk)
        with pytest.raises(InvalidInput):
            presale(item, 0, code="zero")
        with pytest.raises(InvalidInput):
            presale(item, 5, code="past", starts_at=now - timedelta(hours=2), ends_at=now - timedelta(hours=1))
        with pytest.raises(InvalidInput):
            presale(item, 5, code="Bad Code")
        made = presale(item, 5, code="east-po", warehouse="east", purchase_order_id=order.pk)
        assert (made.purchase_order_id, made.warehouse.code) == (order.pk, "east")
        assert StockLevel.objects.filter(product_id=item.product_id, warehouse__code="east").exists()

    def test_a_pre_sale_opens_the_level_it_sells_ahead_of(self, make_item, warehouse):
        item = make_item(available_stock=0)
        warehouse("east", priority=1)

        presale(item, 5, warehouse="east")

        assert ahead("A-1", (item.product_id, 2)).backorders[0].warehouse.code == "east"
        assert_invariants(item.product_id)

    def test_change_never_sets_the_limit_below_what_was_sold(self, make_item):
        item = make_item(available_stock=0)
        presale(item, 10)
        ahead("A-1", (item.product_id, 6))
        later = timezone.now() + timedelta(days=2)

        with pytest.raises(InvalidInput):
            services.change_presale(code="launch", limit=5, actor="lead")
        changed = services.change_presale(code="launch", limit=6, ends_at=later, actor="lead")

        assert (changed.limit, changed.sold, changed.ends_at, changed.outstanding) == (6, 6, later, 6)
        with pytest.raises(InsufficientStock):
            ahead("A-2", (item.product_id, 1))
        with pytest.raises(PreSaleNotFound):
            services.change_presale(code="nope", limit=6, actor="lead")


class TestReading:
    def test_an_order_s_lines_say_what_is_held_backordered_filled_and_when_it_is_due(self, make_item, warehouse):
        item, other = make_item(available_stock=1), make_item(available_stock=5)
        order = services.create_purchase_order(
            supplier="Acme", warehouse="default", lines=[PurchaseOrderLineInput(item.product_id, 9, DUE)], actor="b"
        )
        presale(item, 10, purchase_order_id=order.pk)
        ahead("A-1", (item.product_id, 4), plain=((other.product_id, 2),))
        services.deduct_reservations(order_id="A-1", actor="shop")

        lines = order_lines("A-1")

        assert [(line["product_id"], line["held"], line["hold_status"]) for line in lines] == [
            (item.product_id, 1, "confirmed"),
            (other.product_id, 2, "confirmed"),
        ]
        first = lines[0]
        assert (first["backordered"], first["outstanding"], first["presale"]) == (3, 3, "launch")
        assert first["expected_date"] == DUE
        assert lines[1]["backorder_status"] is None
        assert [line["product_id"] for line in order_lines("A-1", product_id=other.product_id)] == [other.product_id]
        with pytest.raises(ReservationNotFound):
            order_lines("NONE")

    def test_atp_promises_the_outstanding_backorders(self, make_item):
        item = make_item(available_stock=0)
        presale(item, 10)
        ahead("A-1", (item.product_id, 6))
        services.restock(product_id=item.product_id, quantity=2, actor="clerk")

        [today] = product_atp(product_id=item.product_id, days=1)["days"]

        assert (today["available"], today["promised"], today["atp"]) == (0, 4, -4)


class TestLedger:
    def test_the_ledger_replays_and_catches_a_tampered_backorder(self, make_item):
        item = make_item(available_stock=1)
        presale(item, 10)
        ahead("A-1", (item.product_id, 5))
        services.restock(product_id=item.product_id, quantity=3, actor="clerk")
        assert list(ledger_discrepancies(item.product_id)) == []

        Backorder.objects.filter(order_id="A-1").update(filled=2)

        [found] = ledger_discrepancies(item.product_id)
        assert any("fill entries 3" in problem for problem in found.problems)

    def test_the_ledger_catches_a_pre_sale_that_sold_more_than_its_backorders(self, make_item):
        item = make_item(available_stock=0)
        presale(item, 10)
        ahead("A-1", (item.product_id, 5))

        PreSale.objects.filter(code="launch").update(sold=7)

        [found] = ledger_discrepancies(item.product_id)
        assert found.problems == ["pre-sale launch sold 7, its backorders took 5"]
