"""Count sheets: stock-takes and cycle counts while orders keep flowing (盘点, 循环盘点).

- `create_count_sheet` opens a sheet of a warehouse: every level there (`full`), chosen
  products (`list`) or, through `propose_cycle_sheet`, the products due by their ABC class
  (`cycle`). Nothing changes stock.
- `record_count` records a line's counted figure and freezes, under the level's lock, the
  figure the system expected (on-hand: available + reserved over the level's rows, since
  reserved units are still on the shelf) and the ledger position it is the state at. A
  recount replaces the three and any approval. A full sheet takes a product it did not list
  (an item found on the shelf); a list or cycle sheet does not.
- `approve_lines` is a manager's approval of lines whose variance is over the tolerance.
- `post_sheet` turns every variance into one `adjust` entry (reference `count:<id>`) through
  `adjust_stock`, as the delta counted - expected applied to the stock as it is now: units
  that moved since the count moved for real, so the count is not "set on-hand to counted".
  Available stock takes the delta; reserved units stay held. All or nothing: a sheet with a
  line not counted, an unapproved variance over the tolerance, or a loss larger than a
  level's available stock now (`CountWouldGoNegative`, every such line named) posts nothing.
  Idempotent: posting a posted sheet answers the same sheet and changes nothing.
- `cancel_sheet` ends an open sheet without posting it.

Locks: a step locks the sheet's row first (so counts, approvals and the post of one sheet
take turns, and a post sees every count), then the stock rows of the levels it reads or
changes, all of them in lock order (by id) before any change, as every writer of levels.
"""

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Max, OuterRef, Subquery
from django.db.models.functions import Now

from inventory import limits
from inventory.exceptions import (
    CountIncomplete,
    CountLineNotFound,
    CountNeedsApproval,
    CountSheetNotFound,
    CountSheetNotOpen,
    CountWouldGoNegative,
    InvalidInput,
    ProductNotFound,
)
from inventory.models import (
    CountLine,
    CountSheet,
    Inventory,
    InventoryLog,
    PlanningSettings,
    StockLevel,
    StockRow,
    Warehouse,
)
from inventory.parsing import has_nul
from inventory.selectors.counts import count_reference, count_sheets, due_for_count
from inventory.selectors.planning import abc_classes
from inventory.services import store
from inventory.services._validation import require_figure, require_int, require_product_id
from inventory.services.stock import adjust_stock, warehouse_id_of

Kind = CountSheet.Kind
Status = CountSheet.Status
# Who proposes the daily cycle-count sheets (the beat task).
CYCLE_COUNT_ACTOR = "cycle-count"


def create_count_sheet(
    *,
    warehouse: str,
    kind: str,
    actor: str,
    product_ids: Sequence[int] = (),
    blind: bool = True,
    tolerance_units: int | None = None,
    tolerance_percent: Decimal | None = None,
    note: str = "",
) -> CountSheet:
    """An open sheet of `warehouse`: for a `full` count a line per level there now, else a line
    per product of `product_ids` (each once, each with an inventory record)."""
    if kind not in Kind.values:
        raise InvalidInput(f"kind must be one of {', '.join(Kind.values)}.", kind=kind)
    if not isinstance(blind, bool):
        raise InvalidInput("blind must be true or false.", blind=blind)
    _require_tolerance(tolerance_units, tolerance_percent)
    _require_text("note", note)
    warehouse_id = warehouse_id_of(warehouse)
    products = _levels_of(warehouse_id) if kind == Kind.FULL else _listed(product_ids)
    with transaction.atomic():
        sheet = CountSheet.objects.create(
            warehouse_id=warehouse_id,
            kind=kind,
            blind=blind,
            tolerance_units=tolerance_units,
            tolerance_percent=tolerance_percent,
            note=note,
            actor=actor,
        )
        CountLine.objects.bulk_create(CountLine(sheet=sheet, product_id=product_id) for product_id in products)
    return get_count_sheet(sheet.pk)


