"""The planning run and terms on PostgreSQL: demand read from a made-up ledger with a known
answer, ABC classes by units and by value, forecasts and reorder figures stored per level,
thresholds changed only where staff opted in (and logged), and the reorder report."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from inventory import limits, services
from inventory.exceptions import InvalidInput
from inventory.models import Inventory, InventoryLog, ItemPlan, LogOperation, PlanningSettings, StockRow, Warehouse
from inventory.selectors.planning import daily_demand, reorder_report, today
from inventory.services.planning import refresh_plans, set_item_plan, set_planning_settings


def default_id() -> int:
    """The `default` warehouse's id (a flush by a transactional test makes it anew)."""
    return Warehouse.objects.values_list("pk", flat=True).get(code="default")


def sold(product_id: int, units: int, days_ago: int, operation: str = LogOperation.DEDUCT) -> None:
    """A made-up ledger entry of `units` leaving the level `days_ago` days before today, at noon UTC."""
    moment = datetime.combine(today() - timedelta(days=days_ago), time(12), tzinfo=UTC)
    InventoryLog.objects.create(
        product_id=product_id,
        warehouse_id=default_id(),
        operation=operation,
        quantity=units,
        available_before=0,
        available_after=0,
        reserved_before=units,
        reserved_after=0,
        actor="made-up",
        created_at=moment,
    )


def opened(product_id: int, days_ago: int) -> None:
    StockRow.objects.filter(product_id=product_id).update(created_at=datetime.now(UTC) - timedelta(days=days_ago))


@pytest.fixture
def item(make_item):
    def make(*, available: int = 0, daily: int = 0, days: int = 0, threshold: int = 2) -> int:
        product_id = make_item(available_stock=available, low_stock_threshold=threshold).product_id
        opened(product_id, 400)
        for days_ago in range(1, days + 1):
            sold(product_id, daily, days_ago)
        return product_id

    return make


def plan_of(product_id: int) -> ItemPlan:
    return ItemPlan.objects.get(product_id=product_id, warehouse_id=default_id())


def test_daily_demand_counts_deducts_and_fills_per_day_oldest_first(make_item):
    product_id = make_item(available_stock=0).product_id
    sold(product_id, 3, days_ago=3)
    sold(product_id, 2, days_ago=1)
    sold(product_id, 4, days_ago=1, operation=LogOperation.BACKORDER_FILL)
    sold(product_id, 7, days_ago=1, operation=LogOperation.RELEASE)  # came back: no demand
    sold(product_id, 9, days_ago=0)  # today is still under way
    sold(product_id, 5, days_ago=6)  # before the window

    assert daily_demand(days=4)[(product_id, default_id())] == [0, 3, 0, 6]
    assert daily_demand(days=4, levels=[(product_id, 99)]) == {}


def test_abc_classes_from_the_ledger_by_units_then_by_value(item):
    # 100 units over the window: 50, 30, 10, 6, 4 -> A, A, B (80 % before it), B, C (96 %); 0 -> C.
    products = [item(daily=units, days=1 if units else 0) for units in (50, 30, 10, 6, 4, 0)]

    refresh_plans()

    assert [plan_of(p).abc_class for p in products] == ["A", "A", "B", "B", "C", "C"]
    assert [plan_of(p).demand_units for p in products] == [50, 30, 10, 6, 4, 0]

    # By value the cheap fast mover falls behind: 50 x 1, 30 x 10, 10 x 100, 6 x 2, 4 x 50; no value: no class.
    values = (1, 10, 100, 2, 50, None)
    for product_id, value in zip(products, values, strict=True):
        Inventory.products.filter(product_id=product_id).update(unit_value=value)
    set_planning_settings(abc_basis="value", actor="lead")

    refresh_plans()

    # Value 50, 300, 1000, 12, 200 of 1562: 1000 (0 %) A, 300 (64 %) A, 200 (83 %) B, 50 (96 %) C, 12 C.
    assert [plan_of(p).abc_class for p in products] == ["C", "A", "A", "C", "B", ""]


def test_a_level_sold_on_one_day_in_three_is_intermittent(item):
    product_id = item(daily=6, days=0)
    for days_ago in range(1, 91, 3):
        sold(product_id, 6, days_ago)

    assert refresh_plans().levels >= 1

    plan = plan_of(product_id)
    assert (plan.method, plan.history_days, plan.demand_units) == ("croston_sba", 90, 180)
    # Croston/SBA: 6 units every 3 days is 2 a day, less SBA's small correction.
    assert 1.6 < plan.forecast[0] <= 2.0


def test_a_constant_history_has_no_error_so_no_safety_stock(item):
    product_id = item(daily=5, days=30)
    opened(product_id, 30)  # the level is 30 days old: its history is those 30 days of 5

    refresh_plans()

    plan = plan_of(product_id)
    assert (plan.method, plan.history_days, plan.error_sd, plan.forecast[0]) == ("ses", 30, 0.0, 5.0)
    # Lead time 7 days: 35 units; review 14 days: 70.
    assert (plan.safety_stock, plan.reorder_point, plan.reorder_quantity) == (0, 35, 70)


