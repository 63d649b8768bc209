from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from inventory import services
from inventory.models import InventoryLog, Reservation
from tests.inventory.helpers import assert_invariants, stock_of
from tests.inventory.test_services_reserve import make_overdue, reserve

pytestmark = pytest.mark.django_db


def cleanup(*arguments: str) -> str:
    out = StringIO()
    call_command("cleanup_reservations", *arguments, stdout=out)
    return out.getvalue()


@pytest.fixture
def three_overdue_and_one_live(make_item):
    item = make_item(available_stock=20)
    overdue = [reserve(f"C-{n}", (item.product_id, 2)).reservations[0] for n in range(3)]
    make_overdue(*overdue)
    reserve("C-live", (item.product_id, 5))
    return item


def test_expires_the_overdue_holds_in_batches(three_overdue_and_one_live):
    item = three_overdue_and_one_live

    assert cleanup("--batch-size", "2") == "Expired 3 overdue reservation(s).\n"

    statuses = dict(Reservation.objects.values_list("order_id", "status"))
    assert statuses == {"C-0": "expired", "C-1": "expired", "C-2": "expired", "C-live": "active"}
    assert stock_of(item.product_id) == (15, 5)
    assert InventoryLog.objects.filter(operation="expire").count() == 3
    assert_invariants(item.product_id)


def test_dry_run_counts_and_changes_nothing(three_overdue_and_one_live):
    item = three_overdue_and_one_live

    assert cleanup("--dry-run") == "Would expire 3 overdue reservation(s).\n"

    assert Reservation.objects.filter(status="active").count() == 4
    assert stock_of(item.product_id) == (9, 11)


def test_says_so_when_nothing_is_overdue(make_item):
    reserve("C-live", (make_item().product_id, 1))

    assert cleanup() == "Expired 0 overdue reservation(s).\n"


def test_refuses_a_batch_size_below_one():
    with pytest.raises(CommandError, match="batch_size must be an integer from 1"):
        cleanup("--batch-size", "0")


def test_the_progress_bar_is_told_the_size_of_each_committed_batch(three_overdue_and_one_live):
    batches = []

    assert services.expire_overdue_reservations(batch_size=2, on_batch=batches.append) == 3

    assert batches == [2, 1]
