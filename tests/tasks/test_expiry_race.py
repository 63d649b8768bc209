"""Two expiry runs at once on PostgreSQL, each in its own thread and connection."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from inventory import services, tasks
from inventory.models import InventoryLog, Reservation
from tests.inventory.helpers import assert_invariants
from tests.inventory.test_services_reserve import make_overdue, reserve

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.usefixtures("store")]

HOLDS_PER_PRODUCT = 30


def run_twice_at_once(run) -> list:
    start = threading.Barrier(2)

    def go():
        try:
            start.wait(timeout=30)
            return run()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        return [future.result() for future in [pool.submit(go), pool.submit(go)]]


@pytest.mark.parametrize(
    "expiry_run",
    [
        # The service alone, in small batches, so the runs interleave and meet locked rows.
        pytest.param(lambda: services.expire_overdue_reservations(batch_size=3), id="service"),
        # The Celery task: its advisory lock may send the later run home early.
        pytest.param(lambda: tasks.expire_overdue_reservations.apply().get() or 0, id="task"),
    ],
)
def test_each_overdue_hold_is_expired_and_logged_once(make_item, expiry_run):
    items = [make_item(available_stock=HOLDS_PER_PRODUCT) for _ in range(2)]
    holds = [
        reserve(f"R-{item.product_id}-{n}", (item.product_id, 1)).reservations[0]
        for item in items
        for n in range(HOLDS_PER_PRODUCT)
    ]
    make_overdue(*holds)

    counts = run_twice_at_once(expiry_run)

    assert sum(counts) == len(holds)
    assert set(Reservation.objects.values_list("status", flat=True)) == {"expired"}
    expiries = Counter(InventoryLog.objects.filter(operation="expire").values_list("order_id", flat=True))
    assert expiries == Counter({hold.order_id: 1 for hold in holds})
    for item in items:
        assert_invariants(item.product_id)
