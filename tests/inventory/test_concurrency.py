"""Real threads against PostgreSQL, each with its own connection and transactions."""

import random
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from inventory import services
from inventory.exceptions import InventoryError, ReservationExpired, ReservationNotActive
from inventory.models import InventoryLog, Reservation
from tests.inventory.helpers import assert_invariants, stock_of
from tests.inventory.test_services_reserve import make_overdue, reserve

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.usefixtures("store")]

# PostgreSQL allows 100 connections here, shared with other suites.
THREADS = 32


@pytest.fixture(params=["one-warehouse", "three-warehouses", "hot-level"])
def make_item(request, make_item, warehouse, actor):
    """Every test here three times: the item's stock in `default` alone; spread over three
    warehouses of the pool `all` (a third each, `default` first), so that lines split; and
    in `default` as a hot level of 8 rows, so that reserves try buckets and gather."""
    if request.param == "one-warehouse":
        return make_item
    if request.param == "hot-level":

        def make_hot(**kwargs):
            item = make_item(**kwargs)
            services.make_hot(product_id=item.product_id, buckets=8, actor=actor)
            return item

        return make_hot
    others = [warehouse(f"spread-{n}", priority=n) for n in (1, 2)]

    def make(available_stock: int = 10, **kwargs):
        share = available_stock // 3
        item = make_item(available_stock=available_stock - 2 * share, **kwargs)
        for other in others:
            if share:
                services.restock(product_id=item.product_id, quantity=share, actor=actor, warehouse=other.code)
        return item

    return make


def run_concurrently(calls: list[Callable[[], object]], threads: int = THREADS) -> list[object]:
    """Run the calls on a pool of threads, the first wave released together.

    Returns each call's result or the domain error it raised, in call order.
    """
    first_wave = min(threads, len(calls))
    start = threading.Barrier(first_wave)

    def run(index: int, call: Callable[[], object]) -> object:
        if index < first_wave:
            start.wait(timeout=30)
        try:
            return call()
        except InventoryError as error:
            return error
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(run, range(len(calls)), calls))


def test_200_reserves_of_one_on_a_stock_of_10_grant_exactly_10(make_item):
    item = make_item(available_stock=10)

    results = run_concurrently([lambda n=n: reserve(f"O-{n}", (item.product_id, 1)) for n in range(200)])

    granted = [r for r in results if isinstance(r, services.ReserveResult)]
    refused = Counter(type(r).__name__ for r in results if not isinstance(r, services.ReserveResult))
    assert len(granted) == 10
    assert refused == {"InsufficientStock": 190}
    assert stock_of(item.product_id) == (0, 10)
    assert Reservation.objects.filter(product_id=item.product_id, status="active").count() == 10
    assert_invariants(item.product_id)


def test_mixed_quantities_never_over_reserve(make_item):
    item = make_item(available_stock=100)
    rng = random.Random(7)
    quantities = [rng.randint(1, 9) for _ in range(120)]

    results = run_concurrently(
        [lambda n=n, q=q: reserve(f"M-{n}", (item.product_id, q)) for n, q in enumerate(quantities)]
    )

    reserved = sum(q for q, r in zip(quantities, results, strict=True) if isinstance(r, services.ReserveResult))
    available, held = stock_of(item.product_id)
    assert held == reserved <= 100
    assert available == 100 - reserved
    # Refused only when the stock was really not there: no request lost to a conflict.
    assert (
        min(q for q, r in zip(quantities, results, strict=True) if not isinstance(r, services.ReserveResult))
        > available
    )
    assert_invariants(item.product_id)


def test_orders_listing_shared_products_in_opposite_orders_never_deadlock(make_item):
    items = [make_item(available_stock=1000) for _ in range(4)]
    forward = [(i.product_id, 1) for i in items]
    calls = [(lambda n=n: reserve(f"D-{n}", *(forward if n % 2 else list(reversed(forward))))) for n in range(80)]

    results = run_concurrently(calls)

    assert all(isinstance(r, services.ReserveResult) for r in results), Counter(type(r).__name__ for r in results)
    for item in items:
        assert stock_of(item.product_id) == (920, 80)
        assert_invariants(item.product_id)


