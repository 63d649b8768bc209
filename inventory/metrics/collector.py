"""The figures of the database, read when /metrics is scraped (inventory/selectors/monitoring.py).

They are the database's, not a process's, so the process that answers the scrape reads them;
nothing is kept in the multiprocess files. When the database fails the scrape still answers,
with the processes' counters and `inventory_database_figures_up 0`, so that the alert says
which part is down instead of the whole target vanishing.
"""

import logging
from collections.abc import Iterator
from datetime import date, timedelta
from functools import lru_cache

from django.db import DatabaseError
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from inventory.metrics import definitions as d
from inventory.selectors import counts, monitoring

logger = logging.getLogger(__name__)


class DatabaseFigures:
    """A prometheus-client collector: `collect()` is called by the scrape."""

    def describe(self) -> list[Metric]:
        return [_family(figure) for figure in d.FIGURES]

    def collect(self) -> Iterator[Metric]:
        try:
            families = list(_read())
        except DatabaseError:
            logger.exception("metrics: the database figures could not be read")
            families = []
        up = _family(d.DATABASE_UP)
        up.add_metric([], 1 if families else 0)
        yield up
        yield from families


@lru_cache(maxsize=1)
def turnover_of(today: date) -> dict[str, monitoring.Turnover]:
    """The 30 days before `today` never change: read once a day per process (the heaviest figure)."""
    return monitoring.turnover_by_warehouse(today)


def _read() -> Iterator[Metric]:
    now = timezone.now()
    yield _gauge(d.OVERSOLD_ROWS, monitoring.oversold_rows())
    expiry = monitoring.expiry(now)
    yield _gauge(d.OVERDUE_HOLDS, expiry.overdue_holds)
    yield _gauge(d.EXPIRY_LAG, expiry.lag_seconds)
    levels = monitoring.levels_by_warehouse()
    yield _per_warehouse(d.STOCK_OUT_LEVELS, {code: figures.empty for code, figures in levels.items()})
    yield _per_warehouse(d.LOW_STOCK_LEVELS, {code: figures.low for code, figures in levels.items()})
    turnover = turnover_of(timezone.localdate(now))
    yield _per_warehouse(d.SOLD_UNITS_30D, {code: t.sold_units for code, t in turnover.items()})
    yield _per_warehouse(d.AVERAGE_ON_HAND_30D, {code: t.average_on_hand for code, t in turnover.items()})
    yield _per_warehouse(d.TURNOVER_30D, {code: t.ratio for code, t in turnover.items() if t.ratio is not None})
    accuracy = counts.accuracy_by_warehouse(since=timezone.localdate(now) - timedelta(days=30))
    yield _per_warehouse(d.COUNTED_LINES_30D, {code: figures.lines for code, figures in accuracy.items()})
    yield _per_warehouse(d.COUNT_ACCURACY_30D, {code: float(figures.share) for code, figures in accuracy.items()})


def _family(figure: d.Figure) -> GaugeMetricFamily:
    return GaugeMetricFamily(figure.name, figure.documentation, labels=figure.labels)


def _gauge(figure: d.Figure, value: float) -> GaugeMetricFamily:
    family = _family(figure)
    family.add_metric([], value)
    return family


def _per_warehouse(figure: d.Figure, values: dict[str, float]) -> GaugeMetricFamily:
    family = _family(figure)
    for code, value in sorted(values.items()):
        family.add_metric([code], value)
    return family