def test_noisy_demand_keeps_a_safety_stock_that_grows_with_the_lead_time(item, make_item):
    product_id = make_item(available_stock=0).product_id
    opened(product_id, 60)
    for days_ago, units in enumerate([3, 8, 5, 9, 2, 6, 7, 4] * 7, start=1):
        sold(product_id, units, days_ago)
    refresh_plans()
    short = plan_of(product_id)

    longer = set_item_plan(product_id=product_id, lead_time_days=28, actor="lead")

    assert short.error_sd > 1
    assert short.safety_stock > 0
    assert longer.safety_stock == pytest.approx(short.safety_stock * 2, abs=1)  # sqrt(28 / 7) = 2
    assert longer.reorder_point > short.reorder_point
    assert longer.forecast == short.forecast  # the forecast is kept, the figures follow


def test_thresholds_change_only_where_staff_opted_in_and_are_logged(item):
    opted, left = item(daily=5, days=30, threshold=2), item(daily=5, days=30, threshold=2)
    for product_id in (opted, left):
        opened(product_id, 30)
    set_item_plan(product_id=opted, apply_suggestions=True, actor="lead")  # nothing computed yet: no change

    result = refresh_plans()
    again = refresh_plans()

    assert (result.applied, again.applied) == (1, 0)  # the second run finds the threshold already there
    assert StockRow.objects.get(product_id=opted, bucket=0).low_stock_threshold == 35
    assert StockRow.objects.get(product_id=left, bucket=0).low_stock_threshold == 2
    entry = InventoryLog.objects.filter(product_id=opted, operation=LogOperation.THRESHOLD).latest("id")
    assert (entry.quantity, entry.actor) == (35, "planning")
    assert "reorder point" in entry.reason


def test_opting_in_applies_the_stored_reorder_point_at_once(item):
    product_id = item(daily=5, days=30)
    opened(product_id, 30)
    refresh_plans()

    set_item_plan(product_id=product_id, apply_suggestions=True, lead_time_days=10, actor="lead")

    assert StockRow.objects.get(product_id=product_id, bucket=0).low_stock_threshold == 50
    assert InventoryLog.objects.filter(product_id=product_id, operation=LogOperation.THRESHOLD, actor="lead").exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"lead_time_days": -1},
        {"lead_time_days": limits.MAX_PLANNING_DAYS + 1},
        {"lead_time_days": True},
        {"lead_time_days": 7.5},
        {"service_level": 0.4},
        {"service_level": 1},
        {"service_level": "x"},
        {"service_level": "NaN"},
        {"service_level": True},
        {"apply_suggestions": "yes"},
    ],
)
def test_hostile_terms_are_refused_and_change_nothing(item, changes):
    product_id = item()

    with pytest.raises(InvalidInput):
        set_item_plan(product_id=product_id, actor="lead", **changes)

    assert not ItemPlan.objects.filter(product_id=product_id).exclude(lead_time_days=7).exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"window_days": 6},
        {"window_days": limits.MAX_PLANNING_DAYS + 1},
        {"abc_basis": "weight"},
        {"a_percent": 96},
        {"b_percent": 101},
        {"a_percent": 0},
        {"a_percent": "x"},
    ],
)
def test_hostile_settings_are_refused_and_change_nothing(db, changes):
    with pytest.raises(InvalidInput):
        set_planning_settings(actor="lead", **changes)

    settings = PlanningSettings.current()
    assert (settings.window_days, settings.abc_basis, settings.a_percent, settings.b_percent) == (
        90,
        "units",
        Decimal(80),
        Decimal(95),
    )


def test_the_reorder_report_counts_what_arrives_within_the_lead_time(item, actor):
    short = item(available=10, daily=5, days=30)
    covered = item(available=10, daily=5, days=30)
    late = item(available=10, daily=5, days=30)
    plenty = item(available=100, daily=5, days=30)
    for product_id in (short, covered, late, plenty):
        opened(product_id, 30)
    refresh_plans()  # each: reorder point 35, quantity 70
    for product_id, days in ((covered, 7), (late, 8)):
        services.create_purchase_order(
            supplier="Acme",
            warehouse="default",
            lines=[services.PurchaseOrderLineInput(product_id, 30, today() + timedelta(days=days))],
            actor=actor,
        )

    report = {line.product_id: line for line in reorder_report()}

    assert set(report) == {short, late}
    assert (report[short].position, report[short].incoming, report[short].suggested_quantity) == (10, 0, 95)
    assert (report[late].position, report[late].incoming) == (10, 0)


def test_history_starts_when_the_level_was_opened(item):
    product_id = item(daily=4, days=10)
    opened(product_id, 10)

    refresh_plans()

    plan = plan_of(product_id)
    assert (plan.history_days, plan.method, plan.forecast[0]) == (10, "ses", 4.0)
