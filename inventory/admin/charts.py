"""Charts drawn on the server as SVG (no script, no CDN): a product's stock over time, a level's demand."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from inventory.models import InventoryLog, StockLevel

WIDTH = 640
HEIGHT = 220
MARGIN_LEFT = 56
MARGIN_RIGHT = 12
MARGIN_TOP = 12
MARGIN_BOTTOM = 28
Y_TICKS = 4
SCALES = ((10**9, "G"), (10**6, "M"), (10**3, "k"))


@dataclass(frozen=True)
class StockChart:
    """What the template needs to draw the chart; coordinates are in SVG units."""

    product_id: int
    width: int
    height: int
    available_points: str
    reserved_points: str
    y_ticks: list[tuple[float, str]]
    first_at: datetime
    last_at: datetime
    entries: int
    plot_left: int = MARGIN_LEFT
    plot_right: int = WIDTH - MARGIN_RIGHT
    plot_bottom: int = HEIGHT - MARGIN_BOTTOM


def axis_label(value: int) -> str:
    """A tick label that fits the left margin (six characters): grouped below 100,000, then k, M, G."""
    if value < 100_000:
        return f"{value:,}"
    scale, suffix = next(
        (scale, suffix) for scale, suffix in ((10**9, "G"), (10**6, "M"), (10**3, "k")) if value >= scale
    )
    shown = value / scale
    return f"{shown:.1f}{suffix}" if shown < 10 else f"{shown:.0f}{suffix}"


def stock_chart(
    product_id: int, entries: Sequence[InventoryLog], *, now: datetime, levels: Sequence[StockLevel] = ()
) -> StockChart | None:
    """Step lines of available and reserved stock after each entry, up to `now`.

    `entries` are oldest first, of one level or of several: the lines are then their sums.
    `levels` are the product's levels as they are now: what no entry changed was held all
    along, and adds throughout. None when there is nothing to draw.
    """
    if not entries:
        return None
    summed_available, summed_reserved = _summed(entries, levels)
    # Entries of one statement (a hot level's rebalance, row by row) share their moment: only
    # the figures after the last of them were ever there to see.
    shown = [
        index
        for index, entry in enumerate(entries)
        if index + 1 == len(entries) or entries[index + 1].created_at != entry.created_at
    ]
    moments = [entries[index].created_at for index in shown]
    available = [summed_available[index] for index in shown]
    reserved = [summed_reserved[index] for index in shown]
    first_at = entries[0].created_at
    span = max((now - first_at).total_seconds(), 1.0)
    top = max(*available, *reserved) or 1
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM

    def x(moment: datetime) -> float:
        return MARGIN_LEFT + plot_width * (moment - first_at).total_seconds() / span

    def y(value: int) -> float:
        return MARGIN_TOP + plot_height * (1 - value / top)

    def step_line(values: list[int]) -> str:
        # Hold each level until the next entry changes it, then up to `now`.
        points = []
        for moment, value in zip(moments, values, strict=True):
            if points:
                points.append((x(moment), points[-1][1]))
            points.append((x(moment), y(value)))
        points.append((x(now), points[-1][1]))
        return " ".join(f"{px:.1f},{py:.1f}" for px, py in points)

    return StockChart(
        product_id=product_id,
        width=WIDTH,
        height=HEIGHT,
        available_points=step_line(available),
        reserved_points=step_line(reserved),
        y_ticks=[(round(y(top * i // Y_TICKS), 1), axis_label(top * i // Y_TICKS)) for i in range(Y_TICKS + 1)],
        first_at=first_at,
        last_at=now,
        entries=len(entries),
    )


def _summed(entries: Sequence[InventoryLog], levels: Sequence[StockLevel]) -> tuple[list[int], list[int]]:
    """The available and reserved stock over all levels after each entry.

    Each stock row's entries chain (each starts where the one before ended, the last ends
    at the row's counters), and a hot level has a chain per row: before its first entry
    here a row held that entry's before-values. The rows of `levels` that no entry here
    changed held, all along, what their level holds now beyond its changed rows' last figures.
    """
    held: dict[tuple[int, int], tuple[int, int]] = {}
    for entry in entries:
        held.setdefault((entry.warehouse_id, entry.bucket), (entry.available_before, entry.reserved_before))
    last = {(entry.warehouse_id, entry.bucket): (entry.available_after, entry.reserved_after) for entry in entries}
    shown = {level.warehouse_id for level in levels}
    changed = [figures for (warehouse_id, _bucket), figures in last.items() if warehouse_id in shown]
    resting_available = sum(level.available_stock for level in levels) - sum(figures[0] for figures in changed)
    resting_reserved = sum(level.reserved_stock for level in levels) - sum(figures[1] for figures in changed)
    available, reserved = [], []
    for entry in entries:
        held[entry.warehouse_id, entry.bucket] = (entry.available_after, entry.reserved_after)
        available.append(resting_available + sum(figures[0] for figures in held.values()))
        reserved.append(resting_reserved + sum(figures[1] for figures in held.values()))
    return available, reserved


@dataclass(frozen=True)
class DemandChart:
    """A level's daily demand (bars) and its forecast (a line) side by side, in SVG units."""

    width: int
    height: int
    bars: list[tuple[float, float, float, float]]  # x, y, width, height of each day with demand
    forecast_points: str
    today_x: float
    y_ticks: list[tuple[float, str]]
    first_day: date
    last_day: date
    plot_left: int = MARGIN_LEFT
    plot_right: int = WIDTH - MARGIN_RIGHT
    plot_top: int = MARGIN_TOP
    plot_bottom: int = HEIGHT - MARGIN_BOTTOM


def demand_chart(history: Sequence[tuple[date, int]], forecast: Sequence[tuple[date, float]]) -> DemandChart | None:
    """Bars of the units that left each day, oldest first, then the forecast's line from today on.

    None when there is neither history nor forecast to draw.
    """
    days = len(history) + len(forecast)
    if not days:
        return None
    top = math.ceil(max([units for _, units in history] + [units for _, units in forecast] + [1]))
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    step = plot_width / days

    def y(value: float) -> float:
        return MARGIN_TOP + plot_height * (1 - value / top)

    bars = [
        (MARGIN_LEFT + index * step, y(units), max(step - 1, 0.5), HEIGHT - MARGIN_BOTTOM - y(units))
        for index, (_, units) in enumerate(history)
        if units
    ]
    start = len(history)
    points = " ".join(
        f"{MARGIN_LEFT + (start + index + 0.5) * step:.1f},{y(units):.1f}" for index, (_, units) in enumerate(forecast)
    )
    labels = [day for day, _ in (*history, *forecast)]
    return DemandChart(
        width=WIDTH,
        height=HEIGHT,
        bars=[tuple(round(value, 1) for value in bar) for bar in bars],
        forecast_points=points,
        today_x=round(MARGIN_LEFT + start * step, 1),
        y_ticks=[(round(y(top * i / Y_TICKS), 1), axis_label(round(top * i / Y_TICKS))) for i in range(Y_TICKS + 1)],
        first_day=labels[0],
        last_day=labels[-1],
    )
