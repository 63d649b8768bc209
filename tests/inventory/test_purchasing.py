"""Purchase orders through the services, on both stores: placed, received in parts (over and
under what was ordered), closed, cancelled; every refusal changes nothing, and the ledger replays."""

from datetime import date, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction

from inventory import limits, services
from inventory.exceptions import (
    InvalidInput,
    ProductNotFound,
    PurchaseOrderHasReceipts,
    PurchaseOrderNotFound,
    PurchaseOrderNotOpen,
    WarehouseNotFound,
)
from inventory.models import InventoryLog, PurchaseOrder, PurchaseOrderLine, Receipt, ReceiptLine, StockLevel, StockRow
from inventory.selectors import ledger_discrepancies
from inventory.selectors.purchasing import purchase_order_entries
from inventory.services import PurchaseOrderLineInput, ReceiptLineInput
from tests.inventory.helpers import assert_invariants

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("store")]

DUE = date(2030, 1, 15)


def level(product_id: int, code: str) -> tuple[int, int] | None:
    """A level's (available, in transit); None when the product has no level there."""
    found = StockLevel.objects.filter(product_id=product_id, warehouse__code=code).first()
    return None if found is None else (found.available_stock, found.in_transit)


def place(*lines: tuple[int, int], warehouse: str = "default", actor: str = "buyer", **fields) -> PurchaseOrder:
    return services.create_purchase_order(
        supplier=fields.pop("supplier", "Acme Ltd"),
        warehouse=warehouse,
        lines=[PurchaseOrderLineInput(product_id, quantity, DUE) for product_id, quantity in lines],
        actor=actor,
        **fields,
    )


def receive(order: PurchaseOrder, *lines: tuple[int, int], reference: str = "", actor: str = "clerk"):
    return services.receive_purchase_order(
        purchase_order_id=order.pk,
        lines=[ReceiptLineInput(product_id, quantity) for product_id, quantity in lines] if lines else None,
        reference=reference,
        actor=actor,
    )


def figures(order: PurchaseOrder) -> dict[int, tuple[int, int, int]]:
    """Per product: (ordered, received, outstanding)."""
    return {line.product_id: (line.quantity, line.received, line.outstanding) for line in order.lines.all()}


def assert_receipts_add_up(order: PurchaseOrder) -> None:
    """A line's `received` is the sum of its receipt lines."""
    for line in PurchaseOrderLine.objects.filter(order=order):
        assert line.received == sum(ReceiptLine.objects.filter(line=line).values_list("quantity", flat=True))


