"""CSV in and out of the back office.

Import: a file of restocks (goods received) or counted quantities (a stock-take), each
row of one level: a product in the warehouse its optional `warehouse` column names
(`default` when it names none). Every row is checked and shown in a preview with its
errors; applying goes through the services in one transaction, so either every row is
applied or none is.
Export: the change list as the person filtered it, streamed.
"""

import csv
import io
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django import forms
from django.db import models, transaction
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from inventory import limits, services
from inventory.exceptions import InventoryError
from inventory.models import Inventory, StockLevel, Warehouse
from inventory.parsing import ascii_decimal, has_nul

MAX_IMPORT_ROWS = 10_000
# limits.LOCATION_CODE_RULE in the person's language (the warehouse forms say it the same way).
CODE_RULE = gettext_noop("1 to 32 characters of a-z, 0-9 and -")
MAX_IMPORT_BYTES = 2 * 1024 * 1024
EXPORT_COLUMNS = Inventory.RECORD_FIELDS


class ImportKind(models.TextChoices):
    RESTOCK = "restock", _("Restocks: product_id, quantity received")
    COUNTED = "counted", _("Counted quantities (stock-take): product_id, counted")

    @property
    def quantity_column(self) -> str:
        return "quantity" if self is ImportKind.RESTOCK else "counted"

    @property
    def permission(self) -> str:
        return "inventory.restock_inventory" if self is ImportKind.RESTOCK else "inventory.adjust_inventory"


@dataclass
class ImportRow:
    line: int
    # As the file has it: shown in the preview when it is not a product id.
    raw_product_id: str = ""
    product_id: int | None = None
    quantity: int | None = None
    reason: str = ""
    reference: str = ""
    # The code as the file has it (shortened), `default` when the column is missing or empty.
    warehouse: str = limits.DEFAULT_WAREHOUSE
    # The level's id, when it exists: rows are applied in the order levels are locked in.
    level_id: int | None = None
    available_now: int | None = None
    available_after: int | None = None
    errors: list[str] = field(default_factory=list)


@dataclass
class ImportPlan:
    kind: ImportKind
    rows: list[ImportRow]
    errors: list[str] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return bool(self.rows) and not self.errors and not any(row.errors for row in self.rows)


class ImportFailed(Exception):
    """A service refused a row; the transaction rolled back every row applied before it."""


