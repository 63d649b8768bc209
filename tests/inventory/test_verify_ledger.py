from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from tests.inventory.test_services_reserve import reserve

pytestmark = pytest.mark.django_db


def verify(*args):
    out = StringIO()
    call_command("verify_ledger", *args, stdout=out)
    return out.getvalue()


def test_a_consistent_ledger_passes(make_item):
    item = make_item()
    reserve("A", (item.product_id, 2))

    assert "matches every product" in verify()
    assert "matches every product" in verify("--product", str(item.product_id))


def test_a_counter_changed_behind_the_services_back_is_reported(make_item):
    good, bad = make_item(), make_item()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE inventory_stocklevel SET available_stock = available_stock + 1 WHERE product_id = %s",
            [bad.product_id],
        )

    with pytest.raises(CommandError) as raised:
        verify()

    assert raised.value.returncode == 1
    assert "1 product(s) differ" in str(raised.value)
    assert "matches every product" in verify("--product", str(good.product_id))


def test_reserved_stock_that_no_hold_explains_is_reported(make_item):
    item = make_item()
    reserve("A", (item.product_id, 2))
    with connection.cursor() as cursor:
        cursor.execute("UPDATE inventory_reservation SET status = 'cancelled'")

    with pytest.raises(CommandError):
        verify()
