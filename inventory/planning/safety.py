"""Safety stock, reorder point and reorder quantity from a demand forecast.

Safety stock is z x sigma x sqrt(L): z the standard normal quantile of the cycle service level
(the probability of no stock-out in a replenishment cycle), sigma the sd of the one-step-ahead
daily forecast error, L the lead time in days; daily errors taken as independent, so their sd
over L days grows with sqrt(L) (Silver, Pyke & Thomas, 4th ed., ch. 6; Hyndman &
Athanasopoulos on forecast errors). The reorder point is the forecast demand over the lead time
plus safety stock, rounded up to whole units; the reorder quantity covers the forecast demand of
one review period (DEFAULT_REVIEW_DAYS, two weeks: a periodic review with the usual fortnightly
cycle), rounded up and at least 1 when there is any demand. An item needs reordering when what
is available plus what is already incoming is below the reorder point.
"""

import math
from dataclasses import dataclass

from scipy.stats import norm

from inventory import limits
from inventory.exceptions import InvalidInput
from inventory.planning.forecast import Forecast

DEFAULT_REVIEW_DAYS = 14


@dataclass(frozen=True)
class ReorderPlan:
    safety_stock: int
    reorder_point: int
    reorder_quantity: int


def _require_days(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= limits.MAX_PLANNING_DAYS:
        raise InvalidInput(f"{name} must be an integer from {minimum} to {limits.MAX_PLANNING_DAYS}.", **{name: value})
    return value


def _require_service_level(service_level: object) -> float:
    if (
        isinstance(service_level, bool)
        or not isinstance(service_level, int | float)
        or not limits.MIN_SERVICE_LEVEL <= service_level < 1
    ):
        raise InvalidInput("service_level must be a number with 0.5 <= s < 1.", service_level=service_level)
    return float(service_level)


def safety_stock(error_sd: float, lead_time_days: int, service_level: float = limits.DEFAULT_SERVICE_LEVEL) -> float:
    """z(service level) x error sd x sqrt(lead time), in units (not rounded)."""
    level = _require_service_level(service_level)
    days = _require_days("lead_time_days", lead_time_days, 0)
    if isinstance(error_sd, bool) or not isinstance(error_sd, int | float) or not error_sd >= 0:
        raise InvalidInput("error_sd must be a non-negative number.", error_sd=error_sd)
    return float(norm.ppf(level)) * error_sd * math.sqrt(days)


def _ceil_units(figure: float) -> int:
    # A float sum like 19.999999999 is 20, not 21: round away the noise first.
    return math.ceil(round(figure, 6))


def reorder_plan(
    forecast: Forecast,
    lead_time_days: int,
    *,
    service_level: float = limits.DEFAULT_SERVICE_LEVEL,
    review_days: int = DEFAULT_REVIEW_DAYS,
) -> ReorderPlan:
    """Safety stock, reorder point and reorder quantity (whole units) for one item."""
    review = _require_days("review_days", review_days, 1)
    stock = safety_stock(forecast.error_sd, lead_time_days, service_level)
    lead_demand = forecast.demand_over(lead_time_days)
    review_demand = forecast.demand_over(review)
    quantity = max(_ceil_units(review_demand), 1) if review_demand > 0 else 0
    return ReorderPlan(
        safety_stock=_ceil_units(stock),
        reorder_point=_ceil_units(lead_demand + stock),
        reorder_quantity=quantity,
    )


def needs_reorder(available: int, incoming: int, reorder_point: int) -> bool:
    """Whether stock available plus stock incoming is below the reorder point."""
    for name, value in (("available", available), ("incoming", incoming), ("reorder_point", reorder_point)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"{name} must be an integer.", **{name: value})
    if incoming < 0 or reorder_point < 0:
        raise InvalidInput("incoming and reorder_point must not be negative.")
    return available + incoming < reorder_point