class TestPlacing:
    def test_an_order_is_open_and_changes_no_stock(self, make_item, warehouse):
        first, second = make_item(available_stock=3), make_item(available_stock=0)
        warehouse("sh-1")
        entries = InventoryLog.objects.count()

        order = place((second.product_id, 5), (first.product_id, 10), warehouse="sh-1", supplier_reference="SO-9")

        assert (order.supplier, order.supplier_reference, order.warehouse.code) == ("Acme Ltd", "SO-9", "sh-1")
        assert (order.status, order.actor, order.ended_by, order.end_reason) == ("open", "buyer", "", "")
        assert [line.product_id for line in order.lines.all()] == sorted([first.product_id, second.product_id])
        assert figures(order) == {first.product_id: (10, 0, 10), second.product_id: (5, 0, 5)}
        assert {line.expected_date for line in order.lines.all()} == {DUE}
        assert InventoryLog.objects.count() == entries
        assert level(first.product_id, "sh-1") is None
        assert list(order.receipts.all()) == []

    @pytest.mark.parametrize(
        ("changes", "error"),
        [
            ({"supplier": ""}, InvalidInput),
            ({"supplier": "a\tb"}, InvalidInput),
            ({"supplier": "a\x00b"}, InvalidInput),
            ({"supplier": "x" * (limits.SUPPLIER_NAME_MAX_LENGTH + 1)}, InvalidInput),
            ({"supplier_reference": "r" * 256}, InvalidInput),
            ({"supplier_reference": "a\x00"}, InvalidInput),
            ({"note": "n" * 1001}, InvalidInput),
            ({"warehouse": "nowhere"}, WarehouseNotFound),
            ({"warehouse": "Bad Code"}, InvalidInput),
        ],
    )
    def test_refusals_of_the_order(self, make_item, changes, error):
        item = make_item()
        with pytest.raises(error):
            place((item.product_id, 1), **changes)
        assert not PurchaseOrder.objects.exists()

    @pytest.mark.parametrize(
        "lines",
        [
            [],
            [PurchaseOrderLineInput(1, 1, DUE)] * 2,
            [PurchaseOrderLineInput(n, 1, DUE) for n in range(1, limits.MAX_PURCHASE_ORDER_LINES + 2)],
            [PurchaseOrderLineInput(1, 0, DUE)],
            [PurchaseOrderLineInput(1, limits.MAX_QUANTITY + 1, DUE)],
            [PurchaseOrderLineInput(1, True, DUE)],
            [PurchaseOrderLineInput(0, 1, DUE)],
            [PurchaseOrderLineInput(1, 1, datetime(2030, 1, 15, 12))],
            [PurchaseOrderLineInput(1, 1, "2030-01-15")],
        ],
    )
    def test_refusals_of_the_lines(self, make_item, lines):
        make_item(product_id=1)
        with pytest.raises(InvalidInput):
            services.create_purchase_order(supplier="Acme", warehouse="default", lines=lines, actor="buyer")
        assert not PurchaseOrder.objects.exists()

    def test_an_unknown_product_is_not_found_and_nothing_is_placed(self, make_item):
        item = make_item()
        with pytest.raises(ProductNotFound):
            place((item.product_id, 1), (item.product_id + 999_999, 1))
        assert not PurchaseOrder.objects.exists()
        assert not PurchaseOrderLine.objects.exists()

    def test_an_unknown_order(self):
        with pytest.raises(PurchaseOrderNotFound):
            services.get_purchase_order(10**12)
        for step in (services.receive_purchase_order, services.close_purchase_order, services.cancel_purchase_order):
            with pytest.raises(PurchaseOrderNotFound):
                step(purchase_order_id=10**12, actor="x")
        with pytest.raises(InvalidInput):
            services.get_purchase_order(0)


