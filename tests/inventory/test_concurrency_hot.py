"""Hot levels under real threads against PostgreSQL: buckets tried without waiting, lines
larger than a bucket, orders of hot and plain products, and N changed while orders run.

(Every test of test_concurrency.py also runs on a hot level of 8 rows: its `hot-level` items.)
"""

import random
import threading
import time
from collections import Counter

import pytest
from django.db import connection, transaction

from inventory import services
from inventory.exceptions import InsufficientStock
from inventory.models import Reservation, StockRow
from tests.inventory.helpers import assert_invariants, stock_of
from tests.inventory.test_concurrency import run_concurrently
from tests.inventory.test_services_reserve import reserve

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def hot_item(make_item, actor, *, available_stock: int, buckets: int):
    item = make_item(available_stock=available_stock)
    services.make_hot(product_id=item.product_id, buckets=buckets, actor=actor)
    return item


@pytest.mark.usefixtures("store")
def test_200_buyers_of_10_units_over_8_buckets_get_exactly_10(make_item, actor):
    item = hot_item(make_item, actor, available_stock=10, buckets=8)

    results = run_concurrently([lambda n=n: reserve(f"B-{n}", (item.product_id, 1)) for n in range(200)])

    granted = [r for r in results if isinstance(r, services.ReserveResult)]
    assert len(granted) == 10
    assert Counter(type(r).__name__ for r in results if r not in granted) == {"InsufficientStock": 190}
    assert stock_of(item.product_id) == (0, 10)
    assert_invariants(item.product_id)


@pytest.mark.usefixtures("store")
def test_lines_larger_than_a_bucket_are_refused_only_when_the_level_is_short(make_item, actor):
    item = hot_item(make_item, actor, available_stock=64, buckets=8)
    rng = random.Random(15)
    quantities = [rng.randint(1, 20) for _ in range(60)]

    results = run_concurrently(
        [lambda n=n, q=q: reserve(f"L-{n}", (item.product_id, q)) for n, q in enumerate(quantities)]
    )

    taken = [q for q, r in zip(quantities, results, strict=True) if isinstance(r, services.ReserveResult)]
    refused = [q for q, r in zip(quantities, results, strict=True) if isinstance(r, InsufficientStock)]
    assert len(taken) + len(refused) == len(quantities)
    available, held = stock_of(item.product_id)
    assert held == sum(taken) <= 64
    # Nothing refused that the level held at the end: each refusal saw the whole level short.
    assert min(refused, default=65) > available
    assert_invariants(item.product_id)


@pytest.mark.usefixtures("store")
def test_orders_of_hot_and_plain_products_in_opposite_orders_never_deadlock(make_item, actor):
    items = [
        hot_item(make_item, actor, available_stock=1000, buckets=4) if n % 2 else make_item(available_stock=1000)
        for n in range(4)
    ]
    forward = [(i.product_id, 1) for i in items]
    calls = [lambda n=n: reserve(f"X-{n}", *(forward if n % 2 else list(reversed(forward)))) for n in range(60)]
    calls += [lambda n=n: services.release_reservations(order_id=f"X-{n}", actor="order-app") for n in range(20)]

    results = run_concurrently(calls)

    assert all(isinstance(r, services.ReserveResult) for r in results[:60]), Counter(type(r).__name__ for r in results)
    for item in items:
        assert_invariants(item.product_id)


@pytest.mark.usefixtures("store")
def test_changing_the_buckets_while_orders_run_loses_nothing(make_item, actor):
    item = hot_item(make_item, actor, available_stock=300, buckets=4)
    stop = threading.Event()

    def keep_changing_n():
        for buckets in [8, 1, 16, 2, 1, 6, 3] * 3:
            services.make_hot(product_id=item.product_id, buckets=buckets, actor=actor)
        stop.set()
        return "resized"

    def buy(n: int):
        result = reserve(f"N-{n}", (item.product_id, 1 + n % 3))
        if n % 4 == 0:
            services.release_reservations(order_id=f"N-{n}", actor="order-app")
        elif n % 4 == 1:
            services.deduct_reservations(order_id=f"N-{n}", actor="order-app")
        return result

    results = run_concurrently([keep_changing_n] + [lambda n=n: buy(n) for n in range(120)])

    assert stop.is_set()
    assert all(isinstance(r, services.ReserveResult) for r in results[1:]), Counter(type(r).__name__ for r in results)
    services.rebalance_hot_levels()
    assert_invariants(item.product_id)
    held = sum(r.quantity for r in Reservation.objects.filter(product_id=item.product_id, status="active"))
    paid = sum(r.quantity for r in Reservation.objects.filter(product_id=item.product_id, status="confirmed"))
    assert stock_of(item.product_id) == (300 - held - paid, held)


def test_a_reserve_takes_a_free_bucket_rather_than_wait_for_a_locked_one(make_item, actor, settings):
    """The PostgreSQL store's one statement: a bucket another transaction holds is skipped."""
    item = hot_item(make_item, actor, available_stock=8, buckets=2)
    locked = threading.Event()
    done = threading.Event()

    def hold_row_0():
        with transaction.atomic():
            StockRow.objects.select_for_update().get(product_id=item.product_id, bucket=0)
            locked.set()
            done.wait(timeout=30)
        connection.close()

    holder = threading.Thread(target=hold_row_0)
    holder.start()
    try:
        assert locked.wait(timeout=30)
        with connection.cursor() as cursor:
            # Waiting for the held row would fail the reserve instead of queueing behind it.
            cursor.execute("SET lock_timeout = '2s'")
        result = reserve("FREE-1", (item.product_id, 1))
        assert result.reservations[0].bucket == 1
    finally:
        done.set()
        holder.join(timeout=30)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert_invariants(item.product_id)


@pytest.mark.usefixtures("store")
def test_a_reserve_that_waited_for_a_level_to_grow_sees_its_new_rows(make_item, actor):
    """A level spread over 8 rows while a line of 100 waits for its row 0: the line's first
    locking read cannot see the 7 new rows (its snapshot predates them), so it reads again."""
    item = make_item(available_stock=300)
    spread = threading.Event()
    commit = threading.Event()

    def grow_the_level():
        with transaction.atomic():
            services.make_hot(product_id=item.product_id, buckets=8, actor=actor)
            spread.set()
            commit.wait(timeout=30)
        connection.close()

    grower = threading.Thread(target=grow_the_level)
    grower.start()
    try:
        assert spread.wait(timeout=30)
        buyer_result = []
        buyer = threading.Thread(target=lambda: buyer_result.append(_reserve_in_thread("GROW-1", item.product_id, 100)))
        buyer.start()
        _wait_until_a_session_waits_for_a_lock()
    finally:
        commit.set()
        grower.join(timeout=30)
    buyer.join(timeout=30)

    assert [type(r).__name__ for r in buyer_result] == ["ReserveResult"]
    assert stock_of(item.product_id) == (200, 100)
    assert_invariants(item.product_id)


def _reserve_in_thread(order_id: str, product_id: int, quantity: int):
    try:
        return reserve(order_id, (product_id, quantity))
    except InsufficientStock as refused:
        return refused
    finally:
        connection.close()


def _wait_until_a_session_waits_for_a_lock() -> None:
    with connection.cursor() as cursor:
        for _ in range(300):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("The reserve never waited for the level's lock.")
