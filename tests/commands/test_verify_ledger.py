from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

pytestmark = pytest.mark.django_db


def verify(*arguments: str) -> str:
    out = StringIO()
    call_command("verify_ledger", *arguments, stdout=out)
    return out.getvalue()


def test_an_unknown_product_is_an_error_not_a_match(make_item):
    make_item()

    with pytest.raises(CommandError, match=r"Product 99999 has no inventory record\.") as raised:
        verify("--product", "99999")

    assert raised.value.returncode != 0


def test_quiet_prints_nothing_when_the_ledger_matches(make_item):
    item = make_item()

    assert verify("--quiet") == ""
    assert verify("--quiet", "--product", str(item.product_id)) == ""


def test_quiet_still_prints_the_products_that_differ(make_item):
    bad = make_item()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE inventory_stocklevel SET reserved_stock = 1 WHERE product_id = %s", [bad.product_id])
    out = StringIO()

    with pytest.raises(CommandError, match="1 product"):
        call_command("verify_ledger", "--quiet", stdout=out)

    assert f"product {bad.product_id}:" in out.getvalue()