def propose_cycle_sheet(
    *,
    warehouse: str,
    today: date,
    actor: str,
    classes: Mapping[int, str] | None = None,
    intervals: Mapping[str, int] | None = None,
    **sheet_options,
) -> CountSheet | None:
    """Today's cycle-count sheet of `warehouse`: the products due by their class (product id ->
    "A"/"B"/"C"; none: C), every `intervals` days (default `limits.CYCLE_COUNT_INTERVAL_DAYS`),
    the most overdue first (`selectors.counts.due_for_count`). None when nothing is due.

    A product on an open sheet of the warehouse is not proposed again, so a second proposal
    on one day gives nothing more.
    """
    intervals = {**limits.CYCLE_COUNT_INTERVAL_DAYS, **(intervals or {})}
    for abc_class, days in intervals.items():
        if abc_class not in limits.CYCLE_COUNT_INTERVAL_DAYS:
            raise InvalidInput("intervals name the classes A, B and C.", intervals=abc_class)
        require_int(f"interval of {abc_class}", days, minimum=1, maximum=limits.MAX_QUANTITY)
    classes = classes or {}
    if unknown := {value for value in classes.values() if value not in intervals}:
        raise InvalidInput("classes are A, B or C.", classes=sorted(map(str, unknown)))
    if type(today) is not date:
        raise InvalidInput("today must be a date.", today=str(today))
    warehouse_id = warehouse_id_of(warehouse)
    due = due_for_count(warehouse_id=warehouse_id, today=today, classes=classes, intervals=intervals)
    if not due:
        return None
    return create_count_sheet(
        warehouse=warehouse,
        kind=Kind.CYCLE,
        actor=actor,
        product_ids=[item.product_id for item in due],
        **sheet_options,
    )


def propose_todays_cycle_sheets(*, today: date, actor: str = CYCLE_COUNT_ACTOR) -> list[CountSheet]:
    """Today's cycle-count sheet of every warehouse that has levels due, by the levels' ABC classes
    (the planning run's; a level it has not classed counts as C) and the settings' intervals.

    A product on an open sheet is not proposed again, so a second run on one day adds nothing.
    """
    intervals = PlanningSettings.current().count_intervals()
    proposed = []
    for warehouse in Warehouse.objects.order_by("priority", "code"):
        sheet = propose_cycle_sheet(
            warehouse=warehouse.code,
            today=today,
            actor=actor,
            classes=abc_classes(warehouse.pk),
            intervals=intervals,
        )
        if sheet is not None:
            proposed.append(sheet)
    return proposed


def record_count(*, sheet_id: int, product_id: int, counted: int, actor: str) -> CountLine:
    """Record that `counted` units of the product are on the shelf, freezing what was expected.

    Under the level's lock (every row of it), the expected figure is its on-hand stock and the
    ledger position its last entry's id (0: no level, nothing expected). A recount replaces
    the figures and clears an approval: the manager approved another figure.
    """
    require_product_id(product_id)
    require_figure("counted", counted)
    writer = store.current()
    with transaction.atomic():
        sheet = _locked_open(sheet_id)
        line = sheet.lines.filter(product_id=product_id).first()
        if line is None:
            line = _found_on_shelf(sheet, product_id)
        level = writer.locked_level((product_id, sheet.warehouse_id))
        CountLine.objects.filter(pk=line.pk).update(
            counted=counted,
            expected=level.total_stock if level is not None else 0,
            ledger_position=_ledger_position(product_id, sheet.warehouse_id),
            counted_by=actor,
            counted_at=Now(),
            approved_by="",
            approved_at=None,
        )
    return _line(line.pk)


def approve_lines(*, sheet_id: int, product_ids: Sequence[int], actor: str) -> CountSheet:
    """A manager approves the counted lines of these products (their variances, as counted now)."""
    wanted = _listed(product_ids, check_products=False)
    with transaction.atomic():
        sheet = _locked_open(sheet_id)
        found = dict(sheet.lines.filter(product_id__in=wanted).values_list("product_id", "counted"))
        if missing := sorted(set(wanted) - set(found)):
            raise CountLineNotFound(sheet.pk, missing)
        if uncounted := sorted(product_id for product_id, counted in found.items() if counted is None):
            raise CountIncomplete(sheet.pk, uncounted)
        sheet.lines.filter(product_id__in=wanted).update(approved_by=actor, approved_at=Now())
    return get_count_sheet(sheet.pk)


