"""A real `celery worker -B` against the real Redis and the test database."""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection

from inventory.models import InventoryLog, Reservation
from tests.inventory.test_services_reserve import reserve

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

EXPIRY_WAIT_SECONDS = 90
STOP_WAIT_SECONDS = 20


def database_url_of_this_test() -> str:
    """The URL of the database this test runs on (pytest-django's test_... database)."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def worker_with_beat(transactional_db, tmp_path):
    """Start `celery -A config worker -B` with a one-second expiry interval; stop it afterwards."""
    log = tmp_path / "celery.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url_of_this_test(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "INVENTORY_CLEANUP_INTERVAL": "1",
    }
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "-B", "--pool", "solo", "--loglevel", "INFO",
        "--purge", "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    with log.open("wb") as output:
        # Its own process group, so that stopping it stops whatever it started too.
        process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield process, log
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_WAIT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def test_beat_schedules_the_expiry_and_the_worker_releases_the_hold(worker_with_beat, make_item):
    process, log = worker_with_beat
    item = make_item(available_stock=5)
    (hold,) = reserve("W-1", (item.product_id, 2), ttl_seconds=1).reservations

    deadline = time.monotonic() + EXPIRY_WAIT_SECONDS
    while Reservation.objects.get(pk=hold.pk).status == Reservation.Status.ACTIVE:
        assert process.poll() is None, f"the worker stopped:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"not expired within {EXPIRY_WAIT_SECONDS}s:\n{log.read_text()}"
        time.sleep(0.5)

    assert Reservation.objects.get(pk=hold.pk).status == Reservation.Status.EXPIRED
    entry = InventoryLog.objects.get(order_id="W-1", operation="expire")
    assert (entry.actor, entry.available_after, entry.reserved_after) == ("system", 5, 0)
