"""Read queries of count sheets: a sheet with its lines, its variance report, counting accuracy,
and which products of a warehouse are due for a cycle count.

A line's variance and whether it is within its sheet's tolerance come from
`CountLineQuerySet.with_variance`, the one place the rule is written.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Count, Max, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from inventory import limits
from inventory.exceptions import WarehouseNotFound
from inventory.models import CountLine, CountSheet, StockRow, Warehouse

Status = CountSheet.Status


def shows_expected(sheet: CountSheet, may_approve: bool) -> bool:
    """Whether a person sees the expected figures of a sheet's lines (and so their variances): not a
    blind counter while the sheet is open; one who may approve always (the API and the admin alike)."""
    return may_approve or not (sheet.blind and sheet.is_open)


def count_reference(sheet_id: int) -> str:
    """The reference every adjustment a sheet posts carries, written and read here."""
    return f"count:{sheet_id}"


def count_lines() -> QuerySet[CountLine]:
    """Lines with their variance figures, by product."""
    return CountLine.objects.with_variance().select_related("product").order_by("sheet_id", "product_id")


def count_sheets() -> QuerySet[CountSheet]:
    """Sheets newest first, each page's lines (with their variance figures) read in one more query."""
    return (
        CountSheet.objects.select_related("warehouse")
        .order_by("-id")
        .prefetch_related(Prefetch("lines", queryset=count_lines()))
    )


