"""Count sheets under real threads against PostgreSQL: lines counted (and recounted) while orders
reserve, release and pay for the same products, and a post racing them. Every count's expected
figure is the on-hand stock at its ledger position, exactly; the post applies the variance to
the stock as it then is; two posts at once post once; nothing deadlocks and the ledger replays."""

import random
from collections import Counter

import pytest

from inventory import services
from inventory.models import CountLine, InventoryLog
from inventory.selectors import ledger_discrepancies
from tests.inventory.helpers import assert_invariants, stock_of
from tests.inventory.test_concurrency import run_concurrently
from tests.inventory.test_counts import replayed_on_hand
from tests.inventory.test_services_reserve import reserve

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.usefixtures("store")]

STOCK = 120
THREADS = 16
# What the counters find missing of each product (its index): the variances to post.
SHRINK = (0, 3, 7)
# What the orders' calls answer: a hold, or the lines released or paid.
ORDER_RESULTS = {"ReserveResult", "list"}


@pytest.fixture(params=["one-row", "hot-level"])
def items(request, make_item, actor):
    """Three products with STOCK units each in `default`: one row each, or hot levels of 4 rows."""
    made = [make_item(available_stock=STOCK) for _ in SHRINK]
    if request.param == "hot-level":
        for item in made:
            services.make_hot(product_id=item.product_id, buckets=4, actor=actor)
    return made


def counting(sheet_id: int, product_id: int, counted: int):
    return lambda: services.record_count(sheet_id=sheet_id, product_id=product_id, counted=counted, actor="counter")


def orders(items, rng: random.Random, count: int, *, pay: bool) -> list:
    """Calls of `count` orders of 1-3 units of one product each: every third reserved then
    released, and (with `pay`) every third reserved then paid, in one call each; the rest held."""

    def order(order_id: str, line: tuple[int, int], then) -> object:
        held = reserve(order_id, line)
        return then(order_id=order_id, actor="shop") if then else held

    endings = [services.release_reservations, services.deduct_reservations if pay else None, None]
    lines = [(rng.choice(items).product_id, rng.randint(1, 3)) for _ in range(count)]
    return [lambda n=n, line=line: order(f"O-{n}", line, endings[n % 3]) for n, line in enumerate(lines)]


def interleave(rng: random.Random, *groups: list) -> list:
    """The calls of every group in one list, each group's own order kept."""
    slots = [index for index, group in enumerate(groups) for _ in group]
    rng.shuffle(slots)
    queues = [iter(group) for group in groups]
    return [next(queues[index]) for index in slots]


def test_counts_beside_reserves_and_releases_expect_the_unchanged_on_hand(items):
    """Reserves and releases move units between available and reserved, never off the shelf:
    every count, whenever it ran, expects exactly STOCK."""
    rng = random.Random(17)
    sheet = services.create_count_sheet(
        warehouse="default", kind="list", product_ids=[item.product_id for item in items], actor="lead"
    )
    counts = [
        counting(sheet.pk, item.product_id, STOCK - shrink)
        for _ in range(12)
        for item, shrink in zip(items, SHRINK, strict=True)
    ]

    results = run_concurrently(interleave(rng, orders(items, rng, 150, pay=False), counts), threads=THREADS)

    kinds = Counter(type(result).__name__ for result in results)
    assert set(kinds) <= ORDER_RESULTS | {"CountLine"}, kinds
    counted = [result for result in results if isinstance(result, CountLine)]
    assert len(counted) == len(counts)
    assert {line.expected for line in counted} == {STOCK}
    for line in counted:
        assert replayed_on_hand(line.product, line.ledger_position) == STOCK
    lines = {line.product_id: line.variance for line in services.get_count_sheet(sheet.pk).lines.all()}
    assert lines == {item.product_id: -shrink for item, shrink in zip(items, SHRINK, strict=True)}


