"""The expiry job travels on a queue of its own, and every queue has a worker in both Procfiles.

The messages go through the real broker of the test settings (Redis), no worker runs:
the test reads them back off their queues.
"""

import shlex
from pathlib import Path

import pytest
from django.conf import settings

from config.celery import app
from inventory import tasks

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_QUEUE = settings.CELERY_TASK_DEFAULT_QUEUE
DECLARED_QUEUES = {queue.name for queue in settings.CELERY_TASK_QUEUES}


def queue_of(task_name: str) -> str:
    return app.amqp.router.route({}, task_name)["queue"].name


def test_the_expiry_job_has_its_own_queue_and_the_other_jobs_the_default_one():
    assert queue_of("inventory.expire_overdue_reservations") == "expiry"
    assert queue_of("inventory.send_low_stock_digest") == DEFAULT_QUEUE
    assert queue_of("inventory.purge_idempotency_keys") == DEFAULT_QUEUE
    assert queue_of("inventory.refresh_plans") == DEFAULT_QUEUE
    assert queue_of("inventory.propose_cycle_counts") == DEFAULT_QUEUE
    assert {queue.name: queue.routing_key for queue in app.amqp.queues.values()} == {
        DEFAULT_QUEUE: DEFAULT_QUEUE,
        "expiry": "expiry",
    }


@pytest.fixture
def broker_channel():
    """A channel on the broker, with both queues emptied before and after the test."""
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        for queue in settings.CELERY_TASK_QUEUES:
            queue.bind(channel).declare()
            channel.queue_purge(queue.name)
        yield channel
        for name in DECLARED_QUEUES:
            channel.queue_purge(name)


def tasks_waiting_on(channel, queue: str) -> list[str]:
    """The names of the tasks waiting on `queue`, taken off it."""
    names = []
    while (message := channel.basic_get(queue, no_ack=True)) is not None:
        names.append(message.headers["task"])
    return names


def test_an_expiry_sent_reaches_the_expiry_queue_only(broker_channel):
    tasks.expire_overdue_reservations.apply_async()
    tasks.send_low_stock_digest.apply_async()

    assert tasks_waiting_on(broker_channel, "expiry") == ["inventory.expire_overdue_reservations"]
    assert tasks_waiting_on(broker_channel, DEFAULT_QUEUE) == ["inventory.send_low_stock_digest"]


# --- the Procfiles ---------------------------------------------------------------------


def worker_queues(procfile: str) -> dict[str, set[str]]:
    """The Celery workers of a Procfile, by process name: the queues each takes (all declared without --queues)."""
    workers = {}
    for line in (ROOT / procfile).read_text().splitlines():
        if line.startswith("#") or ":" not in line:
            continue
        process, command = line.split(":", 1)
        argv = shlex.split(command)
        if "worker" not in argv or "celery" not in argv:
            continue
        queues = argv[argv.index("--queues") + 1].split(",") if "--queues" in argv else DECLARED_QUEUES
        workers[process] = set(queues)
    return workers


def concurrency_of(procfile: str, process: str) -> str | None:
    line = next(line for line in (ROOT / procfile).read_text().splitlines() if line.startswith(f"{process}:"))
    argv = shlex.split(line.split(":", 1)[1])
    return argv[argv.index("--concurrency") + 1] if "--concurrency" in argv else None


def test_production_runs_the_expiry_on_one_worker_and_the_rest_on_another():
    assert worker_queues("Procfile") == {"worker": {DEFAULT_QUEUE}, "expiry": {"expiry"}}
    assert concurrency_of("Procfile", "expiry") == "1"


def test_make_run_has_one_worker_that_takes_every_queue():
    assert worker_queues("Procfile.dev") == {"worker": DECLARED_QUEUES}
