"""Reads from a real streaming replica (.ci/replica: port 5433, made with pg_basebackup from the primary).

Each test proves where a read went by the alias of the connection that ran its queries, and the
first that this alias's connection is a standby (`pg_is_in_recovery()`) of the same database. The
replica is paused, stopped and started for real. Skipped without DATABASE_REPLICA_URL, except in
CI, where that is a failure.
"""

import os
import re
import socket
import statistics
import subprocess
import time

import pytest
from django.db import connections, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from inventory import replica
from inventory.models import Inventory
from tests.api.conftest import API

# Without a replica the tests are skipped (or fail, in CI) by the fixture below, not refused for an unknown alias.
CONFIGURED = replica.REPLICA in connections.settings
pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, databases=["default", replica.REPLICA] if CONFIGURED else ["default"]),
]

LIST = f"{API}/inventory"
STOCK_TABLES = re.compile(r"inventory_(?!staffpreference)")
# How long a write may take to show on the replica before a test gives up on it.
CATCH_UP_SECONDS = 10.0


@pytest.fixture(autouse=True)
def replica_reads(settings):
    if not CONFIGURED:
        message = "DATABASE_REPLICA_URL is unset (.ci/replica makes the replica)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    settings.INVENTORY_REPLICA_READS = True
    replica.forget_state()
    yield
    _cluster("start")  # whatever a test did to it
    _replica_sql("SELECT pg_wal_replay_resume()")
    replica.forget_state()


@pytest.fixture
def query_aliases():
    """The alias of every query that read a table of the inventory app, in order (but a person's
    language, read by a middleware before any view)."""
    seen: list[str] = []

    def recorder(alias):
        def record(execute, sql, params, many, context):
            if STOCK_TABLES.search(sql) and sql.lstrip().upper().startswith("SELECT"):
                seen.append(alias)
            return execute(sql, params, many, context)

        return record

    with (
        connections["default"].execute_wrapper(recorder("default")),
        connections["replica"].execute_wrapper(recorder("replica")),
    ):
        yield seen


def _replica_sql(sql: str):
    connection = connections["replica"]
    for _ in range(100):  # just started: it may not accept connections yet
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchone()
        except Exception:
            connection.close()
            time.sleep(0.1)
    raise AssertionError("the replica does not answer")


def _cluster(action: str) -> None:
    """`pg_ctlcluster stop` (fast) or `start` the cluster that listens on the replica's port."""
    port = str(connections["replica"].settings_dict["PORT"])
    listing = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True).stdout
    version, name, _, status = next(line.split()[:4] for line in listing.splitlines() if line.split()[2] == port)
    if (action == "start") != status.startswith("online"):
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, name, action], check=True)
    connections["replica"].close()
    replica.forget_state()


def _wait_until_usable() -> None:
    """Until a fresh check finds the replica streaming and caught up (it has just started)."""
    started = time.perf_counter()
    while time.perf_counter() - started < CATCH_UP_SECONDS:
        replica.forget_state()
        if replica.replica_state().usable:
            return
        time.sleep(0.05)
    raise AssertionError(f"the replica is not usable: {replica.replica_state()}")


def _seconds_until_replica_has(product_id: int) -> float:
    """From now until the replica shows the product: the lag of that one commit."""
    started = time.perf_counter()
    while time.perf_counter() - started < CATCH_UP_SECONDS:
        if _replica_sql(f"SELECT count(*) FROM inventory_inventory WHERE product_id = {int(product_id)}")[0]:
            return time.perf_counter() - started
        time.sleep(0.001)
    raise AssertionError(f"product {product_id} never reached the replica")


def _listed(client) -> dict[int, int]:
    response = client.get(LIST, {"page_size": 200})
    assert response.status_code == 200, response.content
    return {item["product_id"]: item["available_stock"] for item in response.json()["results"]}


def test_the_connection_is_a_standby():
    assert _replica_sql("SELECT pg_is_in_recovery()") == (True,)
    assert connections["replica"].settings_dict["NAME"] == connections["default"].settings_dict["NAME"]


def test_another_callers_list_and_the_public_check_come_from_the_replica(staff, anon, product, query_aliases):
    _seconds_until_replica_has(product(product_id=42, available_stock=7).product_id)

    assert _listed(staff) == {42: 7}
    assert query_aliases[-1] == "replica"
    response = anon.get(f"{API}/inventory/check/42")
    assert response.status_code == 200
    assert response.json()["available_stock"] == 7
    assert query_aliases[-1] == "replica"


def test_a_caller_reads_its_own_write_from_the_primary(staff_token_client, staff, product, query_aliases):
    _seconds_until_replica_has(product(product_id=42, available_stock=7).product_id)

    restocked = staff_token_client.post(f"{API}/inventory/restock", {"product_id": 42, "quantity": 5}, format="json")
    assert restocked.status_code == 200, restocked.content

    assert _listed(staff_token_client) == {42: 12}
    assert query_aliases[-1] == "default"  # pinned by its write
    _listed(staff)
    assert query_aliases[-1] == "replica"  # another caller is not


