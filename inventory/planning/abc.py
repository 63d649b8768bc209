"""ABC classes by Pareto share of demand.

Items are sorted by their figure (units moved, or value = units x unit value) over a window,
largest first, ties broken by key so that the same data always gives the same classes. An item
is A while the cumulative share *before* it is below the A threshold (default 80 %), B while it
is below the B threshold (default 95 %), C otherwise: the item that crosses a threshold stays
in the class it started in (so the top item is always A, and a single item is A), and a
threshold hit exactly closes its class (the next item starts the next class). Items with zero
demand are always C. The 80/95 split is the usual one of inventory textbooks (Silver, Pyke &
Thomas, "Inventory and Production Management in Supply Chains", 4th ed., ch. 2).

Value-based classes need a unit value; an item without one cannot be ranked by value and is
left out of the ranking and returned apart with the reason, rather than guessed into C.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from inventory.exceptions import InvalidInput

DEFAULT_A_PERCENT = Decimal(80)
DEFAULT_B_PERCENT = Decimal(95)


class AbcClass(StrEnum):
    A = "A"
    B = "B"
    C = "C"


@dataclass(frozen=True)
class AbcItem:
    key: str | int
    units: int
    unit_value: Decimal | None = None


@dataclass(frozen=True)
class AbcResult:
    classes: dict[str | int, AbcClass]
    # Items left out of a value ranking, with why: key -> reason.
    excluded: dict[str | int, str]


def validate_thresholds(a_percent: object, b_percent: object) -> tuple[Decimal, Decimal]:
    try:
        a, b = Decimal(str(a_percent)), Decimal(str(b_percent))
    except ArithmeticError:
        raise InvalidInput("ABC thresholds must be numbers.", a_percent=a_percent, b_percent=b_percent) from None
    if isinstance(a_percent, bool) or isinstance(b_percent, bool) or not (0 < a < b <= 100):
        raise InvalidInput("ABC thresholds must satisfy 0 < a < b <= 100.", a_percent=a_percent, b_percent=b_percent)
    return a, b


def classify(
    figures: Mapping[str | int, int | Decimal],
    *,
    a_percent: object = DEFAULT_A_PERCENT,
    b_percent: object = DEFAULT_B_PERCENT,
) -> dict[str | int, AbcClass]:
    """Classes by Pareto share of `figures` (key -> non-negative units or value)."""
    a, b = validate_thresholds(a_percent, b_percent)
    for key, figure in figures.items():
        if isinstance(figure, bool) or not isinstance(figure, int | Decimal) or figure < 0:
            raise InvalidInput("ABC figures must be non-negative numbers.", key=key, figure=figure)
    total = sum((Decimal(f) for f in figures.values()), Decimal(0))
    ranked = sorted(figures.items(), key=lambda kv: (-kv[1], str(kv[0])))
    classes: dict[str | int, AbcClass] = {}
    cumulative = Decimal(0)
    for key, figure in ranked:
        if figure == 0:
            classes[key] = AbcClass.C
            continue
        share_before = cumulative * 100 / total
        classes[key] = AbcClass.A if share_before < a else AbcClass.B if share_before < b else AbcClass.C
        cumulative += Decimal(figure)
    return classes


def classify_by(
    items: Iterable[AbcItem],
    by: str = "units",
    *,
    a_percent: object = DEFAULT_A_PERCENT,
    b_percent: object = DEFAULT_B_PERCENT,
) -> AbcResult:
    """Classes by units, or by value (units x unit value; items with no unit value excluded)."""
    if by not in ("units", "value"):
        raise InvalidInput('by must be "units" or "value".', by=by)
    figures: dict[str | int, int | Decimal] = {}
    excluded: dict[str | int, str] = {}
    for item in items:
        if item.key in figures or item.key in excluded:
            raise InvalidInput("Each item may appear once.", key=item.key)
        if by == "units":
            figures[item.key] = item.units
        elif item.unit_value is None:
            excluded[item.key] = "no unit value"
        elif item.unit_value < 0:
            raise InvalidInput("unit_value must not be negative.", key=item.key)
        else:
            figures[item.key] = Decimal(item.units) * item.unit_value
    return AbcResult(classes=classify(figures, a_percent=a_percent, b_percent=b_percent), excluded=excluded)
