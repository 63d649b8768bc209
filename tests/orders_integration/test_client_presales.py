"""InventoryClient and pre-sales against the real server: a line sold ahead of stock, the
order's lines as batches arrive, and cancelling what has not come."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from inventory import services
from orders_integration import client as inventory_client
from orders_integration.client import InventoryClient, Line
from tests.inventory.helpers import assert_invariants, stock_of
from tests.orders_integration.conftest import create_api_client

EXPECTED = date.today() + timedelta(days=3)


@pytest.fixture
def inventory(live_server, internal_token):
    with InventoryClient(live_server.url, internal_token, timeout=10, retries=1) as client:
        yield client


@pytest.fixture
def on_presale(make_item, actor):
    """A product with 2 units on the shelf, 10 on a purchase order and a pre-sale of up to 6 ahead."""
    product_id = make_item(available_stock=2).product_id
    order = services.create_purchase_order(
        supplier="Acme",
        warehouse="default",
        lines=[services.PurchaseOrderLineInput(product_id, 10, EXPECTED)],
        actor=actor,
    )
    now = timezone.now()
    services.create_presale(
        code="launch",
        product_id=product_id,
        limit=6,
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(hours=1),
        purchase_order_id=order.pk,
        actor=actor,
    )
    return product_id, order.pk


def receive(purchase_order_id: int, product_id: int, units: int, actor: str) -> None:
    services.receive_purchase_order(
        purchase_order_id=purchase_order_id, lines=[services.ReceiptLineInput(product_id, units)], actor=actor
    )


def test_a_line_sold_ahead_then_shipped_in_two_batches(inventory, on_presale, actor):
    product_id, purchase_order_id = on_presale

    reserved = inventory.reserve_order("P-1", [Line(product_id, 5, backorder=True)])
    again = inventory.reserve("P-1", product_id, 5, backorder=True)

    assert [(r.quantity, r.status) for r in reserved.reservations] == [(2, "active")]
    assert reserved.backorders == (inventory_client.SoldAhead(product_id, "default", "launch", 3, 0, "open", EXPECTED),)
    assert (again.created, again.reservations, again.backorders) == (False, reserved.reservations, reserved.backorders)

    receive(purchase_order_id, product_id, 1, actor)
    receive(purchase_order_id, product_id, 4, actor)
    (line,) = inventory.order_lines("P-1").lines

    assert (line.held, line.hold_status, line.backordered, line.filled, line.outstanding) == (2, "active", 3, 3, 0)
    assert (line.backorder_status, line.presale, line.expected_date) == ("filled", "launch", None)
    assert [(batch.quantity, batch.reference) for batch in line.batches] == [
        (1, f"po:{purchase_order_id}"),
        (2, f"po:{purchase_order_id}"),
    ]
    assert stock_of(product_id) == (2, 2)  # of the 5 received, 3 shipped, 2 on the shelf
    assert_invariants(product_id)


def test_a_plain_line_is_never_sold_ahead(inventory, on_presale):
    product_id, _ = on_presale

    with pytest.raises(inventory_client.InsufficientStock) as short:
        inventory.reserve("P-2", product_id, 5)

    assert short.value.short_lines == (inventory_client.ShortLine(product_id, 5, 2),)
    assert inventory.reserve("P-3", product_id, 1).backorders == ()


def test_cancelling_what_has_not_come(inventory, on_presale, actor):
    product_id, purchase_order_id = on_presale
    inventory.reserve("P-4", product_id, 6, backorder=True)
    receive(purchase_order_id, product_id, 1, actor)

    (line,) = inventory.cancel_backorders("P-4", product_id=product_id).lines

    assert (line.backordered, line.filled, line.cancelled, line.outstanding) == (4, 1, 3, 0)
    assert (line.backorder_status, line.held) == ("cancelled", 2)
    with pytest.raises(inventory_client.BackorderNotFound) as missing:
        inventory.cancel_backorders("P-5")
    assert missing.value.status == 404


def test_an_order_is_only_its_owners(live_server, inventory, on_presale):
    product_id, _ = on_presale
    inventory.reserve("P-6", product_id, 3, backorder=True)

    with InventoryClient(live_server.url, create_api_client("other-app", "internal"), retries=0) as other:
        with pytest.raises(inventory_client.ReservationNotFound):
            other.order_lines("P-6")
        with pytest.raises(inventory_client.BackorderNotFound):
            other.cancel_backorders("P-6")

    assert inventory.order_lines("P-6").lines[0].outstanding == 1


def test_an_order_id_is_sent_as_one_path_segment(inventory, make_item):
    item = make_item(available_stock=3)
    inventory.reserve("shop:A.1-2_3", item.product_id, 1)

    (line,) = inventory.order_lines("shop:A.1-2_3").lines

    assert (line.product_id, line.held, line.backordered, line.batches) == (item.product_id, 1, 0, ())
