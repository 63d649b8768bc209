"""Every metric /metrics exports, by name, in one place (docs/monitoring.md describes each).

The counters and histograms are counted by the process that sees the event; under gunicorn and
Celery (PROMETHEUS_MULTIPROC_DIR set before the process starts) prometheus-client keeps them in
files of that directory, one per process, which the scrape adds up. The figures read from the
database at scrape time (`FIGURES`) are gauges built by `collector.DatabaseFigures` in the
process that answers the scrape; they are declared here so that the dashboard's and the alert
rules. check (`monitoring/check_monitoring.py`) knows every name from one list.

Labels take values from closed sets only (a route's name, a status class, an outcome, an error
code, a warehouse code), never from a raw path or an order id: the series stay bounded.
"""

from dataclasses import dataclass

from prometheus_client import Counter, Histogram, disable_created_metrics

# A `_created` series beside each counter doubles the series for a figure Prometheus does not use.
disable_created_metrics()

REQUESTS = Counter(
    "inventory_http_requests",
    "HTTP requests answered, by resolved route name, method and status class.",
    ["route", "method", "status"],
)
REQUEST_DURATION = Histogram(
    "inventory_http_request_duration_seconds",
    "Time from the first middleware to the answer, by resolved route name and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
RESERVES = Counter(
    "inventory_reserves",
    "Calls of reserve_stock by outcome: reserved, repeat, or the error code of the refusal.",
    ["outcome"],
)
VERSION_CONFLICTS = Counter(
    "inventory_version_conflicts",
    "Staff writes refused because the level's expected version was stale.",
)
HOLDS_ENDED = Counter(
    "inventory_holds_ended",
    "Holds ended and committed, by the ledger operation that ended them: deduct, release or expire (timed out).",
    ["ending"],
)
GATE_LOOKUPS = Counter(
    "inventory_sold_out_gate_lookups",
    "Reserves the sold-out gate looked up in Redis: hit (refused from Redis), miss, or error (Redis failed).",
    ["result"],
)

COUNTED = (REQUESTS, REQUEST_DURATION, RESERVES, VERSION_CONFLICTS, HOLDS_ENDED, GATE_LOOKUPS)


@dataclass(frozen=True)
class Figure:
    """A gauge read from the database when /metrics is scraped."""

    name: str
    documentation: str
    labels: tuple[str, ...] = ()


DATABASE_UP = Figure(
    "inventory_database_figures_up", "1 when this scrape read the database figures below, 0 when the database failed."
)
OVERSOLD_ROWS = Figure(
    "inventory_oversold_rows",
    "Stock rows whose active holds add up to more than their reserved stock: units promised twice. Must be 0.",
)
OVERDUE_HOLDS = Figure("inventory_overdue_holds", "Active holds past their expiry that the expiry job has not ended.")
EXPIRY_LAG = Figure(
    "inventory_expiry_lag_seconds", "Age of the oldest overdue active hold (0 when none): how far expiry is behind."
)
STOCK_OUT_LEVELS = Figure(
    "inventory_stock_out_levels", "Levels (a product in a warehouse) with no available stock.", ("warehouse",)
)
LOW_STOCK_LEVELS = Figure(
    "inventory_low_stock_levels",
    "Levels at or below their low-stock threshold (stock-outs included).",
    ("warehouse",),
)
SOLD_UNITS_30D = Figure(
    "inventory_sold_units_30d",
    "Units deducted (paid holds, backorder shipments) in the 30 whole days before today.",
    ("warehouse",),
)
AVERAGE_ON_HAND_30D = Figure(
    "inventory_average_on_hand_units_30d",
    "Mean of the 30 daily closing on-hand figures (available + reserved) of those days.",
    ("warehouse",),
)
TURNOVER_30D = Figure(
    "inventory_turnover_30d",
    "Sold units over the average on-hand of the 30 whole days before today (absent when that average is 0).",
    ("warehouse",),
)

COUNT_ACCURACY_30D = Figure(
    "inventory_count_accuracy_30d",
    "Share of the lines counted on posted count sheets in the last 30 days whose count was within the sheet's "
    "tolerance (absent where nothing was counted).",
    ("warehouse",),
)
COUNTED_LINES_30D = Figure(
    "inventory_counted_lines_30d",
    "Lines counted on posted count sheets in the last 30 days.",
    ("warehouse",),
)

FIGURES = (
    DATABASE_UP,
    OVERSOLD_ROWS,
    OVERDUE_HOLDS,
    EXPIRY_LAG,
    STOCK_OUT_LEVELS,
    LOW_STOCK_LEVELS,
    SOLD_UNITS_30D,
    AVERAGE_ON_HAND_30D,
    TURNOVER_30D,
    COUNT_ACCURACY_30D,
    COUNTED_LINES_30D,
)


def exported_names() -> set[str]:
    """Every series name a scrape may show: the families' names and their samples' (`_total`, `_bucket`...)."""
    names = {figure.name for figure in FIGURES}
    for metric in COUNTED:
        for family in metric.describe():
            names.add(family.name)
            names.update(family.name + suffix for suffix in _SAMPLE_SUFFIXES[family.type])
    return names


_SAMPLE_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
