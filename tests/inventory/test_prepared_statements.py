"""inventory/db.py: the hot statements are parsed and planned once per connection, on plans that use the indexes."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH

from inventory import services
from inventory.services.store import postgresql
from tests.inventory.test_services_reserve import reserve

pytestmark = pytest.mark.django_db

# A phrase of each statement's SQL.
RESERVE = "taken AS"
SETTLE = "settled AS"


def plans(phrase: str) -> tuple[int, int]:
    """(generic, custom) plans made so far for the prepared statements holding `phrase`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(SUM(generic_plans), 0), COALESCE(SUM(custom_plans), 0)"
            " FROM pg_prepared_statements WHERE statement LIKE %s",
            [f"%{phrase}%"],
        )
        return cursor.fetchone()


def test_reserve_release_and_deduct_run_one_generic_plan_each(make_item):
    item = make_item(available_stock=10)
    before = {phrase: plans(phrase) for phrase in (RESERVE, SETTLE)}

    for n in range(3):
        reserve(f"PREPARED-{n}", (item.product_id, 1))
    services.release_reservations(order_id="PREPARED-0", actor="order-app")
    services.deduct_reservations(order_id="PREPARED-1", actor="order-app")

    after = {phrase: plans(phrase) for phrase in (RESERVE, SETTLE)}
    assert after[RESERVE][0] - before[RESERVE][0] == 3
    assert after[SETTLE][0] - before[SETTLE][0] == 2
    # No plan made for one call's own values.
    assert after[RESERVE][1] == before[RESERVE][1]
    assert after[SETTLE][1] == before[SETTLE][1]


def generic_plan(sql: str, params: dict) -> str:
    """The generic plan PostgreSQL makes for the prepared statement, as text."""
    names: list[str] = []

    def placeholder(match: re.Match) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    prepared = re.sub(r"%\((\w+)\)s", placeholder, sql)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        # The tables of a test are tiny; what matters is which indexes the plan *can* use.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"PREPARE probe AS {prepared}")
        try:
            arguments = ", ".join("%s" for _ in names)
            cursor.execute(f"EXPLAIN EXECUTE probe({arguments})", [params[name] for name in names])
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("DEALLOCATE probe")


# The partial indexes `WHERE status = 'active'` of models/reservations.py.
ACTIVE_HOLD_INDEXES = {"reservation_active_exp_idx", "reservation_product_act_idx"}


def scans_of(plan: str, alias: str | None) -> set[str]:
    """The indexes the plan reads the reservations under `alias` (None: unaliased) by."""
    used, heap_scan = set(), False
    for line in plan.splitlines():
        scan = re.search(r"Scan(?: Backward)? (?:using (\w+) )?on inventory_reservation(?: (\w+))?\s*(?:\(|$)", line)
        if scan and "Bitmap Index" not in line:
            heap_scan = (scan.group(2) or None) == alias
            if heap_scan and scan.group(1):
                used.add(scan.group(1))
        bitmap = re.search(r"Bitmap Index Scan on (\w+)", line)
        if bitmap and heap_scan:
            used.add(bitmap.group(1))
    assert used, plan
    return used


def test_the_generic_plans_use_the_partial_indexes_of_active_holds(make_item):
    """A status bound as a parameter cannot match a partial index's `status = 'active'`:
    the expiry and the overdue check of a sold-out reserve would read every hold."""
    item = make_item(available_stock=0)
    expire = postgresql._expire_sql(filtered=False)
    assert scans_of(generic_plan(expire, {"batch_size": 500, "operation": "expire", "actor": "system"}), None) <= (
        ACTIVE_HOLD_INDEXES
    )
    reserve = postgresql._reserve_sql(lock_first=False, owned=False)
    plan = generic_plan(
        reserve,
        {
            "product_ids": [item.product_id],
            "quantities": [1],
            "order_id": "PLAN-1",
            "actor": "probe",
            "ttl": timedelta(minutes=30),
            "operation": "reserve",
            "client_id": None,
            "pool": "all",
        },
    )
    assert scans_of(plan, "overdue") <= ACTIVE_HOLD_INDEXES


def test_the_hot_statements_stay_within_psycopgs_query_cache():
    """psycopg converts a query's placeholders once per text only up to this length; a longer
    reserve was converted anew on every request (0.14 ms of CPU)."""
    statements = [
        postgresql._reserve_sql(lock_first=lock_first, owned=owned)
        for lock_first in (False, True)
        for owned in (False, True)
    ]
    statements += [
        postgresql._settle_sql(one_product=one, owned=owned) for one in (False, True) for owned in (False, True)
    ]
    statements += [postgresql._expire_sql(filtered=filtered) for filtered in (False, True)]
    statements.append(postgresql._move_many_sql())
    assert max(len(sql) for sql in statements) <= MAX_CACHED_STATEMENT_LENGTH