def post_sheet(*, sheet_id: int, actor: str, reason: str = "") -> CountSheet:
    """Post a sheet's variances as adjustments, all or nothing; a posted sheet as it is.

    Each adjustment's reason names the sheet, then `reason` if given.
    """
    _require_text("reason", reason)
    writer = store.current()
    with transaction.atomic():
        sheet = _locked(sheet_id)
        if sheet.status == Status.POSTED:
            return get_count_sheet(sheet.pk)
        if not sheet.is_open:
            raise CountSheetNotOpen(sheet.pk, sheet.status)
        lines = list(sheet.lines.with_variance().order_by("product_id"))
        _require_postable(sheet, lines)
        moving = [line for line in lines if line.variance]
        writer.lock_levels([(line.product_id, sheet.warehouse_id) for line in moving])
        _require_available(sheet, moving)
        # What a unit is worth now, frozen with the post: the report's value no longer moves.
        sheet.lines.update(
            unit_value=Subquery(Inventory.products.filter(product_id=OuterRef("product_id")).values("unit_value"))
        )
        for line in moving:
            _post_line(sheet, line, actor=actor, reason=reason)
        CountSheet.objects.filter(pk=sheet.pk, status=Status.OPEN).update(
            status=Status.POSTED, ended_by=actor, ended_at=Now(), updated_at=Now()
        )
    return get_count_sheet(sheet.pk)


def cancel_sheet(*, sheet_id: int, actor: str) -> CountSheet:
    """End an open sheet without posting it: nothing changes stock."""
    with transaction.atomic():
        sheet = _locked_open(sheet_id)
        CountSheet.objects.filter(pk=sheet.pk).update(
            status=Status.CANCELLED, ended_by=actor, ended_at=Now(), updated_at=Now()
        )
    return get_count_sheet(sheet.pk)


def get_count_sheet(sheet_id: int) -> CountSheet:
    """A sheet with its lines and their variance figures; CountSheetNotFound if there is none."""
    require_int("sheet_id", sheet_id, minimum=1, maximum=limits.MAX_PRODUCT_ID)
    found = count_sheets().filter(pk=sheet_id).first()
    if found is None:
        raise CountSheetNotFound(sheet_id)
    return found


# --- Steps ----------------------------------------------------------------------------


def _post_line(sheet: CountSheet, line: CountLine, *, actor: str, reason: str) -> None:
    """One line's variance through the adjust path, and the line naming its entry."""
    reference = count_reference(sheet.pk)
    adjust_stock(
        product_id=line.product_id,
        delta=line.variance,
        reason=f"count sheet {sheet.pk}: {reason}" if reason else f"count sheet {sheet.pk}",
        reference=reference,
        actor=actor,
        warehouse=sheet.warehouse.code,
    )
    entry = (
        InventoryLog.objects.filter(
            product_id=line.product_id,
            warehouse_id=sheet.warehouse_id,
            operation=InventoryLog.Operation.ADJUST,
            reference=reference,
        )
        .values_list("id", flat=True)
        .latest("id")
    )
    CountLine.objects.filter(pk=line.pk, adjustment__isnull=True).update(adjustment_id=entry)


def _ledger_position(product_id: int, warehouse_id: int) -> int:
    """The id of the level's last entry (0: none). Read under the level's lock, every entry of
    it is committed: a writer of the level holds a row of it until its entries commit."""
    entries = InventoryLog.objects.filter(product_id=product_id, warehouse_id=warehouse_id)
    return entries.aggregate(last=Max("id"))["last"] or 0


def _found_on_shelf(sheet: CountSheet, product_id: int) -> CountLine:
    """A full count's line for a product it did not list (counted where it had no level)."""
    if sheet.kind != Kind.FULL:
        raise CountLineNotFound(sheet.pk, [product_id])
    if not Inventory.products.filter(product_id=product_id).exists():
        raise ProductNotFound(product_id)
    return CountLine.objects.create(sheet=sheet, product_id=product_id)