class CsvImportForm(forms.Form):
    required_css_class = "required"
    kind = forms.ChoiceField(
        label=_("Kind"), choices=ImportKind.choices, widget=forms.RadioSelect, initial=ImportKind.RESTOCK
    )
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "UTF-8 CSV with a header row: product_id, quantity (or counted), and optionally reason, reference, "
            "warehouse (a code; default when empty)."
        ),
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=limits.MAX_REASON_LENGTH,
        help_text=_("Recorded in the log for every row that has no reason of its own."),
    )

    def __init__(self, *args, kinds: list["ImportKind"], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Only the kinds of import this person may apply are offered.
        self.fields["kind"].choices = [(kind.value, kind.label) for kind in kinds]
        if len(kinds) == 1:
            self.fields["kind"].initial = kinds[0].value

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(_("The file is larger than %(size)s KiB.") % {"size": MAX_IMPORT_BYTES // 1024})
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(_("The file is not UTF-8 text.")) from None


class CsvApplyForm(forms.Form):
    """The preview's confirmation: the same file again, checked again before it is applied."""

    kind = forms.ChoiceField(choices=ImportKind.choices, widget=forms.HiddenInput)
    content = forms.CharField(widget=forms.HiddenInput, strip=False, max_length=MAX_IMPORT_BYTES)
    reason = forms.CharField(required=False, max_length=limits.MAX_REASON_LENGTH, widget=forms.HiddenInput)


def plan_import(text: str, kind: ImportKind, default_reason: str) -> ImportPlan:
    """Parse and check every row against the current stock; changes nothing."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        required = {"product_id", kind.quantity_column}
        missing = required - set(reader.fieldnames or ())
        if missing:
            return ImportPlan(
                kind, [], [gettext("Missing column(s): %(columns)s.") % {"columns": ", ".join(sorted(missing))}]
            )
        rows = [_parse_row(reader.line_num, record, kind, default_reason) for record in reader]
    except csv.Error as error:
        # e.g. a field longer than csv's limit (128 KiB): the file, not the server, is at fault.
        unreadable = gettext("Line %(line)s: the file is not CSV that can be read (%(error)s).")
        return ImportPlan(kind, [], [unreadable % {"line": reader.line_num, "error": error}])
    if len(rows) > MAX_IMPORT_ROWS:
        too_many = gettext("At most %(most)s rows per file; this one has %(rows)s.")
        return ImportPlan(kind, [], [too_many % {"most": MAX_IMPORT_ROWS, "rows": len(rows)}])
    if not rows:
        return ImportPlan(kind, [], [gettext("The file has no rows.")])
    _check_against_stock(rows, kind)
    return ImportPlan(kind, rows)


def _parse_row(line: int, record: dict, kind: ImportKind, default_reason: str) -> ImportRow:
    row = ImportRow(
        line=line,
        raw_product_id=_shortened(record.get("product_id") or ""),
        reason=(record.get("reason") or "").strip() or default_reason,
        reference=(record.get("reference") or "").strip(),
        warehouse=_shortened((record.get("warehouse") or "").strip()) or limits.DEFAULT_WAREHOUSE,
    )
    row.product_id = _parse_int(record.get("product_id"), "product_id", 1, limits.MAX_PRODUCT_ID, row.errors)
    if kind is ImportKind.RESTOCK:
        row.quantity = _parse_int(record.get("quantity"), "quantity", 1, limits.MAX_QUANTITY, row.errors)
    else:
        row.quantity = _parse_int(record.get("counted"), "counted", 0, limits.MAX_QUANTITY, row.errors)
    row.errors.extend(_text_errors(row))
    if not limits.is_location_code(row.warehouse):
        row.errors.append(
            gettext("warehouse must be a warehouse code (%(rule)s), not %(value)r.")
            % {"rule": gettext(CODE_RULE), "value": row.warehouse}
        )
    if kind is ImportKind.COUNTED and not row.reason:
        row.errors.append(gettext("A counted quantity needs a reason: give one on the row or for the whole file."))
    return row


def _text_errors(row: ImportRow) -> list[str]:
    """What the services (and PostgreSQL, for U+0000) would refuse in the row's text."""
    errors = [
        gettext("%(column)s contains a NUL character.") % {"column": name}
        for name in ("reason", "reference")
        if has_nul(getattr(row, name))
    ]
    for name, longest in (("reason", limits.MAX_REASON_LENGTH), ("reference", limits.MAX_REFERENCE_LENGTH)):
        if len(getattr(row, name)) > longest:
            errors.append(
                gettext("%(column)s is longer than %(length)s characters.") % {"column": name, "length": longest}
            )
    return errors


def _parse_int(raw: str | None, name: str, minimum: int, maximum: int, errors: list[str]) -> int | None:
    value = ascii_decimal((raw or "").strip())
    if value is None:
        errors.append(
            gettext("%(column)s must be a whole number, not %(value)r.") % {"column": name, "value": _shortened(raw)}
        )
        return None
    if not minimum <= value <= maximum:
        errors.append(
            gettext("%(column)s must be from %(minimum)s to %(maximum)s.")
            % {"column": name, "minimum": minimum, "maximum": maximum}
        )
        return None
    return value


def _shortened(raw: str | None, keep: int = 40) -> str | None:
    """A cell as shown in an error: a 100 KiB one is not repeated whole on the page."""
    return raw if raw is None or len(raw) <= keep else f"{raw[:keep]}..."


def _check_against_stock(rows: list[ImportRow], kind: ImportKind) -> None:
    """Each row against its level: the product and the warehouse must exist; a level not opened yet holds 0."""
    ids = {row.product_id for row in rows if row.product_id is not None}
    known = set(Inventory.products.filter(product_id__in=ids).values_list("product_id", flat=True))
    codes = {row.warehouse for row in rows if limits.is_location_code(row.warehouse)}
    warehouse_ids = dict(Warehouse.objects.filter(code__in=codes).values_list("code", "id"))
    levels = {
        (product_id, warehouse_id): (level_id, available)
        for level_id, product_id, warehouse_id, available in StockLevel.objects.filter(
            product_id__in=known, warehouse_id__in=warehouse_ids.values()
        ).values_list("id", "product_id", "warehouse_id", "available_stock")
    }
    repeated = Counter((row.product_id, row.warehouse) for row in rows)
    for row in rows:
        if row.product_id is None:
            continue
        if row.product_id not in known:
            row.errors.append(gettext("No inventory record for product %(product)s.") % {"product": row.product_id})
        elif kind is ImportKind.COUNTED and repeated[(row.product_id, row.warehouse)] > 1:
            row.errors.append(
                gettext("Product %(product)s is counted on more than one row.") % {"product": row.product_id}
            )
        if limits.is_location_code(row.warehouse) and row.warehouse not in warehouse_ids:
            row.errors.append(gettext("No warehouse %(code)s.") % {"code": row.warehouse})
        if row.product_id not in known or row.warehouse not in warehouse_ids:
            continue
        row.level_id, row.available_now = levels.get((row.product_id, warehouse_ids[row.warehouse]), (None, 0))
        if not row.errors:
            row.available_after = row.available_now + row.quantity if kind is ImportKind.RESTOCK else row.quantity


def apply_import(plan: ImportPlan, *, actor: str) -> int:
    """Apply every row of a valid plan in one transaction; ImportFailed rolls all of it back."""
    if not plan.is_valid:
        raise ValueError("Only a plan without errors can be applied.")
    with transaction.atomic():
        # Rows are taken in the order every writer locks levels in: by product, then level id
        # (a level the import opens is the newest of its product).
        for row in sorted(plan.rows, key=_lock_order):
            try:
                _apply_row(row, plan.kind, actor)
            except InventoryError as error:
                row.errors.append(error.message)
                raise ImportFailed(
                    gettext("Line %(line)s: %(error)s") % {"line": row.line, "error": error.message}
                ) from error
    return len(plan.rows)


def _lock_order(row: ImportRow) -> tuple:
    return row.product_id, row.level_id is None, row.level_id or 0, row.line


def _apply_row(row: ImportRow, kind: ImportKind, actor: str) -> None:
    text = {"actor": actor, "reason": row.reason, "reference": row.reference, "warehouse": row.warehouse}
    if kind is ImportKind.RESTOCK:
        services.restock(product_id=row.product_id, quantity=row.quantity, **text)
    else:
        services.adjust_stock(product_id=row.product_id, counted=row.quantity, **text)


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def _cell(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def export_lines(items: Iterable[object], columns: Sequence[str] = EXPORT_COLUMNS) -> Iterator[str]:
    """CSV lines of `items` (the inventory, or a report's rows): a header, then each item's `columns`."""
    writer = csv.writer(_Echo())
    yield writer.writerow(columns)
    for item in items:
        yield writer.writerow([_cell(getattr(item, column)) for column in columns])
