"""Pre-sale under real threads against PostgreSQL: many buyers selling ahead on one pre-sale's
limit while receipts fill backorders, ordinary reserves of the same products (in both product
orders) and cancels run beside them. The limit is never passed, the fills go to the oldest
backorders first and sum to their fill entries, nothing deadlocks, and the ledger replays."""

from collections import Counter
from datetime import date, timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from inventory import services
from inventory.models import Backorder, InventoryLog, PreSale, PurchaseOrder
from inventory.selectors import ledger_discrepancies
from inventory.services import PurchaseOrderLineInput, ReceiptLineInput, ReservationLine
from tests.inventory.helpers import assert_invariants, stock_of
from tests.inventory.test_concurrency import run_concurrently

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.usefixtures("store")]

LIMIT = 40


@pytest.fixture(params=["one-row", "hot-level"])
def products(request, make_item, actor):
    """Two products with 6 units each in `default` (one row, or a hot level of 4), the first on
    pre-sale up to LIMIT units against a purchase order of 60 of each."""
    made = [make_item(available_stock=6).product_id for _ in range(2)]
    if request.param == "hot-level":
        for product_id in made:
            services.make_hot(product_id=product_id, buckets=4, actor=actor)
    order = services.create_purchase_order(
        supplier="Acme",
        warehouse="default",
        lines=[PurchaseOrderLineInput(product_id, 60, date(2030, 1, 1)) for product_id in made],
        actor="buyer",
    )
    now = timezone.now()
    services.create_presale(
        code="launch",
        product_id=made[0],
        limit=LIMIT,
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(hours=1),
        purchase_order_id=order.pk,
        actor=actor,
    )
    return made, order


def buy(order_id: str, lines: list[ReservationLine]):
    return services.reserve_stock(order_id=order_id, lines=lines, actor="shop")


def test_buyers_selling_ahead_racing_receipts_never_pass_the_limit(products):
    (ahead, plain), order = products
    receive = [
        lambda: services.receive_purchase_order(
            purchase_order_id=order.pk, lines=[ReceiptLineInput(ahead, 4), ReceiptLineInput(plain, 4)], actor="clerk"
        )
        for _ in range(8)
    ]
    buyers = []
    for n in range(90):
        quantity = 1 + n % 3
        if n % 3 == 0:
            # Ordinary reserves of both products, in either order of the request.
            lines = [ReservationLine(ahead, 1), ReservationLine(plain, 1)]
            buyers.append(lambda n=n, lines=lines: buy(f"P-{n}", lines if n % 2 else lines[::-1]))
        elif n % 3 == 1:
            # Sold ahead beside an ordinary line of the other product, in either order.
            lines = [ReservationLine(ahead, quantity, backorder=True), ReservationLine(plain, 1)]
            buyers.append(lambda n=n, lines=lines: buy(f"B-{n}", lines if n % 2 else lines[::-1]))
        else:
            buyers.append(lambda n=n, q=quantity: buy(f"B-{n}", [ReservationLine(ahead, q, backorder=True)]))
    cancels = [lambda n=n: services.cancel_backorders(order_id=f"B-{n}", actor="shop") for n in range(2, 90, 15)]
    calls, deliveries, undoing = [], iter(receive), iter(cancels)
    for n, buyer in enumerate(buyers):
        calls.append(buyer)
        if n % 11 == 5:
            calls.append(next(deliveries))
        if n % 15 == 7:
            calls.append(next(undoing))

    results = run_concurrently(calls)

    kinds = Counter(type(result).__name__ for result in results)
    assert set(kinds) <= {"ReserveResult", "PurchaseOrder", "list", "InsufficientStock", "BackorderNotFound"}, kinds
    presale = PreSale.objects.get(code="launch")
    live = Backorder.objects.exclude(status="cancelled").aggregate(total=Sum("quantity"))["total"] or 0
    kept = Backorder.objects.filter(status="cancelled").aggregate(total=Sum("filled"))["total"] or 0
    assert presale.sold == live + kept <= LIMIT
    filled = Backorder.objects.aggregate(total=Sum("filled"))["total"] or 0
    shipped = InventoryLog.objects.filter(operation="backorder_fill").aggregate(total=Sum("quantity"))["total"] or 0
    assert filled == shipped
    # The oldest first: among the backorders not cancelled, every one filled whole, then at most
    # one in part, then the ones nothing came for yet.
    figures = list(Backorder.objects.exclude(status="cancelled").order_by("id").values_list("filled", "quantity"))
    whole = [filled == quantity for filled, quantity in figures]
    started = [filled > 0 for filled, _ in figures]
    first_short = whole.index(False) if False in whole else len(whole)
    assert not any(started[first_short + 1 :])
    received = sum(isinstance(result, PurchaseOrder) for result in results) * 4
    for product_id in (ahead, plain):
        available, held = stock_of(product_id)
        out = shipped if product_id == ahead else 0
        assert available + held == 6 + received - out
        assert_invariants(product_id)
    assert list(ledger_discrepancies()) == []


def test_backorders_and_cancels_of_one_order_racing_a_receipt(products):
    (ahead, _), order = products
    for n in range(10):
        buy(f"C-{n}", [ReservationLine(ahead, 10 if n == 0 else 3, backorder=True)])

    results = run_concurrently(
        [lambda n=n: services.cancel_backorders(order_id=f"C-{n}", actor="shop") for n in range(10)]
        + [
            lambda: services.receive_purchase_order(
                purchase_order_id=order.pk, lines=[ReceiptLineInput(ahead, 20)], actor="clerk"
            )
        ]
    )

    assert {type(result).__name__ for result in results} <= {"list", "PurchaseOrder"}
    assert Backorder.objects.filter(status="open").count() == 0
    presale = PreSale.objects.get(code="launch")
    assert presale.sold == Backorder.objects.aggregate(total=Sum("filled"))["total"]
    assert_invariants(ahead)
    assert list(ledger_discrepancies()) == []