def _locked(sheet_id: int) -> CountSheet:
    require_int("sheet_id", sheet_id, minimum=1, maximum=limits.MAX_PRODUCT_ID)
    sheet = CountSheet.objects.select_for_update(of=("self",)).select_related("warehouse").filter(pk=sheet_id).first()
    if sheet is None:
        raise CountSheetNotFound(sheet_id)
    return sheet


def _locked_open(sheet_id: int) -> CountSheet:
    sheet = _locked(sheet_id)
    if not sheet.is_open:
        raise CountSheetNotOpen(sheet.pk, sheet.status)
    return sheet


def _line(line_id: int) -> CountLine:
    return CountLine.objects.with_variance().select_related("sheet", "product").get(pk=line_id)


def _levels_of(warehouse_id: int) -> list[int]:
    return list(
        StockRow.objects.filter(warehouse_id=warehouse_id, bucket=0)
        .order_by("product_id")
        .values_list("product_id", flat=True)
    )


# --- Checks ---------------------------------------------------------------------------


def _require_postable(sheet: CountSheet, lines: Sequence[CountLine]) -> None:
    if uncounted := [line.product_id for line in lines if line.counted is None]:
        raise CountIncomplete(sheet.pk, uncounted)
    if unapproved := [line.product_id for line in lines if not line.within_tolerance and line.approved_at is None]:
        raise CountNeedsApproval(sheet.pk, unapproved)


def _require_available(sheet: CountSheet, moving: Sequence[CountLine]) -> None:
    """Every loss fits in its level's available stock as it is now, read under the locks held."""
    available = dict(
        StockLevel.objects.filter(
            warehouse_id=sheet.warehouse_id, product_id__in=[line.product_id for line in moving]
        ).values_list("product_id", "available_stock")
    )
    short = [line for line in moving if available.get(line.product_id, 0) + line.variance < 0]
    if short:
        raise CountWouldGoNegative(
            sheet.pk,
            [line.product_id for line in short],
            lines=[
                {
                    "product_id": line.product_id,
                    "available_stock": available.get(line.product_id, 0),
                    "delta": line.variance,
                }
                for line in short
            ],
        )


def _listed(product_ids: Sequence[int], *, check_products: bool = True) -> list[int]:
    """Product ids named once each, 1..MAX_COUNT_LIST_PRODUCTS of them (with records, if checked)."""
    most = limits.MAX_COUNT_LIST_PRODUCTS
    if not isinstance(product_ids, Sequence) or not 1 <= len(product_ids) <= most:
        raise InvalidInput(f"Name 1 to {most} products.", product_ids=f"1 to {most} products.")
    for product_id in product_ids:
        require_product_id(product_id)
    if len(set(product_ids)) != len(product_ids):
        raise InvalidInput("Each product may appear once.", product_ids="Each product once.")
    if check_products:
        known = set(Inventory.products.filter(product_id__in=product_ids).values_list("product_id", flat=True))
        if missing := sorted(set(product_ids) - known):
            raise ProductNotFound(missing[0])
    return sorted(product_ids)


def _require_text(name: str, value: object) -> None:
    if not isinstance(value, str) or len(value) > limits.MAX_REASON_LENGTH or has_nul(value):
        raise InvalidInput(
            f"{name} must be text of at most {limits.MAX_REASON_LENGTH} characters, without NUL.", **{name: "Invalid."}
        )


def _require_tolerance(units: object, percent: object) -> None:
    if units is not None:
        require_figure("tolerance_units", units)
    if percent is None:
        return
    places = limits.TOLERANCE_PERCENT_DECIMAL_PLACES
    try:
        fits = isinstance(percent, Decimal) and 0 <= percent <= limits.MAX_TOLERANCE_PERCENT
        fits = fits and percent == percent.quantize(Decimal(1).scaleb(-places))
    except InvalidOperation:
        fits = False
    if not fits:
        raise InvalidInput(
            f"tolerance_percent must be a decimal of 0 to {limits.MAX_TOLERANCE_PERCENT}, at most {places} places.",
            tolerance_percent=str(percent),
        )
