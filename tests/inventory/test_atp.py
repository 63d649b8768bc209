"""Available-to-promise by day: on hand, incoming (transfers and open purchase-order lines by their
day), promised (quota set-asides), for one product and for 200 in a fixed number of queries."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from inventory import limits, services
from inventory.exceptions import PoolNotFound, ProductNotFound
from inventory.selectors.atp import product_atp, products_atp
from inventory.services import PurchaseOrderLineInput, ReceiptLineInput, TransferLineInput

pytestmark = pytest.mark.django_db


def database_today() -> date:
    with connection.cursor() as cursor:
        cursor.execute("SELECT CURRENT_DATE")
        return cursor.fetchone()[0]


def place(warehouse: str, *lines: tuple[int, int, date]):
    return services.create_purchase_order(
        supplier="Acme",
        warehouse=warehouse,
        lines=[PurchaseOrderLineInput(*line) for line in lines],
        actor="buyer",
    )


def receive(order, product_id: int, quantity: int):
    return services.receive_purchase_order(
        purchase_order_id=order.pk, lines=[ReceiptLineInput(product_id, quantity)], actor="clerk"
    )


@pytest.fixture
def today() -> date:
    return database_today()


@pytest.fixture
def scene(make_item, warehouse, pool, actor, today):
    """One product: 10 in `default` (3 of them set aside for a quota), 5 in sh-1, 2 on their
    way from `default` to sh-1, and purchase orders in every state; the pool `east` is sh-1."""
    sh = warehouse("sh-1", priority=1)
    warehouse("closed-1", priority=2, accepts_orders=False)
    pool("east", [sh])
    item = make_item(available_stock=12)
    product_id = item.product_id
    services.restock(product_id=product_id, quantity=5, actor=actor, warehouse="sh-1")
    services.create_transfer(
        source="default", destination="sh-1", lines=[TransferLineInput(product_id, 2)], actor=actor
    )
    now = timezone.now()
    services.create_quota(
        code="atp-q", product_id=product_id, quantity=3, actor=actor, starts_at=now, ends_at=now + timedelta(days=1)
    )
    # Counted: 20 into sh-1 on day 3; 7 into `default` two days ago, 2 of them came (5 overdue).
    place("sh-1", (product_id, 20, today + timedelta(days=3)))
    late = place("default", (product_id, 7, today - timedelta(days=2)))
    receive(late, product_id, 2)
    # Counted from day 10 only with days > 10.
    place("default", (product_id, 4, today + timedelta(days=10)))
    # Never counted: closed, cancelled, received in full, over-delivered, not accepting orders.
    closed = place("default", (product_id, 50, today + timedelta(days=1)))
    receive(closed, product_id, 1)
    services.close_purchase_order(purchase_order_id=closed.pk, actor=actor)
    cancelled = place("default", (product_id, 60, today))
    services.cancel_purchase_order(purchase_order_id=cancelled.pk, actor=actor)
    other = make_item(available_stock=0)
    full = place("sh-1", (product_id, 8, today), (other.product_id, 1, today))
    receive(full, product_id, 9)
    place("closed-1", (product_id, 70, today))
    services.restock(product_id=product_id, quantity=1, actor=actor, warehouse="closed-1")
    return product_id


def by_day(answer) -> list[tuple[int, int, int, int]]:
    return [(day["available"], day["incoming"], day["promised"], day["atp"]) for day in answer["days"]]


def test_atp_by_day_of_every_warehouse(scene, today):
    answer = product_atp(product_id=scene, days=14)

    assert (answer["product_id"], answer["pool"], answer["today"]) == (scene, "all", today)
    assert [day["date"] for day in answer["days"]] == [today + timedelta(days=n) for n in range(14)]
    # On hand: default 12 - 2 sent + 2 and 1 received; sh-1 5 + 9 over-delivered (closed-1 does not accept orders).
    on_hand = 13 + 14
    # Day 0: 2 in transit + 5 overdue; day 3: + 20; day 10: + 4.
    first = (on_hand, 2 + 5, 3, on_hand + 7 - 3)
    later = (on_hand, 2 + 5 + 20, 3, on_hand + 27 - 3)
    assert by_day(answer) == [first] * 3 + [later] * 7 + [(on_hand, 31, 3, on_hand + 31 - 3)] * 4
    assert answer["in_transit"] == 2
    assert [
        (line["warehouse"], line["expected_date"], line["outstanding"], line["overdue"])
        for line in answer["incoming_lines"]
    ] == [
        ("default", today - timedelta(days=2), 5, True),
        ("sh-1", today + timedelta(days=3), 20, False),
        ("default", today + timedelta(days=10), 4, False),
    ]


def test_atp_of_a_pool_counts_only_its_warehouses(scene, today):
    answer = product_atp(product_id=scene, days=5, pool="east")

    # sh-1: 5 restocked + 9 received; the 2 in transit and the 20 due on day 3 are its.
    assert by_day(answer) == [(14, 2, 0, 16)] * 3 + [(14, 22, 0, 36)] * 2
    assert [line["outstanding"] for line in answer["incoming_lines"]] == [20]


def test_a_short_horizon_leaves_later_lines_out(scene, today):
    answer = product_atp(product_id=scene, days=3)
    assert len(answer["days"]) == 3
    assert [line["expected_date"] for line in answer["incoming_lines"]] == [today - timedelta(days=2)]


def test_the_days_follow_receipts_and_closes(make_item, today):
    item = make_item(available_stock=0)
    order = place("default", (item.product_id, 10, today + timedelta(days=1)))
    assert by_day(product_atp(product_id=item.product_id, days=2)) == [(0, 0, 0, 0), (0, 10, 0, 10)]

    receive(order, item.product_id, 4)
    assert by_day(product_atp(product_id=item.product_id, days=2)) == [(4, 0, 0, 4), (4, 6, 0, 10)]

    services.close_purchase_order(purchase_order_id=order.pk, actor="boss")
    assert by_day(product_atp(product_id=item.product_id, days=2)) == [(4, 0, 0, 4)] * 2


def test_a_product_without_levels_has_zeros(make_item, warehouse, today):
    item = make_item(available_stock=0)
    warehouse("sh-1")
    assert by_day(product_atp(product_id=item.product_id, days=3, pool="all")) == [(0, 0, 0, 0)] * 3


def test_unknown_product_and_pool(make_item):
    item = make_item()
    with pytest.raises(ProductNotFound):
        product_atp(product_id=item.product_id + 10**9)
    with pytest.raises(PoolNotFound):
        product_atp(product_id=item.product_id, pool="nowhere")
    with pytest.raises(PoolNotFound):
        products_atp(product_ids=[item.product_id], pool="nowhere")


def test_the_batch_answers_as_the_single_form_in_request_order(scene, make_item):
    other = make_item(available_stock=4)
    unknown = other.product_id + 10**9

    answer = products_atp(product_ids=[other.product_id, unknown, scene, other.product_id], days=6)

    assert [(item["product_id"], item["found"]) for item in answer["items"]] == [
        (other.product_id, True),
        (unknown, False),
        (scene, True),
        (other.product_id, True),
    ]
    assert answer["items"][2]["days"] == product_atp(product_id=scene, days=6)["days"]
    assert [day["atp"] for day in answer["items"][0]["days"]] == [4] * 6
    assert [(day["available"], day["incoming"], day["promised"], day["atp"]) for day in answer["items"][1]["days"]] == [
        (0, 0, 0, 0)
    ] * 6
    assert answer["pool"] == "all"


def test_the_batch_of_200_products_takes_a_fixed_number_of_queries(
    make_item, warehouse, today, django_assert_max_num_queries
):
    warehouse("sh-1")
    items = [make_item(available_stock=n % 7) for n in range(limits.MAX_ATP_BATCH_ITEMS)]
    ids = [item.product_id for item in items]
    for start, code in ((0, "default"), (100, "sh-1")):
        place(
            code,
            *((product_id, 3, today + timedelta(days=n % 5)) for n, product_id in enumerate(ids[start : start + 100])),
        )
    place("default", *((product_id, 2, today + timedelta(days=1)) for product_id in ids[:50]))

    with django_assert_max_num_queries(3):
        answer = products_atp(product_ids=ids, days=limits.MAX_ATP_DAYS)

    assert len(answer["items"]) == 200
    for n, item in enumerate(answer["items"]):
        assert item["found"]
        assert len(item["days"]) == limits.MAX_ATP_DAYS
        due = n % 5
        incoming = [(3 if offset >= due else 0) + (2 if n < 50 and offset >= 1 else 0) for offset in range(6)]
        assert [day["incoming"] for day in item["days"][:6]] == incoming
        assert item["days"][-1]["atp"] == n % 7 + 3 + (2 if n < 50 else 0)
    # The single form agrees with its batch line.
    assert product_atp(product_id=ids[7], days=limits.MAX_ATP_DAYS)["days"] == answer["items"][7]["days"]