def test_counts_beside_payments_and_a_post_after_them(items):
    """Paid orders take units off the shelf while people count: each count expects the on-hand
    at its own ledger position, and the post moves each level by exactly its variance."""
    rng = random.Random(29)
    sheet = services.create_count_sheet(
        warehouse="default",
        kind="list",
        product_ids=[item.product_id for item in items],
        actor="lead",
        tolerance_units=STOCK,
    )
    counts = [
        counting(sheet.pk, item.product_id, 100 + shrink)
        for _ in range(10)
        for item, shrink in zip(items, SHRINK, strict=True)
    ]

    results = run_concurrently(interleave(rng, orders(items, rng, 160, pay=True), counts), threads=THREADS)

    assert {type(result).__name__ for result in results} <= ORDER_RESULTS | {"CountLine"}
    for line in (result for result in results if isinstance(result, CountLine)):
        assert replayed_on_hand(line.product, line.ledger_position) == line.expected
    lines = {line.product_id: line for line in services.get_count_sheet(sheet.pk).lines.all()}
    before = {item.product_id: stock_of(item.product_id) for item in items}

    posted = services.post_sheet(sheet_id=sheet.pk, actor="manager")

    assert posted.status == "posted"
    for item in items:
        available, held = before[item.product_id]
        assert stock_of(item.product_id) == (available + lines[item.product_id].variance, held)
        assert_invariants(item.product_id)
    assert list(ledger_discrepancies()) == []


def test_a_post_racing_reserves_and_another_post(items):
    """Two managers post one sheet while orders keep reserving: it is posted once, every
    variance one adjustment, and the units held stay held."""
    sheet = services.create_count_sheet(
        warehouse="default",
        kind="list",
        product_ids=[item.product_id for item in items],
        actor="lead",
        tolerance_units=10,
    )
    for item, shrink in zip(items, SHRINK, strict=True):
        services.record_count(sheet_id=sheet.pk, product_id=item.product_id, counted=STOCK - shrink, actor="counter")
    rng = random.Random(41)
    posts = [lambda: services.post_sheet(sheet_id=sheet.pk, actor="manager") for _ in range(2)]

    results = run_concurrently(interleave(rng, orders(items, rng, 60, pay=False), posts), threads=THREADS)

    assert {type(result).__name__ for result in results} <= ORDER_RESULTS | {"CountSheet"}
    adjustments = InventoryLog.objects.filter(operation="adjust", reference=f"count:{sheet.pk}")
    assert sorted(adjustments.values_list("quantity", flat=True)) == sorted(-shrink for shrink in SHRINK if shrink)
    for item, shrink in zip(items, SHRINK, strict=True):
        available, held = stock_of(item.product_id)
        assert available + held == STOCK - shrink
        assert_invariants(item.product_id)
    assert list(ledger_discrepancies()) == []


def test_recounts_racing_the_post_are_in_it_or_refused(items):
    """Counters recount while a manager posts: a recount either comes before the post (and the
    adjustment is its variance) or is refused, the sheet being posted; none slips in between."""
    sheet = services.create_count_sheet(
        warehouse="default",
        kind="list",
        product_ids=[item.product_id for item in items],
        actor="lead",
        tolerance_units=STOCK,
    )
    for item in items:
        services.record_count(sheet_id=sheet.pk, product_id=item.product_id, counted=STOCK, actor="counter")
    rng = random.Random(53)
    recounts = [counting(sheet.pk, rng.choice(items).product_id, STOCK - rng.randint(1, 9)) for _ in range(40)]
    post = [lambda: services.post_sheet(sheet_id=sheet.pk, actor="manager")]

    results = run_concurrently(interleave(rng, recounts, post, orders(items, rng, 30, pay=False)), threads=THREADS)

    kinds = Counter(type(result).__name__ for result in results)
    assert set(kinds) <= ORDER_RESULTS | {"CountLine", "CountSheet", "CountSheetNotOpen"}, kinds
    assert kinds["CountSheet"] == 1
    for line in services.get_count_sheet(sheet.pk).lines.all():
        posted = line.adjustment.quantity if line.adjustment is not None else 0
        assert posted == line.variance
        available, held = stock_of(line.product_id)
        assert available + held == line.counted
    assert list(ledger_discrepancies()) == []
