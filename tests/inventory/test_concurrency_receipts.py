"""Receipts of purchase orders under real threads against PostgreSQL: racing reserves of the same
products (one-line and multi-line, in both product orders), each other and a close. Nothing
deadlocks, nothing oversells, every unit received is counted once, and the ledger replays."""

from collections import Counter
from datetime import date

import pytest
from django.db.models import Sum

from inventory import services
from inventory.exceptions import InsufficientStock, PurchaseOrderNotOpen
from inventory.models import InventoryLog, PurchaseOrderLine, Reservation
from inventory.selectors import ledger_discrepancies
from inventory.services import PurchaseOrderLineInput, ReceiptLineInput, ReservationLine
from tests.inventory.helpers import assert_invariants, stock_of
from tests.inventory.test_concurrency import run_concurrently

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.usefixtures("store")]

DUE = date(2030, 1, 1)


def place(product_ids, quantity: int, warehouse: str = "default"):
    return services.create_purchase_order(
        supplier="Acme",
        warehouse=warehouse,
        lines=[PurchaseOrderLineInput(product_id, quantity, DUE) for product_id in product_ids],
        actor="buyer",
    )


def receive(order, product_ids, quantity: int):
    return services.receive_purchase_order(
        purchase_order_id=order.pk,
        lines=[ReceiptLineInput(product_id, quantity) for product_id in product_ids],
        actor="clerk",
    )


def reserve(order_id: str, product_ids, quantity: int = 1):
    return services.reserve_stock(
        order_id=order_id, lines=[ReservationLine(product_id, quantity) for product_id in product_ids], actor="shop"
    )


@pytest.fixture(params=["one-row", "hot-level"])
def items(request, make_item, actor):
    """Four products with 5 units each in `default`, their levels one row each, or hot (4 rows)."""

    def make():
        made = [make_item(available_stock=5) for _ in range(4)]
        if request.param == "hot-level":
            for item in made:
                services.make_hot(product_id=item.product_id, buckets=4, actor=actor)
        return [item.product_id for item in made]

    return make


def test_receipts_racing_reserves_never_deadlock_or_oversell(items):
    products = items()
    backwards = list(reversed(products))
    # Ten orders of every product, each received in two deliveries of 3: 60 units per product.
    orders = [place(products, 6) for _ in range(10)]
    receipts = [
        lambda o=o, half=half: receive(o, products if half else backwards, 3) for o in orders for half in (0, 1)
    ]
    # 120 buyers: one unit of one product, or one of each product in either order.
    buyers = []
    for n in range(120):
        lines = [products[n % 4]] if n % 3 else (products if n % 2 else backwards)
        buyers.append(lambda n=n, lines=lines: reserve(f"B-{n}", lines))
    calls, deliveries = [], iter(receipts)
    for n, buyer in enumerate(buyers):
        calls.append(buyer)
        if n % 6 == 0:
            calls.append(next(deliveries))

    results = run_concurrently(calls)

    kinds = Counter(type(result).__name__ for result in results)
    assert set(kinds) <= {"ReserveResult", "PurchaseOrder", "InsufficientStock"}, kinds
    assert kinds["PurchaseOrder"] == len(receipts)
    for product_id in products:
        available, held = stock_of(product_id)
        active = Reservation.objects.filter(product_id=product_id, status="active").aggregate(total=Sum("quantity"))
        assert held == active["total"]
        # Nothing lost, nothing made: 5 at the start, 60 received.
        assert available + held == 5 + 60
        assert_invariants(product_id)
    received = PurchaseOrderLine.objects.filter(order__in=orders).aggregate(total=Sum("received"))["total"]
    assert received == 10 * 4 * 6
    assert {services.get_purchase_order(order.pk).status for order in orders} == {"received"}
    assert list(ledger_discrepancies()) == []


def test_buyers_refused_only_while_the_goods_had_not_come(items):
    """Stock of 5 and 200 buyers of one unit racing one receipt of 40: at most 45 sold, never fewer than 5."""
    product_id = items()[0]
    order = place([product_id], 40)

    results = run_concurrently(
        [lambda n=n: reserve(f"S-{n}", [product_id]) for n in range(100)]
        + [lambda: receive(order, [product_id], 40)]
        + [lambda n=n: reserve(f"T-{n}", [product_id]) for n in range(100, 200)]
    )

    sold = sum(isinstance(result, services.ReserveResult) for result in results)
    refused = sum(isinstance(result, InsufficientStock) for result in results)
    assert sold + refused == 200
    assert 5 <= sold <= 45
    available, held = stock_of(product_id)
    assert (available + held, held) == (45, sold)
    assert_invariants(product_id)


def test_receipts_of_one_order_racing_each_other_and_a_close(items):
    product_id = items()[0]
    order = place([product_id], 1000)

    calls = [lambda: receive(order, [product_id], 7) for _ in range(20)]
    calls.insert(10, lambda: services.close_purchase_order(purchase_order_id=order.pk, actor="boss"))
    results = run_concurrently(calls)

    # The answers are read after each commit: a receipt's may show the order closed already.
    closed, deliveries = results[10], results[:10] + results[11:]
    assert closed.status == "closed"
    came = [result for result in deliveries if not isinstance(result, PurchaseOrderNotOpen)]
    assert {type(result).__name__ for result in came} <= {"PurchaseOrder"}
    final = services.get_purchase_order(order.pk)
    (line,) = final.lines.all()
    assert final.status == "closed"
    assert line.received == 7 * len(came) == sum(receipt.lines.get().quantity for receipt in final.receipts.all())
    assert stock_of(product_id) == (5 + line.received, 0)
    restocked = InventoryLog.objects.filter(product_id=product_id, reference=f"po:{order.pk}", operation="restock")
    assert restocked.count() == len(came)
    assert_invariants(product_id)
