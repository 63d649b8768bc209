"""CSV in and out of the back office.

Import: a file of restocks (goods received) or counted quantities (a stock-take).
Every row is checked and shown in a preview with its errors; applying goes through
the services in one transaction, so either every row is applied or none is.
Export: the change list as the person filtered it, streamed.
"""

import csv
import io
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django import forms
from django.db import models, transaction

from inventory import limits, services
from inventory.exceptions import InventoryError
from inventory.models import Inventory

MAX_IMPORT_ROWS = 10_000
MAX_IMPORT_BYTES = 2 * 1024 * 1024
EXPORT_COLUMNS = (
    "product_id",
    "available_stock",
    "reserved_stock",
    "total_stock",
    "low_stock_threshold",
    "is_low_stock",
    "version",
    "updated_at",
)


class ImportKind(models.TextChoices):
    RESTOCK = "restock", "Restocks: product_id, quantity received"
    COUNTED = "counted", "Counted quantities (stock-take): product_id, counted"

    @property
    def quantity_column(self) -> str:
        return "quantity" if self is ImportKind.RESTOCK else "counted"

    @property
    def permission(self) -> str:
        return "inventory.restock_inventory" if self is ImportKind.RESTOCK else "inventory.adjust_inventory"


@dataclass
class ImportRow:
    line: int
    product_id: int | None = None
    quantity: int | None = None
    reason: str = ""
    reference: str = ""
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
    kind = forms.ChoiceField(choices=ImportKind.choices, widget=forms.RadioSelect, initial=ImportKind.RESTOCK)
    file = forms.FileField(
        help_text="UTF-8 CSV with a header row: product_id, quantity (or counted), and optionally reason, reference."
    )
    reason = forms.CharField(
        max_length=500, help_text="Recorded in the log for every row that has no reason of its own."
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(f"The file is larger than {MAX_IMPORT_BYTES // 1024} KiB.")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError("The file is not UTF-8 text.") from None


class CsvApplyForm(forms.Form):
    """The preview's confirmation: the same file again, checked again before it is applied."""

    kind = forms.ChoiceField(choices=ImportKind.choices, widget=forms.HiddenInput)
    content = forms.CharField(widget=forms.HiddenInput, strip=False)
    reason = forms.CharField(max_length=500, widget=forms.HiddenInput)


def plan_import(text: str, kind: ImportKind, default_reason: str) -> ImportPlan:
    """Parse and check every row against the current stock; changes nothing."""
    reader = csv.DictReader(io.StringIO(text))
    required = {"product_id", kind.quantity_column}
    missing = required - set(reader.fieldnames or ())
    if missing:
        return ImportPlan(kind, [], [f"Missing column(s): {', '.join(sorted(missing))}."])
    rows = [_parse_row(reader.line_num, record, kind, default_reason) for record in reader]
    if len(rows) > MAX_IMPORT_ROWS:
        return ImportPlan(kind, [], [f"At most {MAX_IMPORT_ROWS} rows per file; this one has {len(rows)}."])
    if not rows:
        return ImportPlan(kind, [], ["The file has no rows."])
    _check_against_stock(rows, kind)
    return ImportPlan(kind, rows)


def _parse_row(line: int, record: dict, kind: ImportKind, default_reason: str) -> ImportRow:
    row = ImportRow(
        line=line,
        reason=(record.get("reason") or "").strip() or default_reason,
        reference=(record.get("reference") or "").strip(),
    )
    row.product_id = _parse_int(record.get("product_id"), "product_id", 1, 2**63 - 1, row.errors)
    if kind is ImportKind.RESTOCK:
        row.quantity = _parse_int(record.get("quantity"), "quantity", 1, limits.MAX_QUANTITY, row.errors)
    else:
        row.quantity = _parse_int(record.get("counted"), "counted", 0, limits.MAX_QUANTITY, row.errors)
    if len(row.reference) > 255:
        row.errors.append("reference is longer than 255 characters.")
    return row


def _parse_int(raw: str | None, name: str, minimum: int, maximum: int, errors: list[str]) -> int | None:
    try:
        value = int((raw or "").strip())
    except ValueError:
        errors.append(f"{name} must be a whole number, not {raw!r}.")
        return None
    if not minimum <= value <= maximum:
        errors.append(f"{name} must be from {minimum} to {maximum}.")
        return None
    return value


def _check_against_stock(rows: list[ImportRow], kind: ImportKind) -> None:
    ids = {row.product_id for row in rows if row.product_id is not None}
    available = dict(Inventory.objects.filter(product_id__in=ids).values_list("product_id", "available_stock"))
    repeated = Counter(row.product_id for row in rows)
    for row in rows:
        if row.product_id is None:
            continue
        if row.product_id not in available:
            row.errors.append(f"No inventory record for product {row.product_id}.")
        elif kind is ImportKind.COUNTED and repeated[row.product_id] > 1:
            row.errors.append(f"Product {row.product_id} is counted on more than one row.")
        row.available_now = available.get(row.product_id)
        if not row.errors:
            row.available_after = row.available_now + row.quantity if kind is ImportKind.RESTOCK else row.quantity


def apply_import(plan: ImportPlan, *, actor: str) -> int:
    """Apply every row of a valid plan in one transaction; ImportFailed rolls all of it back."""
    if not plan.is_valid:
        raise ValueError("Only a plan without errors can be applied.")
    with transaction.atomic():
        # Rows are taken in product order, the order every writer locks rows in.
        for row in sorted(plan.rows, key=lambda row: (row.product_id, row.line)):
            try:
                _apply_row(row, plan.kind, actor)
            except InventoryError as error:
                row.errors.append(error.message)
                raise ImportFailed(f"Line {row.line}: {error.message}") from error
    return len(plan.rows)


def _apply_row(row: ImportRow, kind: ImportKind, actor: str) -> None:
    if kind is ImportKind.RESTOCK:
        services.restock(
            product_id=row.product_id, quantity=row.quantity, actor=actor, reason=row.reason, reference=row.reference
        )
    else:
        services.adjust_stock(
            product_id=row.product_id, counted=row.quantity, actor=actor, reason=row.reason, reference=row.reference
        )


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def export_lines(items: Iterable[Inventory]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_COLUMNS)
    for item in items:
        yield writer.writerow(
            [
                item.product_id,
                item.available_stock,
                item.reserved_stock,
                item.total_stock,
                item.low_stock_threshold,
                item.is_low_stock,
                item.version,
                item.updated_at.isoformat(),
            ]
        )