def planned_as_for_big_tables() -> None:
    """Make this connection's plans join by hashing over sequential scans, which visit
    rows in the order they lie in the table rather than in product_id order."""
    with connection.cursor() as cursor:
        for setting in ("enable_nestloop", "enable_mergejoin", "enable_indexscan", "enable_bitmapscan"):
            cursor.execute(f"SET {setting} = off")


def test_statements_lock_rows_in_product_order_whatever_the_plan(make_item):
    # Made in descending product_id order: the table holds them the other way round.
    first = 9_000_000
    items = [make_item(available_stock=1000, product_id=first + n) for n in (3, 2, 1, 0)]
    lines = sorted((item.product_id, 1) for item in items)
    for n in range(40):
        reserve(f"HELD-{n}", *lines)

    def with_big_table_plans(call):
        def run():
            planned_as_for_big_tables()
            return call()

        return run

    calls = []
    for n in range(40):
        calls.append(with_big_table_plans(lambda n=n: reserve(f"NEW-{n}", *lines)))
        calls.append(
            with_big_table_plans(lambda n=n: services.release_reservations(order_id=f"HELD-{n}", actor="order-app"))
        )

    results = run_concurrently(calls)

    assert not [r for r in results if isinstance(r, Exception)]
    for item in items:
        assert stock_of(item.product_id) == (960, 40)
        assert_invariants(item.product_id)


def test_identical_reserves_racing_reserve_once(make_item):
    item = make_item(available_stock=50)

    results = run_concurrently([lambda: reserve("SAME", (item.product_id, 3)) for _ in range(16)], threads=16)

    assert sum(r.created for r in results) == 1
    assert stock_of(item.product_id) == (47, 3)
    assert_invariants(item.product_id)


def test_identical_reserves_racing_for_a_line_each_warehouse_can_hold_once_reserve_once(make_item, warehouse):
    """The second request, let in after the first committed, must see its lines, not take the
    line again from the next warehouse (the unique line per warehouse would not stop that)."""
    item = make_item(available_stock=4)
    for n in (1, 2, 3):
        services.restock(product_id=item.product_id, quantity=4, actor="setup", warehouse=warehouse(f"once-{n}").code)

    results = run_concurrently([lambda: reserve("ONCE", (item.product_id, 4)) for _ in range(8)], threads=8)

    assert not [r for r in results if isinstance(r, Exception)]
    assert sum(r.created for r in results) == 1
    assert Reservation.objects.filter(order_id="ONCE").count() == 1
    assert_invariants(item.product_id)


def test_two_clients_racing_for_one_new_order_id_give_it_one_owner(make_item):
    item = make_item(available_stock=50)
    owners = [services.create_api_client(name=f"racer-{n}", role="internal").client.pk for n in range(2)]

    def reserve_as(client_id):
        return services.reserve_stock(
            order_id="CONTESTED",
            lines=[services.ReservationLine(item.product_id, 3)],
            actor="race",
            client_id=client_id,
        )

    results = run_concurrently([lambda c=owners[n % 2]: reserve_as(c) for n in range(16)], threads=16)

    winners = {r.reservations[0].client_id for r in results if not isinstance(r, Exception)}
    assert len(winners) == 1
    refused = [r for r in results if isinstance(r, InventoryError)]
    assert refused
    assert all(r.code == "reservation_exists" for r in refused)
    assert sum(getattr(r, "created", False) for r in results) == 1
    assert stock_of(item.product_id) == (47, 3)
    assert_invariants(item.product_id)


def test_deduct_racing_release_has_exactly_one_winner(make_item):
    items = [make_item(available_stock=10) for _ in range(10)]
    for n, item in enumerate(items):
        reserve(f"R-{n}", (item.product_id, 2))

    calls = []
    for n in range(len(items)):
        calls.append(lambda n=n: services.deduct_reservations(order_id=f"R-{n}", actor="payments"))
        calls.append(lambda n=n: services.release_reservations(order_id=f"R-{n}", actor="cancel"))
    results = run_concurrently(calls, threads=20)

    for n, item in enumerate(items):
        deducted, released = results[2 * n], results[2 * n + 1]
        status = Reservation.objects.get(order_id=f"R-{n}").status
        if status == "confirmed":
            assert isinstance(released, ReservationNotActive)
            assert stock_of(item.product_id) == (8, 0)
        else:
            assert status == "cancelled"
            assert isinstance(deducted, ReservationNotActive)
            assert stock_of(item.product_id) == (10, 0)
        moves = InventoryLog.objects.filter(product_id=item.product_id, operation__in=["deduct", "release"]).count()
        assert moves == 1
        assert_invariants(item.product_id)


