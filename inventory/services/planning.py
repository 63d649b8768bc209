"""Stock planning (安全库存, 库存预测, ABC 分类): the daily run and the terms staff set.

`refresh_plans` is the daily run (the `inventory.refresh_plans` beat task): for every level
it reads the ledger's daily demand over the settings' window, ranks the levels into ABC
classes, fits a demand forecast (inventory/planning/forecast.py: statsmodels' exponential
smoothing, Croston/SBA for intermittent demand), and from the forecast error, the level's
lead time and service level computes its safety stock, reorder point and reorder quantity
(inventory/planning/safety.py). The figures are stored on the level's `ItemPlan`.

A level's low-stock threshold becomes its reorder point only where staff opted in
(`apply_suggestions`), through `set_low_stock_threshold`: one `threshold` ledger entry
with the run as actor, as any threshold edit. Nothing else here touches stock.

*Our choices:* a level's history starts on the day it was created (a level opened last
week is not judged on months of zeros); today, still under way, is not in it. The
forecast looks FORECAST_HORIZON_DAYS ahead (the chart's span; a lead time past it repeats
its pattern). By value, levels whose product has no unit value are left out of the
ranking and keep no class.
"""

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models.functions import Now
from django.utils import timezone

from inventory import limits
from inventory.exceptions import InvalidInput, ProductNotFound
from inventory.models import AbcBasis, ItemPlan, PlanningSettings, StockLevel, StockRow
from inventory.planning.abc import AbcItem, classify_by, validate_thresholds
from inventory.planning.forecast import Forecast, forecast_demand
from inventory.planning.safety import reorder_plan
from inventory.selectors.planning import Level, daily_demand, today
from inventory.services._validation import require_int, require_product_id
from inventory.services.stock import set_low_stock_threshold, warehouse_id_of

FORECAST_HORIZON_DAYS = 28
PLANNING_ACTOR = "planning"
COMPUTED_FIELDS = (
    "abc_class",
    "demand_units",
    "method",
    "forecast",
    "error_sd",
    "history_days",
    "safety_stock",
    "reorder_point",
    "reorder_quantity",
    "computed_at",
)
logger = logging.getLogger("inventory.planning")


@dataclass(frozen=True)
class RefreshResult:
    levels: int  # levels planned
    applied: int  # thresholds set to the reorder point (levels that opted in)


def refresh_plans(*, until: date | None = None, actor: str = PLANNING_ACTOR) -> RefreshResult:
    """Recompute every level's class, forecast and reorder figures from the ledger up to `until` (default today)."""
    end = until or today()
    settings = PlanningSettings.current()
    levels = list(
        StockLevel.objects.order_by("product_id", "warehouse_id").values_list(
            "product_id", "warehouse_id", "created_at", "low_stock_threshold", "product__unit_value"
        )
    )
    demand = daily_demand(days=settings.window_days, until=end)
    history = {
        (product, warehouse): _history(demand.get((product, warehouse)), settings.window_days, created.date(), end)
        for product, warehouse, created, _, _ in levels
    }
    plans = _plans_of(list(history))
    classes = _classes(settings, levels, history)
    now = timezone.now()
    for level, series in history.items():
        plan = plans[level]
        plan.demand_units = sum(series)
        _computed(plan, forecast_demand(series, FORECAST_HORIZON_DAYS), classes.get(level, ""), now)
    ItemPlan.objects.bulk_update(plans.values(), COMPUTED_FIELDS, batch_size=500)
    applied = sum(
        _apply(plans[(product, warehouse)], threshold, actor)
        for product, warehouse, _, threshold, _ in levels
        if plans[(product, warehouse)].apply_suggestions
    )
    logger.info("plans_refreshed", extra={"levels": len(levels), "applied": applied, "until": end.isoformat()})
    return RefreshResult(levels=len(levels), applied=applied)


def set_item_plan(
    *,
    product_id: int,
    actor: str,
    warehouse: str = limits.DEFAULT_WAREHOUSE,
    lead_time_days: int | None = None,
    service_level: Decimal | float | str | None = None,
    apply_suggestions: bool | None = None,
) -> ItemPlan:
    """Change a level's planning terms; its reorder figures follow from its stored forecast at once.

    Turning `apply_suggestions` on sets the threshold to the reorder point now, if there is one.
    """
    require_product_id(product_id)
    level = (product_id, warehouse_id_of(warehouse))
    changes = {}
    if lead_time_days is not None:
        changes["lead_time_days"] = require_int(
            "lead_time_days", lead_time_days, minimum=0, maximum=limits.MAX_PLANNING_DAYS
        )
    if service_level is not None:
        changes["service_level"] = _service_level(service_level)
    if apply_suggestions is not None:
        if not isinstance(apply_suggestions, bool):
            raise InvalidInput("apply_suggestions must be true or false.", apply_suggestions=apply_suggestions)
        changes["apply_suggestions"] = apply_suggestions
    if not StockRow.objects.filter(product_id=level[0], warehouse_id=level[1], bucket=0).exists():
        raise ProductNotFound(product_id)
    with transaction.atomic():
        plan = _plans_of([level], lock=True)[level]
        for name, value in changes.items():
            setattr(plan, name, value)
        if plan.computed_at is not None:
            _reordered(plan, _stored_forecast(plan))
        plan.actor = actor
        plan.updated_at = Now()
        plan.save()
        plan.refresh_from_db()
    if plan.apply_suggestions:
        threshold = StockLevel.objects.values_list("low_stock_threshold", flat=True).get(
            product_id=level[0], warehouse_id=level[1]
        )
        _apply(plan, threshold, actor)
    logger.info("item_plan_changed", extra={"product_id": product_id, "warehouse": warehouse, "actor": actor})
    return plan


