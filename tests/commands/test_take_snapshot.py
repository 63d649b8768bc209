"""`manage.py take_snapshot`: a missed day by hand, once; a day not over or malformed refused."""

import random
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from inventory.models import StockSnapshot
from inventory.services.snapshots import yesterday
from tests.inventory.history import days_back, make_rows, random_history, write

pytestmark = pytest.mark.django_db


def take(*args: str) -> str:
    out = StringIO()
    call_command("take_snapshot", *args, stdout=out)
    return out.getvalue()


def test_a_missed_day_by_hand_once(warehouse):
    rows = make_rows({(1, warehouse("sh-1").pk): 2})
    days = days_back(3, ending=yesterday())
    write(rows, random_history(rows, days, random.Random(5), moves_per_day=6), opened=days[0])
    day = days[1].isoformat()

    assert take("--day", day) == f"Snapshot of {day}: 2 row(s) added.\n"
    assert take("--day", day) == f"Snapshot of {day}: 0 row(s) added.\n"
    assert set(StockSnapshot.objects.values_list("day", flat=True)) == {days[1]}


@pytest.mark.parametrize("day", ["2026-02-30", "tomorrow", "9999-12-31", "0001-01-01"])
def test_a_malformed_day_or_one_not_over_is_refused(day):
    with pytest.raises(CommandError):
        take("--day", day)
    assert not StockSnapshot.objects.exists()
