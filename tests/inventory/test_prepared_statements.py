"""inventory/db.py: the hot statements are parsed and planned once per connection, on plans that use the indexes."""

import re
from datetime import timedelta

import pytest
from django.db import connection

from inventory import db, services
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
    # On these tiny tables the planner may read the active holds by the (status, ...) list
    # index instead: by the status still, never every hold.
    assert scans_of(plan, "overdue") <= ACTIVE_HOLD_INDEXES | {"reservation_status_list_idx"}


def test_placeholders_are_turned_into_native_ones_once_per_statement():
    """psycopg converts `%(name)s` anew on every call for a statement over 4,096 characters (its
    cache's limit; the bucketed reserve is longer): the native form is made once here."""
    sql = "SELECT %(a)s, %(b)s, %(a)s, 5 %% 2"
    native = db.native_form(sql)
    assert native.sql == "SELECT $1, $2, $1, 5 % 2"
    assert native.names == ("a", "b")
    assert db.native_form(sql) is native
    with pytest.raises(ValueError, match="lone %"):
        db.native_form("SELECT 5 % 2")


def test_the_reserve_is_prepared_in_its_native_form(make_item):
    item = make_item(available_stock=5)
    reserve("NATIVE-1", (item.product_id, 1))
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s", [f"%{RESERVE}%"])
        (statement,) = cursor.fetchone()
    assert "unnest($" in statement
    assert "%(" not in statement
