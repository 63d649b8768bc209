from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from inventory import services
from inventory.models import Inventory, InventoryLog, Reservation
from tests.inventory.helpers import assert_invariants, stock_of
from tests.inventory.test_services_reserve import make_overdue, reserve

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("store")]


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


def test_one_batch_of_many_holds_of_several_products_keeps_every_ledger_exact(make_item):
    low, plenty = make_item(available_stock=6, low_stock_threshold=3), make_item(available_stock=50)
    holds = [
        reserve(f"M-{product.product_id}-{n}", (product.product_id, n + 1))
        for product in (low, plenty)
        for n in range(3)
    ]
    make_overdue(*(hold.reservations[0] for hold in holds))
    assert stock_of(low.product_id) == (0, 6)

    assert cleanup("--batch-size", "100") == "Expired 6 overdue reservation(s).\n"

    assert stock_of(low.product_id) == (6, 0)
    assert stock_of(plenty.product_id) == (50, 0)
    expiries = InventoryLog.objects.filter(operation="expire").order_by("id")
    assert [(e.product_id, e.quantity, e.available_after, e.reserved_after) for e in expiries] == [
        (low.product_id, 1, 1, 5),
        (low.product_id, 2, 3, 3),
        (low.product_id, 3, 6, 0),
        (plenty.product_id, 1, 45, 5),
        (plenty.product_id, 2, 47, 3),
        (plenty.product_id, 3, 50, 0),
    ]
    # Back above its threshold: no longer low.
    assert Inventory.objects.get(product_id=low.product_id).low_stock_since is None
    for product in (low, plenty):
        assert_invariants(product.product_id)
