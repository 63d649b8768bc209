"""Daily snapshots and a past day's figures on PostgreSQL, checked against the ledger's replay
over a made-up history of several days: hot levels with several rows, days without a snapshot,
a day taken twice, an entry that started before midnight and committed after one of the next day."""

import random
from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from inventory import services, tasks
from inventory.exceptions import InvalidInput
from inventory.models import LogOperation, StockLevel, StockRow, StockSnapshot, Warehouse
from inventory.selectors import ledger_discrepancies
from inventory.selectors.snapshots import figures_of, level_figures_on, levels_existing_on
from inventory.services import ReservationLine
from inventory.services.snapshots import take_snapshot, yesterday
from tests.inventory.history import at, days_back, expected_levels, make_rows, random_history, write

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(warehouse):
    """Three products in two warehouses (one level hot, over 4 rows) moving for 8 days up to yesterday."""
    first, second = warehouse("sh-1").pk, warehouse("bj-1").pk
    rows = make_rows({(1, first): 1, (1, second): 4, (2, first): 1, (3, second): 2})
    days = days_back(8, ending=yesterday())
    write(rows, random_history(rows, days, random.Random(18), moves_per_day=25), opened=days[0])
    return rows, days, (first, second)


def answers(day, **scope):
    return {
        (level.product_id, level.warehouse): (level.available_stock, level.reserved_stock)
        for level in level_figures_on(day, **scope)
    }


def expected(rows, day, codes, opened=None, **scope):
    return {
        (product_id, codes[warehouse_id]): figures
        for (product_id, warehouse_id), figures in expected_levels(
            rows, day, opened or yesterday() - timedelta(days=7)
        ).items()
        if scope.get("product_id", product_id) == product_id and scope.get("warehouse_id", warehouse_id) == warehouse_id
    }


def codes_of(warehouse_ids):
    return dict(Warehouse.objects.filter(pk__in=warehouse_ids).values_list("pk", "code"))


def test_every_days_figures_equal_the_replay_with_and_without_snapshots(history):
    rows, days, warehouses = history
    codes = codes_of(warehouses)
    assert list(ledger_discrepancies()) == []
    checked = [days[0] - timedelta(days=1), *days, yesterday() + timedelta(days=1)]

    def check_all():
        for day in checked:
            for product_id in (1, 2, 3):
                assert answers(day, product_id=product_id) == expected(rows, day, codes, product_id=product_id), day
            for warehouse_id in warehouses:
                assert answers(day, warehouse_id=warehouse_id) == expected(rows, day, codes, warehouse_id=warehouse_id)

    check_all()  # no snapshot yet: the ledger from its start
    for day in (days[1], days[2], days[5], days[7]):  # a first snapshot, then gaps
        take_snapshot(day)
        check_all()
    assert StockSnapshot.objects.count() > 0


def test_a_snapshot_holds_the_replay_of_the_rows_the_day_changed_and_every_row_the_first_time(history):
    rows, days, _ = history
    take_snapshot(days[3])
    assert {(s.product_id, s.warehouse_id, s.bucket) for s in StockSnapshot.objects.filter(day=days[3])} == {
        row.key for row in rows if any(entry.created_at < at(days[4], 0) for entry in row.entries)
    }
    take_snapshot(days[4])
    changed = {row.key for row in rows if any(e.created_at.date() == days[4] for e in row.entries)}
    stored = StockSnapshot.objects.filter(day=days[4])
    assert {(s.product_id, s.warehouse_id, s.bucket) for s in stored} == changed
    by_key = {row.key: row for row in rows}
    for snapshot in stored:
        row = by_key[(snapshot.product_id, snapshot.warehouse_id, snapshot.bucket)]
        assert (snapshot.available, snapshot.reserved) == row.figures_at(at(days[5], 0))


def test_a_day_taken_twice_adds_nothing(history):
    _, days, _ = history
    added = take_snapshot(days[2])
    assert added == StockSnapshot.objects.count() > 0
    assert take_snapshot(days[2]) == 0
    assert StockSnapshot.objects.count() == added


