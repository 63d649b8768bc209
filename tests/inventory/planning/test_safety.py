import math

import numpy as np
import pytest
from scipy.stats import norm

from inventory.exceptions import InvalidInput
from inventory.planning.forecast import Forecast, forecast_demand
from inventory.planning.safety import ReorderPlan, needs_reorder, reorder_plan, safety_stock


@pytest.mark.parametrize(("lam", "lead_time"), [(20, 7), (3, 10)])
def test_reorder_point_covers_the_service_level(lam, lead_time):
    rng = np.random.default_rng(lam * 100 + lead_time)
    coverages = []
    for _ in range(20):  # 20 histories, each judged on 2,000 future lead-time windows
        plan = reorder_plan(forecast_demand(rng.poisson(lam, 120).tolist()), lead_time, service_level=0.95)
        window_demand = rng.poisson(lam, (2000, lead_time)).sum(axis=1)
        coverages.append(np.mean(window_demand <= plan.reorder_point))
    coverage = float(np.mean(coverages))
    print(f"lambda={lam} L={lead_time}: coverage {coverage:.3f}")
    assert 0.93 <= coverage <= 0.99


def test_intermittent_reorder_point_covers_the_service_level():
    rng = np.random.default_rng(5)

    def demand(shape):
        return (rng.random(shape) < 0.2) * (rng.poisson(5, shape) + 1)

    coverages = []
    for _ in range(20):
        plan = reorder_plan(forecast_demand(demand(365).tolist()), 14, service_level=0.9)
        coverages.append(np.mean(demand((2000, 14)).sum(axis=1) <= plan.reorder_point))
    coverage = float(np.mean(coverages))
    print(f"intermittent L=14 s=0.9: coverage {coverage:.3f}")
    assert 0.88 <= coverage <= 0.97


def test_formula():
    assert safety_stock(4.0, 9, 0.95) == pytest.approx(norm.ppf(0.95) * 4.0 * 3)
    forecast = Forecast("ses", (10.0,) * 28, 4.0, 120)
    plan = reorder_plan(forecast, 9, service_level=0.95, review_days=14)
    assert plan.safety_stock == math.ceil(norm.ppf(0.95) * 12)  # 19.74 -> 20
    assert plan.reorder_point == math.ceil(90 + norm.ppf(0.95) * 12)  # 109.74 -> 110
    assert plan.reorder_quantity == 140


def test_zero_demand_and_zero_lead_time():
    assert reorder_plan(forecast_demand([0] * 30), 7) == ReorderPlan(0, 0, 0)
    plan = reorder_plan(Forecast("ses", (2.0,) * 28, 3.0, 60), 0)
    assert (plan.safety_stock, plan.reorder_point) == (0, 0)
    assert plan.reorder_quantity == 28


def test_tiny_demand_still_orders_one():
    plan = reorder_plan(Forecast("croston_sba", (0.01,) * 28, 0.1, 365), 3, review_days=14)
    assert plan.reorder_quantity == 1


@pytest.mark.parametrize("level", [0.49, 1, 1.0, True, "0.95", None])
def test_invalid_service_level(level):
    with pytest.raises(InvalidInput):
        safety_stock(1.0, 7, level)


@pytest.mark.parametrize("kwargs", [{"lead_time_days": -1}, {"lead_time_days": 1.5}, {"lead_time_days": 367}])
def test_invalid_lead_time(kwargs):
    with pytest.raises(InvalidInput):
        safety_stock(1.0, service_level=0.95, **kwargs)


def test_invalid_error_sd_and_review():
    with pytest.raises(InvalidInput):
        safety_stock(-1.0, 7)
    with pytest.raises(InvalidInput):
        safety_stock(float("nan"), 7)
    with pytest.raises(InvalidInput):
        reorder_plan(Forecast("ses", (1.0,), 0.0, 10), 7, review_days=0)


def test_needs_reorder():
    assert needs_reorder(5, 4, 10) is True
    assert needs_reorder(6, 4, 10) is False  # exactly at the reorder point: not below
    assert needs_reorder(-3, 12, 10) is True  # oversold stock counts as negative
    assert needs_reorder(0, 0, 0) is False
    with pytest.raises(InvalidInput):
        needs_reorder(1.0, 0, 1)
    with pytest.raises(InvalidInput):
        needs_reorder(1, -1, 1)
