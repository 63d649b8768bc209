"""config/db.py: the hot statements are parsed and planned once per connection."""

import pytest
from django.db import connection

from inventory import services
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