def test_a_day_not_over_is_refused(history):
    with pytest.raises(InvalidInput):
        take_snapshot(timezone.now().date())
    assert not StockSnapshot.objects.exists()


def test_the_answer_starts_from_the_snapshot_not_the_ledger_before_it(history):
    rows, days, warehouses = history
    take_snapshot(days[6])  # the first: every row
    # Changed by hand: the answer can show it only if it reads the snapshot and nothing before it.
    StockSnapshot.objects.filter(day=days[6], product_id=2).update(available=F("available") + 1000)
    ((available, _),) = answers(days[6], product_id=2).values()
    replayed = expected(rows, days[6], codes_of(warehouses), product_id=2)
    assert available == replayed[(2, "sh-1")][0] + 1000


def test_an_entry_that_started_before_midnight_and_committed_after_the_next_days_first(warehouse):
    """Ids order a row's chain; created_at does not: the day's figure is the row after its newest entry."""
    depot = warehouse("sh-1").pk
    (row,) = make_rows({(7, depot): 1})
    late, early = yesterday() - timedelta(days=1), yesterday()
    entries = [
        row.entry(LogOperation.CREATE, 5, at(late, 10), available=5, reserved=0),
        row.entry(LogOperation.RESTOCK, 2, at(early, 0, 1), available=7, reserved=0),
        # Its transaction began at 23:59 and waited for the row's lock: the chain's last link.
        row.entry(LogOperation.RESTOCK, 3, at(late, 23, 59), available=10, reserved=0),
    ]
    write([row], entries, opened=late)
    assert list(ledger_discrepancies()) == []
    for day in (late, early):
        take_snapshot(day)
        assert (
            answers(day, product_id=7)
            == {(7, "sh-1"): (10, 0)}
            == {(7, "sh-1"): row.figures_at(at(day + timedelta(days=1), 0))}
        )
    assert StockSnapshot.objects.get(day=early).last_entry_id == entries[2].pk


def test_levels_opened_after_the_day_are_not_listed_and_a_page_costs_three_queries(history, django_assert_num_queries):
    _, days, (_, second) = history
    before = days[0] - timedelta(days=1)
    assert level_figures_on(before, warehouse_id=second) == []
    take_snapshot(days[3])
    levels = list(levels_existing_on(days[5], warehouse_id=second))
    with django_assert_num_queries(3):
        assert [answer.product_id for answer in figures_of(days[5], levels)] == [1, 3]


def test_the_daily_task_snapshots_yesterday_once(history):
    added = tasks.take_snapshot.apply().get()
    assert added == StockSnapshot.objects.filter(day=yesterday()).count() > 0
    assert tasks.take_snapshot.apply().get() == 0


def test_beat_runs_it_after_midnight_utc_and_a_lost_worker_redelivers_it(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["take-snapshot"]
    assert entry["task"] == tasks.take_snapshot.name == "inventory.take_snapshot"
    assert entry["schedule"].hour == {0}
    assert tasks.take_snapshot.acks_late


def test_todays_figures_of_a_hot_level_changed_by_the_services_equal_its_rows(make_item, actor):
    """Real reserves, payments and cancellations spread over a hot level's rows: now is the rows' own sums."""
    product_id = make_item(available_stock=100).product_id
    services.make_hot(product_id=product_id, buckets=4, actor=actor)
    for number in range(6):
        services.reserve_stock(order_id=f"snap-{number}", lines=[ReservationLine(product_id, 3 + number)], actor=actor)
    services.deduct_reservations(order_id="snap-1", actor=actor)
    services.release_reservations(order_id="snap-2", actor=actor)
    services.restock(product_id=product_id, quantity=7, actor=actor)
    assert take_snapshot() == 0  # nothing was written before today
    level = StockLevel.objects.get(product_id=product_id)
    (answer,) = level_figures_on(timezone.now().date(), product_id=product_id)
    assert (answer.available_stock, answer.reserved_stock) == (level.available_stock, level.reserved_stock)
    assert StockRow.objects.filter(product_id=product_id).count() == 4
    assert list(ledger_discrepancies(product_id=product_id)) == []
