"""The change of a stock row's counters, written once.

Every store writes a stock level through these two functions: `changes` is the SET
list (counters moved, version bumped, `updated_at` and `low_stock_since` kept
right), `guard` the WHERE that keeps both counters from going below zero and
available stock from going below the units quotas set aside (`allotted_stock`). The ORM
store hands them to `QuerySet.update` and `filter`; the PostgreSQL store compiles
the very same expressions into its statements, with the deltas as SQL terms.
A delta is an int or an expression (an SQL term such as a CTE's column).
"""

from django.db.models import BigIntegerField, Case, DateTimeField, Expression, F, Q, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Now
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual

Delta = int | Expression


class SQLTerm(RawSQL):
    """An SQL term of a hand-written statement (a CTE's column) as a bigint delta."""

    def __init__(self, sql: str, *, lowers: bool = True) -> None:
        super().__init__(sql, (), output_field=BigIntegerField())
        # False for a term that only ever adds (a quantity taken into reserved stock): no guard needed.
        self.lowers = lowers


def sql_term(sql: str, *, lowers: bool = True) -> SQLTerm:
    return SQLTerm(sql, lowers=lowers)


def changes(
    *,
    available_delta: Delta = 0,
    reserved_delta: Delta = 0,
    in_transit_delta: Delta = 0,
    allotted_delta: Delta = 0,
    low_stock_threshold: Delta | None = None,
) -> dict:
    """The assignments of one guarded update of a stock level."""
    assignments: dict = {"version": F("version") + 1, "updated_at": Now()}
    new_available = F("available_stock")
    if _moves(available_delta):
        new_available = F("available_stock") + available_delta
        assignments["available_stock"] = new_available
    if _moves(reserved_delta):
        assignments["reserved_stock"] = F("reserved_stock") + reserved_delta
    if _moves(in_transit_delta):
        assignments["in_transit"] = F("in_transit") + in_transit_delta
    if _moves(allotted_delta):
        assignments["allotted_stock"] = F("allotted_stock") + allotted_delta
    new_threshold = F("low_stock_threshold")
    if low_stock_threshold is not None:
        new_threshold = Value(low_stock_threshold) if isinstance(low_stock_threshold, int) else low_stock_threshold
        assignments["low_stock_threshold"] = new_threshold
    # The time an item went low is kept while it stays low, set when it goes low, cleared once it is not.
    assignments["low_stock_since"] = Case(
        When(LessThanOrEqual(new_available, new_threshold), then=Coalesce(F("low_stock_since"), Now())),
        default=Value(None, output_field=DateTimeField()),
    )
    return assignments


def guard(
    *, available_delta: Delta = 0, reserved_delta: Delta = 0, in_transit_delta: Delta = 0, allotted_delta: Delta = 0
) -> Q:
    """No counter may go below zero, nor available stock below what quotas set aside of it
    (a taking that names no quota leaves those units): the condition that decides whether
    the change happens."""
    condition = Q()
    if _may_lower(available_delta) or _may_raise(allotted_delta):
        condition &= Q(GreaterThanOrEqual(F("available_stock") + available_delta, F("allotted_stock") + allotted_delta))
    if _may_lower(allotted_delta):
        condition &= Q(GreaterThanOrEqual(F("allotted_stock") + allotted_delta, 0))
    if _may_lower(reserved_delta):
        condition &= Q(GreaterThanOrEqual(F("reserved_stock") + reserved_delta, 0))
    if _may_lower(in_transit_delta):
        condition &= Q(GreaterThanOrEqual(F("in_transit") + in_transit_delta, 0))
    return condition


def _moves(delta: Delta) -> bool:
    return not isinstance(delta, int) or delta != 0


def _may_raise(delta: Delta) -> bool:
    return not isinstance(delta, int) or delta > 0


def _may_lower(delta: Delta) -> bool:
    if isinstance(delta, int):
        return delta < 0
    return getattr(delta, "lowers", True)