def set_planning_settings(
    *,
    actor: str,
    window_days: int | None = None,
    abc_basis: str | None = None,
    a_percent: Decimal | float | str | None = None,
    b_percent: Decimal | float | str | None = None,
    a_count_days: int | None = None,
    b_count_days: int | None = None,
    c_count_days: int | None = None,
) -> PlanningSettings:
    """Change the run's terms and the cycle counts' intervals; they apply from the next runs."""
    days = {"a_count_days": a_count_days, "b_count_days": b_count_days, "c_count_days": c_count_days}
    with transaction.atomic():
        settings = PlanningSettings.objects.select_for_update().get_or_create(pk=1)[0]
        if window_days is not None:
            settings.window_days = require_int(
                "window_days", window_days, minimum=limits.MIN_DEMAND_WINDOW_DAYS, maximum=limits.MAX_PLANNING_DAYS
            )
        for name, value in days.items():
            if value is not None:
                setattr(
                    settings,
                    name,
                    require_int(name, value, minimum=limits.MIN_COUNT_INTERVAL_DAYS, maximum=limits.MAX_PLANNING_DAYS),
                )
        if abc_basis is not None:
            if abc_basis not in AbcBasis.values:
                raise InvalidInput('abc_basis must be "units" or "value".', abc_basis=abc_basis)
            settings.abc_basis = abc_basis
        settings.a_percent, settings.b_percent = validate_thresholds(
            settings.a_percent if a_percent is None else a_percent,
            settings.b_percent if b_percent is None else b_percent,
        )
        settings.updated_at = Now()
        settings.save()
        settings.refresh_from_db()
    logger.info("planning_settings_changed", extra={"actor": actor})
    return settings


def _plans_of(levels: list[Level], *, lock: bool = False) -> dict[Level, ItemPlan]:
    """Each level's plan, made with the default terms where it has none."""
    ItemPlan.objects.bulk_create(
        [ItemPlan(product_id=product, warehouse_id=warehouse) for product, warehouse in levels],
        ignore_conflicts=True,
        batch_size=500,
    )
    products = {product for product, _ in levels}
    plans = ItemPlan.objects.filter(product_id__in=products)
    if lock:
        plans = plans.select_for_update()
    found = {(plan.product_id, plan.warehouse_id): plan for plan in plans}
    return {level: found[level] for level in levels}


def _classes(settings: PlanningSettings, levels, history: dict[Level, list[int]]) -> dict[Level, str]:
    items = [
        AbcItem(key=(product, warehouse), units=sum(history[(product, warehouse)]), unit_value=unit_value)
        for product, warehouse, _, _, unit_value in levels
    ]
    result = classify_by(items, settings.abc_basis, a_percent=settings.a_percent, b_percent=settings.b_percent)
    return {level: str(abc_class) for level, abc_class in result.classes.items()}


def _history(series: list[int] | None, window: int, created: date, end: date) -> list[int]:
    """The window's days from the level's creation on (at least one day)."""
    days = series or [0] * window
    first = (created - (end - timedelta(days=window))).days
    return days[min(max(first, 0), window - 1) :]


def _computed(plan: ItemPlan, forecast: Forecast, abc_class: str, now) -> None:
    plan.abc_class = abc_class
    plan.method = forecast.method
    plan.forecast = [round(day, 4) for day in forecast.daily]
    plan.error_sd = forecast.error_sd
    plan.history_days = forecast.history_days
    plan.computed_at = now
    _reordered(plan, forecast)


def _reordered(plan: ItemPlan, forecast: Forecast) -> None:
    figures = reorder_plan(forecast, plan.lead_time_days, service_level=float(plan.service_level))
    plan.safety_stock = figures.safety_stock
    # A threshold is at most MAX_QUANTITY; so is the point it may become.
    plan.reorder_point = min(figures.reorder_point, limits.MAX_QUANTITY)
    plan.reorder_quantity = figures.reorder_quantity


def _stored_forecast(plan: ItemPlan) -> Forecast:
    return Forecast(plan.method, tuple(plan.forecast) or (0.0,), plan.error_sd or 0.0, plan.history_days)


def _apply(plan: ItemPlan, threshold: int, actor: str) -> bool:
    """Set the level's threshold to the plan's reorder point, if it differs; whether it did."""
    if plan.reorder_point is None or plan.reorder_point == threshold:
        return False
    set_low_stock_threshold(
        product_id=plan.product_id,
        low_stock_threshold=plan.reorder_point,
        warehouse=plan.warehouse.code,
        actor=actor,
        reason=f"reorder point of the planning run ({plan.method}, {plan.lead_time_days} days' lead time)",
    )
    return True


def _service_level(value: Decimal | float | str) -> Decimal:
    try:
        level = Decimal(str(value))
    except (InvalidOperation, ValueError):
        level = None
    if isinstance(value, bool) or level is None or not level.is_finite() or not limits.MIN_SERVICE_LEVEL <= level < 1:
        raise InvalidInput(
            f"service_level must be a number from {limits.MIN_SERVICE_LEVEL} up to (not including) 1.",
            service_level=value,
        )
    return level.quantize(Decimal("0.001"))
