"""Multiprocess mode: the counters of several processes (gunicorn workers, Celery children) in one scrape."""

import os
import runpy
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from celery.signals import worker_process_shutdown
from django.db import connection

import inventory.tasks  # noqa: F401  (connects the shutdown signal)
from benchmarks.server import procfile_web_command
from tests.metrics.conftest import TOKEN, parse, value
from tests.test_production import production_env
from tests.test_quickstart import free_port, stop, wait_until_up

ROOT = Path(__file__).resolve().parent.parent.parent
# A process that counts as a service would: the definitions, in a process of its own.
COUNTING_PROCESS = """
import sys
from inventory.metrics.definitions import REQUEST_DURATION, RESERVES
RESERVES.labels("reserved").inc(int(sys.argv[1]))
REQUEST_DURATION.labels("healthz", "GET").observe(0.02)
"""


def count_in_a_process(directory: Path, reserved: int) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    subprocess.run([sys.executable, "-c", COUNTING_PROCESS, str(reserved)], cwd=ROOT, env=env, check=True, timeout=60)


@pytest.mark.django_db
def test_one_scrape_adds_up_the_files_of_every_process(tmp_path, scrape, monkeypatch):
    count_in_a_process(tmp_path, 3)
    count_in_a_process(tmp_path, 4)
    assert len(list(tmp_path.glob("counter_*.db"))) == 2

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    samples = scrape()

    assert value(samples, "inventory_reserves_total", outcome="reserved") == 7
    assert value(samples, "inventory_http_request_duration_seconds_count", route="healthz", method="GET") == 2
    assert value(samples, "inventory_http_request_duration_seconds_sum", route="healthz", method="GET") == 0.04
    # Only the files: this (single-process) test process's own registry is not in the sum.
    assert not [name for name, _ in samples if name.startswith("python_gc_")]
    # The database's figures are read by the process that answers, whatever the mode.
    assert value(samples, "inventory_database_figures_up") == 1


def test_gunicorn_marks_an_exited_worker_dead(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    live_gauge, counter = tmp_path / "gauge_livesum_4242.db", tmp_path / "counter_4242.db"
    live_gauge.touch()
    counter.touch()
    hooks = runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))

    hooks["child_exit"](None, SimpleNamespace(pid=4242))

    # Its live gauges go; its counters stay, or the totals would go down.
    assert not live_gauge.exists()
    assert counter.exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_procfile_web_process_with_two_workers_counts_every_request_once(tmp_path):
    database = connection.settings_dict
    directory = tmp_path / "metrics"
    directory.mkdir()
    env = production_env(
        tmp_path,
        DATABASE_URL=f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        METRICS_TOKEN=TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(directory),
        HOME=str(tmp_path),
    )
    port = free_port()
    log = tmp_path / "web.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            procfile_web_command(port, workers=2),
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base_url, server, log)
        requests = 60
        for _ in range(requests):
            # A new connection each time, so both workers take some.
            assert httpx.get(f"{base_url}/readyz", timeout=10).status_code == 200
        scraped = httpx.get(f"{base_url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    finally:
        stop(server)

    assert scraped.status_code == 200, scraped.text
    samples = parse(scraped.text)
    assert value(samples, "inventory_http_requests_total", route="readyz", method="GET", status="2xx") == requests
    assert value(samples, "inventory_database_figures_up") == 1
    # Each process counted in files of its own: the master (config/gunicorn.conf.py imports the
    # definitions) and each worker; the scrape added up whichever workers took the requests.
    assert len(list(directory.glob("counter_*.db"))) == 3


def test_a_celery_child_that_exits_is_marked_dead(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    live_gauge, counter = tmp_path / "gauge_liveall_4343.db", tmp_path / "histogram_4343.db"
    live_gauge.touch()
    counter.touch()

    # What Celery sends in a pool's child process as it shuts down (inventory/tasks.py listens).
    worker_process_shutdown.send(sender=None, pid=4343, exitcode=0)

    assert not live_gauge.exists()
    assert counter.exists()