class TestReceiving:
    def test_in_parts_each_a_restock_entry_naming_the_order(self, make_item):
        first, second = make_item(available_stock=2), make_item(available_stock=0)
        order = place((first.product_id, 10), (second.product_id, 4))

        after = receive(order, (first.product_id, 6), reference="DN-1")

        assert after.status == "partially_received"
        assert figures(after) == {first.product_id: (10, 6, 4), second.product_id: (4, 0, 4)}
        assert level(first.product_id, "default") == (8, 0)
        assert level(second.product_id, "default") == (0, 0)
        (receipt,) = after.receipts.all()
        assert (receipt.reference, receipt.actor) == ("DN-1", "clerk")
        assert [(line.line.product_id, line.quantity) for line in receipt.lines.all()] == [(first.product_id, 6)]
        (entry,) = purchase_order_entries(after)
        assert (entry.operation, entry.quantity, entry.available_before, entry.available_after) == ("restock", 6, 2, 8)
        assert (entry.reference, entry.reason, entry.actor) == (
            f"po:{order.pk}",
            f"receipt {receipt.pk}: DN-1",
            "clerk",
        )

        done = receive(order, (first.product_id, 4), (second.product_id, 4))

        assert done.status == "received"
        assert figures(done) == {first.product_id: (10, 10, 0), second.product_id: (4, 4, 0)}
        assert level(first.product_id, "default") == (12, 0)
        assert level(second.product_id, "default") == (4, 0)
        assert [receipt.lines.count() for receipt in done.receipts.all()] == [1, 2]
        assert [entry.reason for entry in purchase_order_entries(done)][1:] == [f"receipt {receipt.pk + 1}"] * 2
        assert_receipts_add_up(order)
        for item in (first, second):
            assert_invariants(item.product_id)

    def test_without_lines_everything_outstanding_is_received(self, make_item):
        first, second = make_item(available_stock=0), make_item(available_stock=0)
        order = place((first.product_id, 10), (second.product_id, 4))
        receive(order, (first.product_id, 3))

        done = receive(order)

        assert done.status == "received"
        assert figures(done) == {first.product_id: (10, 10, 0), second.product_id: (4, 4, 0)}
        assert [list(receipt.lines.values_list("quantity", flat=True)) for receipt in done.receipts.all()] == [
            [3],
            [7, 4],
        ]
        assert (level(first.product_id, "default"), level(second.product_id, "default")) == ((10, 0), (4, 0))
        assert_receipts_add_up(order)

    def test_an_over_delivery_is_recorded_not_refused(self, make_item):
        first, second = make_item(available_stock=0), make_item(available_stock=0)
        order = place((first.product_id, 10), (second.product_id, 4))

        after = receive(order, (first.product_id, 13))

        assert after.status == "partially_received"
        assert figures(after)[first.product_id] == (10, 13, 0)
        done = receive(order, (second.product_id, 5))
        assert done.status == "received"
        assert figures(done) == {first.product_id: (10, 13, 0), second.product_id: (4, 5, 0)}
        assert level(first.product_id, "default") == (13, 0)
        with pytest.raises(PurchaseOrderNotOpen):
            receive(order, (first.product_id, 1))
        assert_invariants(first.product_id)
        assert_invariants(second.product_id)

    def test_a_line_already_over_delivered_may_get_more_while_the_order_is_open(self, make_item):
        first, second = make_item(available_stock=0), make_item(available_stock=0)
        order = place((first.product_id, 1), (second.product_id, 1))
        receive(order, (first.product_id, 1))

        after = receive(order, (first.product_id, 2))

        assert (after.status, figures(after)[first.product_id]) == ("partially_received", (1, 3, 0))

    def test_an_under_delivery_is_closed_and_the_lines_keep_their_figures(self, make_item):
        first, second = make_item(available_stock=0), make_item(available_stock=0)
        order = place((first.product_id, 10), (second.product_id, 4))
        receive(order, (first.product_id, 7))

        closed = services.close_purchase_order(purchase_order_id=order.pk, actor="boss", reason="Supplier out of it")

        assert (closed.status, closed.ended_by, closed.end_reason) == ("closed", "boss", "Supplier out of it")
        assert figures(closed) == {first.product_id: (10, 7, 3), second.product_id: (4, 0, 4)}
        assert level(first.product_id, "default") == (7, 0)
        entries = InventoryLog.objects.count()
        for step in (
            lambda: receive(order, (first.product_id, 1)),
            lambda: services.close_purchase_order(purchase_order_id=order.pk, actor="boss"),
            lambda: services.cancel_purchase_order(purchase_order_id=order.pk, actor="boss"),
        ):
            with pytest.raises(PurchaseOrderNotOpen) as refused:
                step()
            assert refused.value.details == {"purchase_order_id": order.pk, "status": "closed"}
        assert InventoryLog.objects.count() == entries
        assert services.get_purchase_order(order.pk).status == "closed"

    def test_an_open_order_can_be_closed_before_anything_came(self, make_item):
        item = make_item()
        order = place((item.product_id, 10))
        assert services.close_purchase_order(purchase_order_id=order.pk, actor="boss").status == "closed"

    def test_cancel_only_while_nothing_was_received(self, make_item):
        item = make_item(available_stock=0)
        untouched, started = place((item.product_id, 10)), place((item.product_id, 10))
        receive(started, (item.product_id, 1))

        cancelled = services.cancel_purchase_order(purchase_order_id=untouched.pk, actor="boss", reason="Wrong item")

        assert (cancelled.status, cancelled.ended_by, cancelled.end_reason) == ("cancelled", "boss", "Wrong item")
        with pytest.raises(PurchaseOrderHasReceipts):
            services.cancel_purchase_order(purchase_order_id=started.pk, actor="boss")
        assert services.get_purchase_order(started.pk).status == "partially_received"
        with pytest.raises(PurchaseOrderNotOpen):
            receive(cancelled, (item.product_id, 1))
        assert level(item.product_id, "default") == (1, 0)

    def test_a_receipt_opens_the_level_of_a_product_new_to_the_warehouse(self, make_item, warehouse):
        item = make_item(available_stock=5)
        warehouse("sh-1")
        order = place((item.product_id, 8), warehouse="sh-1")

        receive(order, (item.product_id, 8))

        assert level(item.product_id, "sh-1") == (8, 0)
        entries = InventoryLog.objects.filter(product_id=item.product_id, warehouse__code="sh-1").order_by("id")
        assert [(e.operation, e.quantity, e.available_after) for e in entries] == [("create", 0, 0), ("restock", 8, 8)]
        assert_invariants(item.product_id)

    def test_a_receipt_into_a_hot_level_is_spread_over_its_rows(self, make_item, actor):
        item = make_item(available_stock=8)
        services.make_hot(product_id=item.product_id, buckets=4, actor=actor)
        order = place((item.product_id, 40))

        receive(order, (item.product_id, 40))

        rows = StockRow.objects.filter(product_id=item.product_id).order_by("bucket")
        assert [row.available_stock for row in rows] == [12, 12, 12, 12]
        assert_invariants(item.product_id)

    def test_a_receipt_beside_a_quota_adds_free_stock(self, make_item, actor):
        from django.utils import timezone

        item = make_item(available_stock=10)
        now = timezone.now()
        services.create_quota(
            code="po-test",
            product_id=item.product_id,
            quantity=6,
            actor=actor,
            starts_at=now,
            ends_at=now + timedelta(hours=1),
        )
        order = place((item.product_id, 5))

        receive(order, (item.product_id, 5))

        found = StockLevel.objects.get(product_id=item.product_id)
        assert (found.available_stock, found.allotted_stock) == (15, 6)
        assert_invariants(item.product_id)

    @pytest.mark.parametrize(
        "lines",
        [
            [],
            [ReceiptLineInput(1, 1), ReceiptLineInput(1, 2)],
            [ReceiptLineInput(1, 0)],
            [ReceiptLineInput(1, -1)],
            [ReceiptLineInput(1, limits.MAX_QUANTITY + 1)],
            [ReceiptLineInput(1, 1.0)],
            [ReceiptLineInput(-1, 1)],
        ],
    )
    def test_refusals_of_a_receipts_lines_change_nothing(self, make_item, lines):
        make_item(product_id=1, available_stock=0)
        order = place((1, 5))
        with pytest.raises(InvalidInput):
            services.receive_purchase_order(purchase_order_id=order.pk, lines=lines, actor="clerk")
        self.assert_unchanged(order, 1)

    def test_a_product_the_order_does_not_list_is_refused_with_the_rest(self, make_item):
        first, other = make_item(available_stock=0), make_item(available_stock=0)
        order = place((first.product_id, 5))

        with pytest.raises(InvalidInput) as refused:
            receive(order, (first.product_id, 2), (other.product_id, 1))

        assert refused.value.details == {
            "lines": {str(other.product_id): "The purchase order does not list this product."}
        }
        self.assert_unchanged(order, first.product_id)
        assert level(other.product_id, "default") == (0, 0)

    def test_no_line_ever_holds_more_than_max_quantity(self, make_item):
        item = make_item(available_stock=0)
        order = place((item.product_id, limits.MAX_QUANTITY))
        receive(order, (item.product_id, limits.MAX_QUANTITY - 1))
        # Received in full but one: the last unit may come, two more may not.
        with pytest.raises(InvalidInput):
            receive(order, (item.product_id, 2))
        assert receive(order, (item.product_id, 1)).status == "received"

    def test_a_bad_reference_is_refused(self, make_item):
        item = make_item(available_stock=0)
        order = place((item.product_id, 5))
        for reference in ("r" * 256, "a\x00"):
            with pytest.raises(InvalidInput):
                receive(order, (item.product_id, 1), reference=reference)
        self.assert_unchanged(order, item.product_id)

    @staticmethod
    def assert_unchanged(order: PurchaseOrder, product_id: int) -> None:
        assert services.get_purchase_order(order.pk).status == "open"
        assert not Receipt.objects.filter(order=order).exists()
        assert set(PurchaseOrderLine.objects.filter(order=order).values_list("received", flat=True)) == {0}
        assert level(product_id, "default") == (0, 0)
        assert not InventoryLog.objects.filter(reference=f"po:{order.pk}").exists()


