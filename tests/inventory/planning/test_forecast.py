import math
import warnings

import numpy as np
import pytest

from inventory.exceptions import InvalidInput
from inventory.planning.forecast import forecast_demand


def test_poisson_regular_demand():
    lam = 20
    series = np.random.default_rng(20).poisson(lam, 120).tolist()
    result = forecast_demand(series)
    assert result.method == "ses"
    assert result.history_days == 120
    assert abs(np.mean(result.daily) - lam) <= 0.10 * lam
    # One-step error sd near the Poisson sd sqrt(20) = 4.47.
    assert 0.8 * math.sqrt(lam) <= result.error_sd <= 1.2 * math.sqrt(lam)


def test_intermittent_demand_uses_croston_sba():
    # SBA is built to be unbiased: averaged over 40 generated histories its daily rate is within
    # 5 % of p x E[size]; a single history's estimate (the level at its end) within 30 %.
    p, days, true_rate = 0.2, 365, 0.2 * 6  # sizes Poisson(5) + 1: E[size] = 6
    rates = []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        series = ((rng.random(days) < p) * (rng.poisson(5, days) + 1)).tolist()
        result = forecast_demand(series)
        assert result.method == "croston_sba"
        assert result.error_sd > 0
        rates.append(result.daily[0])
    assert abs(np.mean(rates) - true_rate) <= 0.05 * true_rate
    assert max(abs(rate - true_rate) for rate in rates) <= 0.30 * true_rate


def test_weekly_pattern_is_followed():
    pattern = np.array([10, 12, 15, 14, 20, 40, 35])
    series = np.random.default_rng(7).poisson(np.tile(pattern, 16)).tolist()  # 112 days, ends on a Sunday
    result = forecast_demand(series, horizon_days=14)
    assert result.method == "holt_winters_weekly"
    assert np.corrcoef(result.daily[:7], pattern)[0, 1] > 0.9
    assert np.corrcoef(result.daily[7:], pattern)[0, 1] > 0.9


def test_no_seasonal_model_under_four_weeks():
    pattern = [10, 12, 15, 14, 20, 40, 35]
    assert forecast_demand(pattern * 3).method != "holt_winters_weekly"


def test_short_history_falls_back_to_the_mean():
    result = forecast_demand([0, 0, 3], horizon_days=5)
    assert result.method == "mean"
    assert result.daily == (1.0,) * 5
    assert result.error_sd == pytest.approx(math.sqrt(3))
    assert forecast_demand([4]).error_sd == 0.0


def test_all_zeros_and_constant_series_are_quiet_and_deterministic():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        zero = forecast_demand([0] * 60)
        constant = forecast_demand([5] * 60)
        constant_sizes = forecast_demand([0, 0, 4] * 30)
    assert (zero.method, zero.daily[0], zero.error_sd) == ("zero", 0.0, 0.0)
    assert (constant.method, constant.daily[0], constant.error_sd) == ("ses", 5.0, 0.0)
    assert constant_sizes.method == "croston_sba"
    assert constant_sizes == forecast_demand([0, 0, 4] * 30)
    # Constant sizes and intervals: Croston's rate is 4/3 exactly; SBA with alpha 0 keeps it.
    assert constant_sizes.daily[0] == pytest.approx(4 / 3)


def test_one_demand_day_falls_back_to_the_mean():
    result = forecast_demand([0] * 29 + [30])
    assert (result.method, result.daily[0]) == ("mean", 1.0)


@pytest.mark.parametrize("series", [[], [1, -1], [1.5], [True], "123", None, [None]])
def test_invalid_series(series):
    with pytest.raises(InvalidInput):
        forecast_demand(series)


@pytest.mark.parametrize("horizon", [0, 367, 1.0, True])
def test_invalid_horizon(horizon):
    with pytest.raises(InvalidInput):
        forecast_demand([1] * 10, horizon_days=horizon)


def test_demand_over_repeats_the_pattern():
    result = forecast_demand([1, 2, 3], horizon_days=3)  # mean fallback: 2 a day
    assert result.demand_over(0) == 0
    assert result.demand_over(7) == pytest.approx(14)
