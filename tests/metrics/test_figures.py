"""The figures /metrics reads from the database at scrape time."""

from datetime import timedelta

import pytest
from django.db import DatabaseError
from django.utils import timezone

from inventory import services
from inventory.metrics.collector import turnover_of
from inventory.models import Reservation, StockRow
from inventory.selectors import monitoring
from inventory.services import ReservationLine
from tests.metrics.conftest import value

pytestmark = pytest.mark.django_db


def reserve(order_id: str, product_id: int, quantity: int) -> None:
    services.reserve_stock(order_id=order_id, lines=[ReservationLine(product_id, quantity)], actor="shop")


def item_in(warehouse: str, available: int, threshold: int = 2) -> int:
    product_id = next(_product_ids)
    services.create_inventory(
        product_id=product_id,
        available_stock=available,
        low_stock_threshold=threshold,
        actor="lead",
        warehouse=warehouse,
    )
    return product_id


_product_ids = iter(range(70_000, 80_000))


def test_stock_outs_and_low_stock_are_counted_per_warehouse(scrape, warehouse):
    warehouse("north")
    warehouse("south")
    item_in("north", 0)
    item_in("north", 1)
    item_in("north", 50)
    # Empty once its one unit is held: available 0 is a stock-out whoever holds the rest.
    reserve("F-1", item_in("north", 1), 1)
    samples = scrape()

    assert value(samples, "inventory_stock_out_levels", warehouse="north") == 2
    assert value(samples, "inventory_low_stock_levels", warehouse="north") == 3
    # A warehouse with nothing low shows 0, so its alert can resolve.
    assert samples[("inventory_stock_out_levels", frozenset({("warehouse", "south")}))] == 0
    assert samples[("inventory_low_stock_levels", frozenset({("warehouse", "south")}))] == 0


def test_a_row_whose_holds_exceed_its_reserved_stock_is_oversold(scrape, make_item):
    item = make_item(available_stock=5)
    reserve("F-2", item.product_id, 2)
    assert value(scrape(), "inventory_oversold_rows") == 0

    # What no service can do: the row lets one held unit go back to available stock.
    StockRow.objects.filter(product_id=item.product_id).update(available_stock=4, reserved_stock=1)

    assert value(scrape(), "inventory_oversold_rows") == 1


def test_expiry_lag_is_the_age_of_the_oldest_overdue_hold(scrape, make_item):
    first, second = make_item(available_stock=5), make_item(available_stock=5)
    reserve("F-3", first.product_id, 1)
    reserve("F-4", second.product_id, 1)
    samples = scrape()
    assert value(samples, "inventory_expiry_lag_seconds") == 0
    assert value(samples, "inventory_overdue_holds") == 0

    now = timezone.now()
    Reservation.objects.filter(order_id="F-3").update(expires_at=now - timedelta(seconds=120))
    Reservation.objects.filter(order_id="F-4").update(expires_at=now - timedelta(seconds=30))
    samples = scrape()

    assert 120 <= value(samples, "inventory_expiry_lag_seconds") < 180
    assert value(samples, "inventory_overdue_holds") == 2


def test_turnover_is_sold_units_over_the_mean_of_the_daily_closes(make_item):
    item = make_item(available_stock=100)
    reserve("F-5", item.product_id, 30)
    services.deduct_reservations(order_id="F-5", actor="shop")
    today = timezone.localdate()

    # Seen from ten days on: 30 sold in the window; the close was 70 on 10 of its 30 days, 0 before.
    later = monitoring.turnover_by_warehouse(today + timedelta(days=10))["default"]
    assert later.sold_units == 30
    assert later.average_on_hand == pytest.approx(70 * 10 / 30)
    assert later.ratio == pytest.approx(30 / (70 * 10 / 30))
    # Seen from today, the window holds none of today's changes: nothing sold, nothing on hand before.
    now = monitoring.turnover_by_warehouse(today)["default"]
    assert (now.sold_units, now.average_on_hand, now.ratio) == (0, 0, None)
    # Long after, the window has passed them: the close was 70 on every day, nothing sold.
    much_later = monitoring.turnover_by_warehouse(today + timedelta(days=60))["default"]
    assert (much_later.sold_units, much_later.average_on_hand, much_later.ratio) == (0, 70, 0)


def test_the_scrape_shows_turnover_only_where_there_was_stock(scrape, make_item, monkeypatch):
    item = make_item(available_stock=100)
    reserve("F-6", item.product_id, 30)
    services.deduct_reservations(order_id="F-6", actor="shop")
    samples = scrape()
    # Today's sale is not in the 30 days before today.
    assert value(samples, "inventory_sold_units_30d", warehouse="default") == 0
    assert ("inventory_turnover_30d", frozenset({("warehouse", "default")})) not in samples

    turnover_of.cache_clear()
    monkeypatch.setattr(
        "inventory.selectors.monitoring.turnover_by_warehouse",
        lambda today: {"default": monitoring.Turnover(30, 20.0), "north": monitoring.Turnover(0, 0.0)},
    )
    samples = scrape()
    assert value(samples, "inventory_turnover_30d", warehouse="default") == 1.5
    assert value(samples, "inventory_average_on_hand_units_30d", warehouse="north") == 0
    assert ("inventory_turnover_30d", frozenset({("warehouse", "north")})) not in samples


def test_a_failing_database_leaves_the_counters_and_says_so(scrape, monkeypatch):
    def fails(*args):
        raise DatabaseError("the database went away")

    monkeypatch.setattr("inventory.selectors.monitoring.expiry", fails)
    samples = scrape()

    assert value(samples, "inventory_database_figures_up") == 0
    assert ("inventory_oversold_rows", frozenset()) not in samples
    assert any(name.startswith("python_gc_") for name, _ in samples)


def test_counting_accuracy_is_the_share_of_lines_within_tolerance_per_warehouse(scrape, make_item):
    exact, off, uncounted_warehouse = make_item(available_stock=10), make_item(available_stock=10), "north"
    sheet = services.create_count_sheet(
        warehouse="default",
        kind="list",
        product_ids=[exact.product_id, off.product_id],
        actor="lead",
        tolerance_units=1,
    )
    services.record_count(sheet_id=sheet.pk, product_id=exact.product_id, counted=10, actor="counter")
    services.record_count(sheet_id=sheet.pk, product_id=off.product_id, counted=7, actor="counter")
    assert value(scrape(), "inventory_counted_lines_30d", warehouse="default") == 0  # not posted yet

    services.approve_lines(sheet_id=sheet.pk, product_ids=[off.product_id], actor="lead")
    services.post_sheet(sheet_id=sheet.pk, actor="lead")
    samples = scrape()

    assert value(samples, "inventory_counted_lines_30d", warehouse="default") == 2
    assert value(samples, "inventory_count_accuracy_30d", warehouse="default") == 0.5
    assert ("inventory_count_accuracy_30d", frozenset({("warehouse", uncounted_warehouse)})) not in samples