class TestTheDatabaseBacksEveryRule:
    """Each rule of the models is a constraint: a write that breaks one is refused by the database."""

    @pytest.fixture
    def order(self, make_item):
        item = make_item()
        return place((item.product_id, 5))

    @pytest.mark.parametrize(
        "change",
        [
            {"status": "lost"},
            {"supplier": ""},
            {"ended_by": "someone"},
            {"end_reason": "why"},
        ],
    )
    def test_the_order(self, order, change):
        with pytest.raises(IntegrityError), transaction.atomic():
            PurchaseOrder.objects.filter(pk=order.pk).update(**change)

    @pytest.mark.parametrize(
        "change",
        [
            {"quantity": 0},
            {"quantity": limits.MAX_QUANTITY + 1},
            {"received": -1},
            {"received": limits.MAX_QUANTITY + 1},
        ],
    )
    def test_the_line(self, order, change):
        with pytest.raises(IntegrityError), transaction.atomic():
            PurchaseOrderLine.objects.filter(order=order).update(**change)

    def test_a_product_once_per_order(self, order):
        line = order.lines.get()
        with pytest.raises(IntegrityError), transaction.atomic():
            PurchaseOrderLine.objects.create(order=order, product_id=line.product_id, quantity=1, expected_date=DUE)

    def test_the_receipt_line(self, order):
        receipt = Receipt.objects.create(order=order, actor="x")
        line = order.lines.get()
        for quantity in (0, limits.MAX_QUANTITY + 1):
            with pytest.raises(IntegrityError), transaction.atomic():
                ReceiptLine.objects.create(receipt=receipt, line=line, quantity=quantity)
        ReceiptLine.objects.create(receipt=receipt, line=line, quantity=1)
        with pytest.raises(IntegrityError), transaction.atomic():
            ReceiptLine.objects.create(receipt=receipt, line=line, quantity=1)

    def test_an_ended_order_may_say_who_and_why(self, order):
        assert PurchaseOrder.objects.filter(pk=order.pk).update(status="closed", ended_by="boss", end_reason="x") == 1


def test_the_ledger_replays_after_receipts_of_many_orders(make_item, warehouse, actor):
    """Orders into two warehouses, received in parts, over and under, beside reserves: every level replays."""
    warehouse("sh-1")
    items = [make_item(available_stock=n) for n in (0, 3, 7)]
    orders = [place(*((item.product_id, 10) for item in items), warehouse=code) for code in ("default", "sh-1")]
    services.reserve_stock(order_id="R-1", lines=[services.ReservationLine(items[1].product_id, 2)], actor=actor)
    receive(orders[0], (items[0].product_id, 4), (items[1].product_id, 12))
    receive(orders[1], (items[2].product_id, 10))
    receive(orders[0], (items[0].product_id, 6))
    services.close_purchase_order(purchase_order_id=orders[1].pk, actor=actor)

    for item in items:
        assert_invariants(item.product_id)
    assert list(ledger_discrepancies()) == []
    for order in orders:
        assert_receipts_add_up(order)
    restocked = InventoryLog.objects.filter(reference__startswith="po:", operation="restock")
    assert sum(restocked.values_list("quantity", flat=True)) == 4 + 12 + 10 + 6