def test_expiry_racing_a_late_payment_settles_each_hold_once(make_item):
    items = [make_item(available_stock=5) for _ in range(12)]
    # One hold per item, or one per warehouse when its stock is spread (a split line).
    holds = [hold for n, item in enumerate(items) for hold in reserve(f"L-{n}", (item.product_id, 5)).reservations]
    make_overdue(*holds)

    calls = [lambda n=n: services.deduct_reservations(order_id=f"L-{n}", actor="payments") for n in range(len(items))]
    calls += [services.expire_overdue_reservations for _ in range(4)]
    results = run_concurrently(calls, threads=16)

    assert sum(r for r in results[len(items) :]) <= len(holds)
    for item in items:
        parts = list(Reservation.objects.filter(product_id=item.product_id))
        # Nobody else wanted these units: every late payment takes them again.
        assert {(part.status, part.reacquired) for part in parts} == {("confirmed", True)}
        assert InventoryLog.objects.filter(product_id=item.product_id, operation="expire").count() == len(parts)
        assert InventoryLog.objects.filter(product_id=item.product_id, operation="deduct").count() == len(parts)
        assert stock_of(item.product_id) == (0, 0)
        assert_invariants(item.product_id)
    assert not any(isinstance(r, ReservationExpired) for r in results)


def test_two_cleanups_expire_each_hold_once(make_item):
    item = make_item(available_stock=200)
    holds = [reserve(f"C-{n}", (item.product_id, 1)).reservations[0] for n in range(150)]
    make_overdue(*holds)

    results = run_concurrently(
        [lambda: services.expire_overdue_reservations(batch_size=20) for _ in range(4)], threads=4
    )

    assert sum(results) == 150
    assert InventoryLog.objects.filter(product_id=item.product_id, operation="expire").count() == 150
    assert stock_of(item.product_id) == (200, 0)
    assert_invariants(item.product_id)


def test_64_threads_of_split_orders_racing_transfers_never_oversell_nor_deadlock(make_item, warehouse):
    """Orders of several products, each line larger than any one warehouse holds, against
    transfers out of (and into) the same warehouses and their receipts."""
    extra = [warehouse(f"race-{n}", priority=n) for n in (1, 2)]
    codes = ["default", *(place.code for place in extra)]
    items = [make_item(available_stock=60) for _ in range(3)]
    for item in items:
        for code in codes[1:]:
            services.restock(product_id=item.product_id, quantity=30, actor="setup", warehouse=code)
    rng = random.Random(14)

    def order(n):
        lines = [(item.product_id, rng.randint(20, 45)) for item in rng.sample(items, 2)]
        return lambda: reserve(f"SPLIT-{n}", *lines)

    def move(n):
        source, destination = rng.sample(codes, 2)
        lines = [services.TransferLineInput(item.product_id, rng.randint(5, 25)) for item in rng.sample(items, 2)]

        def send():
            shipment = services.create_transfer(source=source, destination=destination, lines=lines, actor="clerk")
            if n % 2:
                return services.receive_transfer(transfer_id=shipment.pk, actor="clerk")
            return shipment

        return send

    calls = [order(n) for n in range(96)] + [move(n) for n in range(32)]
    rng.shuffle(calls)
    results = run_concurrently(calls, threads=64)

    failures = Counter(type(r).__name__ for r in results if isinstance(r, Exception))
    assert set(failures) <= {"InsufficientStock"}, failures
    assert any(isinstance(r, services.ReserveResult) for r in results)
    for item in items:
        held = Reservation.objects.filter(product_id=item.product_id, status="active")
        assert sum(r.quantity for r in held) == stock_of(item.product_id)[1]
        assert_invariants(item.product_id)
