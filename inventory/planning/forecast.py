"""Daily demand forecasts for reorder planning, from a daily demand series.

The series is one non-negative integer per day, oldest first, zero days included. The method
is picked by the shape of the history:

- "zero": no demand at all in the history; the forecast is zero and so is its error.
- "mean" (fallback): fewer than MIN_HISTORY_DAYS days, or fewer than two demand days; a
  smoothing fit on so little is noise, so the forecast is the plain mean and the error sd the
  sample standard deviation (0 for a single day).
- "croston_sba": intermittent demand, where the average inter-demand interval (ADI = days /
  demand days) exceeds 1.32, the cut of Syntetos, Boylan & Croston (2005), "On the
  categorization of demand patterns", JORS 56(5). Croston (1972) forecasts the non-zero sizes
  and the intervals between them separately; Syntetos & Boylan (2005), "The accuracy of
  intermittent demand estimates", IJF 21(2), showed Croston's size/interval ratio is biased
  upward and correct it by (1 - alpha/2), where alpha is the interval smoothing constant. Each
  of the two is a statsmodels SimpleExpSmoothing fit (statsmodels estimates alpha by maximum
  likelihood: no optimiser of ours); the composition of the two fits and the SBA factor are
  ours. Its error sd is the RMSE of the daily one-step-ahead residuals, each day forecast with
  the estimates of the demand days before it.
- "ses": regular demand, simple exponential smoothing (statsmodels SimpleExpSmoothing), the
  standard for level demand without trend (Hyndman & Athanasopoulos, "Forecasting: Principles
  and Practice", 3rd ed., ch. 8).
- "holt_winters_weekly": regular demand with at least SEASONAL_MIN_DAYS (four weeks) of
  history gets an additive weekly-seasonal ExponentialSmoothing fit too, and it is kept only if
  its AIC is lower than the SES fit's (both fitted on the same data by maximum likelihood, so
  their AICs compare); no trend term, since a trend extrapolated over a lead time overorders.

The error sd of the fitted models is the RMSE of the in-sample one-step-ahead residuals, which
the safety stock scales by the square root of the lead time. Forecasts are clipped at zero.
Statsmodels' convergence and estimation warnings are silenced inside the fits: a constant or
near-constant series makes them warn without changing the (deterministic) result.
"""

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from statsmodels.tools.sm_exceptions import ConvergenceWarning, ValueWarning
from statsmodels.tsa.holtwinters import ExponentialSmoothing, SimpleExpSmoothing

from inventory import limits
from inventory.exceptions import InvalidInput

MIN_HISTORY_DAYS = 7
SEASONAL_MIN_DAYS = 28
WEEK_DAYS = 7
INTERMITTENT_ADI = 1.32
DEFAULT_HORIZON_DAYS = 28


@dataclass(frozen=True)
class Forecast:
    method: str
    daily: tuple[float, ...]  # forecast demand for each day of the horizon, tomorrow first
    error_sd: float  # sd of the one-step-ahead daily error (RMSE of residuals)
    history_days: int

    def demand_over(self, days: int) -> float:
        """Forecast demand over the next `days` days (the horizon's pattern repeats past its end)."""
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise InvalidInput("days must be a non-negative integer.", days=days)
        whole, rest = divmod(days, len(self.daily))
        return whole * sum(self.daily) + sum(self.daily[:rest])


def _require_series(series: object) -> np.ndarray:
    if isinstance(series, str | bytes) or not isinstance(series, Sequence | np.ndarray):
        raise InvalidInput("The demand series must be a sequence of non-negative integers.")
    values = list(series)
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise InvalidInput("The demand series must hold non-negative integers only.", value=value)
    return np.asarray(values, dtype=float)


def _quiet_fit(model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", ValueWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        return model.fit()


def _rmse(residuals: np.ndarray) -> float:
    return float(math.sqrt(np.mean(np.square(residuals)))) if len(residuals) else 0.0


def _flat(method: str, rate: float, error_sd: float, history: int, horizon: int) -> Forecast:
    return Forecast(method, (max(rate, 0.0),) * horizon, error_sd, history)


def _smoothed(values: np.ndarray):
    """An SES fit and the estimate after each observation (the forecast for the one after it)."""
    if len(values) > 1 and np.all(values == values[0]):
        # Constant: the level is the constant whatever alpha; skip the degenerate optimisation.
        return 0.0, np.full(len(values), values[0])
    fit = _quiet_fit(SimpleExpSmoothing(values, initialization_method="estimated"))
    after_each = np.append(fit.fittedvalues[1:], fit.forecast(1))
    return float(fit.params["smoothing_level"]), after_each


def _croston_sba(y: np.ndarray, horizon: int) -> Forecast:
    demand_days = np.flatnonzero(y)
    sizes = y[demand_days]
    intervals = np.diff(np.concatenate(([-1], demand_days))).astype(float)
    _, size_after = _smoothed(sizes)
    interval_alpha, interval_after = _smoothed(intervals)
    sba = 1 - interval_alpha / 2
    rate_after = sba * size_after / interval_after  # daily rate estimated after each demand day
    # One-step-ahead residuals from the day after the first demand day on.
    daily_rate = np.full(len(y), np.nan)
    for k, day in enumerate(demand_days):
        daily_rate[day + 1 :] = rate_after[k]
    start = demand_days[0] + 1
    residuals = y[start:] - daily_rate[start:]
    return _flat("croston_sba", float(rate_after[-1]), _rmse(residuals), len(y), horizon)


def _regular(y: np.ndarray, horizon: int) -> Forecast:
    if np.all(y == y[0]):
        return _flat("ses", float(y[0]), 0.0, len(y), horizon)
    ses = _quiet_fit(SimpleExpSmoothing(y, initialization_method="estimated"))
    best, method = ses, "ses"
    if len(y) >= SEASONAL_MIN_DAYS:
        seasonal = _quiet_fit(
            ExponentialSmoothing(
                y, trend=None, seasonal="add", seasonal_periods=WEEK_DAYS, initialization_method="estimated"
            )
        )
        if np.isfinite(seasonal.aic) and seasonal.aic < ses.aic:
            best, method = seasonal, "holt_winters_weekly"
    daily = tuple(float(v) for v in np.clip(best.forecast(horizon), 0.0, None))
    return Forecast(method, daily, _rmse(y - best.fittedvalues), len(y))


def forecast_demand(series: Sequence[int], horizon_days: int = DEFAULT_HORIZON_DAYS) -> Forecast:
    """Daily forecast of `series` (daily demand, oldest first) over `horizon_days` days."""
    if (
        isinstance(horizon_days, bool)
        or not isinstance(horizon_days, int)
        or not 1 <= horizon_days <= limits.MAX_PLANNING_DAYS
    ):
        raise InvalidInput(
            f"horizon_days must be an integer from 1 to {limits.MAX_PLANNING_DAYS}.", horizon_days=horizon_days
        )
    y = _require_series(series)
    n = len(y)
    if n == 0:
        raise InvalidInput("The demand series is empty: there is nothing to forecast from.")
    demand_days = int(np.count_nonzero(y))
    if demand_days == 0:
        return _flat("zero", 0.0, 0.0, n, horizon_days)
    if n < MIN_HISTORY_DAYS or demand_days < 2:
        sd = float(np.std(y, ddof=1)) if n > 1 else 0.0
        return _flat("mean", float(np.mean(y)), sd, n, horizon_days)
    if n / demand_days > INTERMITTENT_ADI:
        return _croston_sba(y, horizon_days)
    return _regular(y, horizon_days)