def count_sheet_list() -> QuerySet[CountSheet]:
    """Sheets newest first, each with how many lines it has (`line_count`), how many are counted
    (`counted_count`) and how many of those are within its tolerance (`within_count`), without
    reading the lines (the list of sheets)."""
    within = (
        CountLine.objects.with_variance()
        .filter(sheet_id=OuterRef("pk"), within_tolerance=True)
        .order_by()
        .values("sheet_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return (
        CountSheet.objects.select_related("warehouse")
        .order_by("-id")
        .annotate(
            line_count=Count("lines"),
            counted_count=Count("lines", filter=Q(lines__counted__isnull=False)),
            within_count=Coalesce(Subquery(within), 0),
        )
    )


@dataclass(frozen=True)
class VarianceReport:
    """A sheet's variances (盘盈盘亏): per line (`lines`, with their annotations) and in total.

    The totals are over counted lines; `value` sums the lines whose unit value is known, and
    `lines_without_value` says how many with a variance it leaves out.
    """

    sheet: CountSheet
    lines: list[CountLine]
    counted: int
    not_counted: int
    gained: int
    lost: int
    net: int
    value: Decimal
    lines_without_value: int
    over_tolerance: int
    awaiting_approval: int


def variance_report(sheet: CountSheet) -> VarianceReport:
    """The variance report of a sheet from `count_sheets` (its lines prefetched)."""
    lines = list(sheet.lines.all())
    counted = [line for line in lines if line.counted is not None]
    over = [line for line in counted if not line.within_tolerance]
    return VarianceReport(
        sheet=sheet,
        lines=lines,
        counted=len(counted),
        not_counted=len(lines) - len(counted),
        gained=sum(line.variance for line in counted if line.variance > 0),
        lost=-sum(line.variance for line in counted if line.variance < 0),
        net=sum(line.variance for line in counted),
        value=sum((line.variance_value for line in counted if line.variance_value is not None), Decimal(0)),
        lines_without_value=sum(1 for line in counted if line.variance and line.variance_value is None),
        over_tolerance=len(over),
        awaiting_approval=sum(1 for line in over if line.approved_at is None),
    )


@dataclass(frozen=True)
class Accuracy:
    """Of the counted lines of posted sheets (per sheet, or per day counted): how many, how many
    within their sheet's tolerance, and the share (None with no line)."""

    key: int | date | str
    lines: int
    within: int

    @property
    def share(self) -> Decimal | None:
        return Decimal(self.within) / Decimal(self.lines) if self.lines else None


def accuracy_by_sheet(*, warehouse: str | None = None) -> list[Accuracy]:
    """Counting accuracy per posted sheet (of the warehouse with this code, if given), newest first."""
    rows = _posted_lines(warehouse).values("sheet_id").annotate(**_accuracy_figures()).order_by("-sheet_id")
    return [Accuracy(row["sheet_id"], row["lines"], row["within"]) for row in rows]


def accuracy_by_day(*, warehouse: str | None = None, since: date | None = None) -> list[Accuracy]:
    """Counting accuracy per day the lines were counted (in the current time zone), oldest first."""
    lines = _posted_lines(warehouse).annotate(day=TruncDate("counted_at"))
    if since is not None:
        lines = lines.filter(day__gte=since)
    rows = lines.values("day").annotate(**_accuracy_figures()).order_by("day")
    return [Accuracy(row["day"], row["lines"], row["within"]) for row in rows]


def accuracy_by_warehouse(*, since: date) -> dict[str, Accuracy]:
    """Counting accuracy per warehouse (by code) of the lines counted on posted sheets since `since`."""
    rows = (
        _posted_lines(None)
        .filter(counted_at__date__gte=since)
        .values("sheet__warehouse__code")
        .annotate(**_accuracy_figures())
        .order_by()
    )
    return {
        row["sheet__warehouse__code"]: Accuracy(row["sheet__warehouse__code"], row["lines"], row["within"])
        for row in rows
    }


def _posted_lines(warehouse: str | None) -> QuerySet[CountLine]:
    """The counted lines of posted sheets; WarehouseNotFound for a code nobody created."""
    lines = CountLine.objects.with_variance().filter(sheet__status=Status.POSTED)
    if warehouse is None:
        return lines
    if not Warehouse.objects.filter(code=warehouse).exists():
        raise WarehouseNotFound(warehouse)
    return lines.filter(sheet__warehouse__code=warehouse)


def _accuracy_figures() -> dict:
    return {"lines": Count("id"), "within": Count("id", filter=Q(within_tolerance=True))}


@dataclass(frozen=True)
class DueItem:
    product_id: int
    abc_class: str
    # When a posted sheet last counted it here, and how many days past its interval that is
    # (both None: never counted).
    last_counted_at: datetime | None
    overdue_days: int | None


def due_for_count(
    *,
    warehouse_id: int,
    today: date,
    classes: Mapping[int, str],
    intervals: Mapping[str, int],
    most: int = limits.MAX_CYCLE_SHEET_LINES,
) -> list[DueItem]:
    """The products with a level in the warehouse that are due for a cycle count on `today`, at
    most `most`: the ones never counted first (A, then B, then C), then the most overdue in
    intervals (an A a month late before a C a month late).

    Due: not counted on a posted sheet of the warehouse within its class's interval (a
    product without a class in `classes` is C, counted least often), and on no open sheet of
    the warehouse (it is being counted already).
    """
    last_counted = (
        CountLine.objects.filter(
            product_id=OuterRef("product_id"),
            sheet__warehouse_id=warehouse_id,
            sheet__status=Status.POSTED,
        )
        .order_by()
        .values("product_id")
        .annotate(last=Max("counted_at"))
        .values("last")
    )
    on_open_sheet = CountLine.objects.filter(sheet__warehouse_id=warehouse_id, sheet__status=Status.OPEN).values(
        "product_id"
    )
    levels = (
        StockRow.objects.filter(warehouse_id=warehouse_id, bucket=0)
        .exclude(product_id__in=on_open_sheet)
        .annotate(last_counted_at=Subquery(last_counted))
        .values_list("product_id", "last_counted_at")
    )
    due = []
    for product_id, last_counted_at in levels:
        abc_class = classes.get(product_id, "C")
        if last_counted_at is None:
            due.append(DueItem(product_id, abc_class, None, None))
            continue
        overdue = (today - timezone.localdate(last_counted_at)).days - intervals[abc_class]
        if overdue >= 0:
            due.append(DueItem(product_id, abc_class, last_counted_at, overdue))

    def urgency(item: DueItem) -> tuple:
        if item.overdue_days is None:
            return (0, item.abc_class, 0, item.product_id)
        return (1, "", -item.overdue_days / intervals[item.abc_class], item.product_id)

    return sorted(due, key=urgency)[:most]