def test_a_read_inside_a_transaction_stays_on_the_primary(product):
    _seconds_until_replica_has(product(product_id=42).product_id)
    token = replica._may_read.set(True)
    try:
        assert Inventory.objects.all().db == "replica"
        with transaction.atomic():
            assert Inventory.objects.all().db == "default"
    finally:
        replica._may_read.reset(token)


def test_replication_lag_is_measured(product):
    lags = [_seconds_until_replica_has(product(product_id=100 + n).product_id) for n in range(20)]

    print(
        f"\nreplica lag over {len(lags)} commits: min {min(lags) * 1000:.1f} ms, "
        f"median {statistics.median(lags) * 1000:.1f} ms, max {max(lags) * 1000:.1f} ms"
    )
    assert max(lags) < CATCH_UP_SECONDS


def test_a_lagging_replica_is_skipped_and_readiness_says_so(staff, product, settings, query_aliases, client):
    _seconds_until_replica_has(product(product_id=42, available_stock=7).product_id)
    settings.INVENTORY_REPLICA_MAX_LAG = 0.2
    _replica_sql("SELECT pg_wal_replay_pause()")
    product(product_id=43, available_stock=3)  # the replica will not see it while paused
    time.sleep(0.5)
    replica.forget_state()

    assert _listed(staff) == {42: 7, 43: 3}
    assert query_aliases[-1] == "default"
    ready = client.get("/readyz").json()
    print(f"\nreadiness of a paused replica: {ready}")
    assert ready["status"] == "degraded"
    assert ready["replica"] == "lagging"
    assert ready["replica_lag_seconds"] > 0.2
    assert ready["replica_lag_bytes"] > 0

    _replica_sql("SELECT pg_wal_replay_resume()")
    settings.INVENTORY_REPLICA_MAX_LAG = 2.0
    _seconds_until_replica_has(43)
    _wait_until_usable()
    assert _listed(staff) == {42: 7, 43: 3}
    assert query_aliases[-1] == "replica"
    assert client.get("/readyz").json()["replica"] == "ok"


def test_the_replica_stopping_mid_test_falls_back_and_starting_brings_it_back(
    staff, anon, product, monkeypatch, query_aliases, client
):
    _seconds_until_replica_has(product(product_id=42, available_stock=7).product_id)
    assert _listed(staff) == {42: 7}
    assert query_aliases[-1] == "replica"

    # The last check said "ok" and stands for a minute: the read finds the replica gone itself.
    monkeypatch.setattr(replica, "CHECK_INTERVAL", 60.0)
    last_check = replica.replica_state()
    assert last_check.usable
    _cluster("stop")
    replica._last_state = last_check

    assert _listed(staff) == {42: 7}
    assert query_aliases[-1] == "default"
    assert anon.get(f"{API}/inventory/check/42").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"
    assert ready.json()["replica"] == "unreachable"
    assert ready.json()["database"] == "ok"

    _cluster("start")
    _wait_until_usable()
    assert _listed(staff) == {42: 7}
    assert query_aliases[-1] == "replica"
    assert client.get("/readyz").json()["replica"] == "ok"


def test_with_redis_down_a_signed_in_caller_reads_from_the_primary(staff, anon, product, settings, query_aliases):
    _seconds_until_replica_has(product(product_id=42, available_stock=7).product_id)
    with socket.socket() as probe:  # a port nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        closed = f"redis://127.0.0.1:{probe.getsockname()[1]}/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": closed,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }

    assert _listed(staff) == {42: 7}
    assert query_aliases[-1] == "default"  # its pin cannot be read: as if pinned
    assert anon.get(f"{API}/inventory/check/42").status_code == 200
    assert query_aliases[-1] == "replica"  # an anonymous caller writes nothing


@pytest.mark.parametrize(
    "path",
    [
        "inventory/low-stock",
        "inventory/logs/42",
        "inventory/reservations",
        "transfers",
        "warehouses",
        "pools",
        "purchase-orders",
        "quotas",
        "presales",
        "planning/items",
        "count-sheets",
        "count-sheets/accuracy",
        "warehouses/default/history?date=2026-01-01",
    ],
)
def test_every_list_reads_from_the_replica(admin_user, product, query_aliases, path):
    client = APIClient()
    client.force_login(admin_user)
    _seconds_until_replica_has(product(product_id=42).product_id)

    before = len(query_aliases)
    response = client.get(f"{API}/{path}")

    assert response.status_code == 200, response.content
    assert query_aliases[before:]
    assert set(query_aliases[before:]) == {"replica"}


@pytest.mark.parametrize(
    ("page", "shown"),
    [("admin:inventory_dashboard", b"Stock dashboard"), ("admin:inventory_inventorylog_changelist", b">42</a>")],
)
def test_the_admin_dashboard_and_log_pages_read_from_the_replica(admin_client, product, query_aliases, page, shown):
    _seconds_until_replica_has(product(product_id=42).product_id)

    before = len(query_aliases)
    response = admin_client.get(reverse(page))

    assert response.status_code == 200
    assert shown in response.content
    assert query_aliases[before:]
    assert set(query_aliases[before:]) == {"replica"}
