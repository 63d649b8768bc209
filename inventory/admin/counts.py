"""The count-sheet screens (盘点, 循环盘点): the sheets with their progress and the counting
accuracy, opening a sheet or proposing today's cycle count, the counting screen for a person
with a scanner or a tablet, a sheet's lines with its steps (approve, post, cancel) and its
variance report (a page and CSV).

Every change goes through `inventory.services.counts` with the staff member as actor, and into
the admin history; a refusal of the service is shown on the form. As in the API: seeing needs
`view_countsheet`, opening and counting `count_countsheet`, the report, approving, posting and
cancelling `approve_countsheet`; Django's add, change and delete permissions open nothing. On
an open blind sheet a counter is never shown the expected figure nor what follows from it.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from inventory import limits, services
from inventory.admin.common import actor_of, product_id_term, require_perm
from inventory.admin.csv_import import export_lines
from inventory.admin.documents import DocumentAdmin, ServiceForm
from inventory.admin.forms import WarehouseChoiceField
from inventory.admin.presentation import NOTHING, StatusColumn, column, domain_message, titled, when_column
from inventory.exceptions import CountSheetNotFound, InventoryError
from inventory.models import CountLine, CountSheet, Inventory, PlanningSettings
from inventory.selectors.counts import accuracy_by_day, count_lines, count_sheet_list, shows_expected, variance_report
from inventory.selectors.planning import abc_classes
from inventory.templatetags.back_office import grouped, product_label

VIEW_PERMISSION = "inventory.view_countsheet"
COUNT_PERMISSION = "inventory.count_countsheet"
APPROVE_PERMISSION = "inventory.approve_countsheet"
TEMPLATES = "admin/inventory/countsheet"
# A sheet's page lists this many of its lines (a full stock-take may have many more: the report has all).
SHOWN_LINES = 1_000
ACCURACY_DAYS = 30
# Product ids or SKUs typed into one box: separated by white space, commas or semicolons.
TERM_SEPARATORS = re.compile(r"[\s,;]+")
PRODUCTS_BOX_LENGTH = limits.MAX_COUNT_LIST_PRODUCTS * (limits.SKU_MAX_LENGTH + 1)
REPORT_COLUMNS = (
    "product_id",
    "sku",
    "name",
    "counted",
    "expected",
    "variance",
    "within_tolerance",
    "approved_by",
    "unit_value",
    "variance_value",
)

# The count services' refusals as the screens say them (the API keeps the contract's English).
COUNT_MESSAGES = {
    "count_incomplete": _("Not every line is counted yet: product %(products)s."),
    "count_needs_approval": _("Variances over the tolerance need a manager's approval first: product %(products)s."),
    "count_would_go_negative": _("Posting would leave available stock below zero: product %(products)s."),
    "count_sheet_not_open": _("Count sheet %(sheet_id)s is posted or cancelled already."),
    "count_line_not_found": _(
        "This count sheet does not list product %(products)s: only a full stock-take takes products it did not list."
    ),
}
UNKNOWN_PRODUCTS = _("No product has the SKU or id %(terms)s.")


def count_message(error: InventoryError) -> str:
    template = COUNT_MESSAGES.get(error.code)
    if template is None:
        return domain_message(error)
    products = ", ".join(str(product_id) for product_id in error.details.get("product_ids", ()))
    return template % {**error.details, "products": products}


def products_named(terms: Sequence[str]) -> tuple[list[int], list[str]]:
    """The product ids the terms name (each a SKU, else a product id), in their order and once
    each, and the terms that name none. A SKU wins over a product id of the same digits."""
    skus = [term for term in terms if limits.is_sku(term)]
    by_sku = dict(Inventory.products.filter(sku__in=skus).values_list("sku", "product_id"))
    numbers = {term: number for term in terms if (number := product_id_term(term)) is not None}
    known = set(Inventory.products.filter(product_id__in=numbers.values()).values_list("product_id", flat=True))
    found: dict[int, None] = {}
    unknown = []
    for term in terms:
        product_id = by_sku.get(term, numbers.get(term))
        if product_id in known or term in by_sku:
            found[product_id] = None
        else:
            unknown.append(term)
    return list(found), unknown


class CountRefusals:
    """A count form's refusals in the person's language, on the field they point at."""

    detail_fields: dict[str, str] = {}

    def refused(self, error: InventoryError) -> None:
        field = next((self.detail_fields[name] for name in error.details if name in self.detail_fields), None)
        self.add_error(field, count_message(error))


class SheetTermsForm(CountRefusals, ServiceForm):
    """What opening a sheet and proposing a cycle count share: the warehouse, blind, the tolerance."""

    template = "form.html"
    warehouse = WarehouseChoiceField(label=_("Warehouse"), initial=limits.DEFAULT_WAREHOUSE)
    blind = forms.BooleanField(
        label=_("Blind"),
        required=False,
        initial=True,
        help_text=_("Counters are not shown the figure expected until the sheet is posted."),
    )
    tolerance_units = forms.IntegerField(
        label=_("Tolerance (units)"),
        required=False,
        min_value=0,
        max_value=limits.MAX_QUANTITY,
        help_text=_("A variance of at most this many units needs no approval."),
    )
    tolerance_percent = forms.DecimalField(
        label=_("Tolerance (%)"),
        required=False,
        min_value=0,
        max_value=limits.MAX_TOLERANCE_PERCENT,
        max_digits=limits.TOLERANCE_PERCENT_MAX_DIGITS,
        decimal_places=limits.TOLERANCE_PERCENT_DECIMAL_PLACES,
        help_text=_("Or at most this share of the figure expected, whichever allows more. Neither: only exact counts."),
    )
    detail_fields = {name: name for name in ("warehouse", "blind", "tolerance_units", "tolerance_percent")}

    def terms(self) -> dict:
        data = self.cleaned_data
        return {
            "warehouse": data["warehouse"].code,
            "blind": data["blind"],
            "tolerance_units": data["tolerance_units"],
            "tolerance_percent": data["tolerance_percent"],
        }


class OpenSheetForm(SheetTermsForm):
    intro = _(
        "A sheet changes no stock until it is posted: each line's expected figure is frozen when it is counted, "
        "so orders keep flowing while people count."
    )
    button = _("Open the count sheet")

    kind = forms.ChoiceField(
        label=_("Count"),
        choices=[(CountSheet.Kind.FULL, _("Every item of the warehouse")), (CountSheet.Kind.LIST, _("These products"))],
        initial=CountSheet.Kind.FULL,
        widget=forms.RadioSelect,
    )
    products = forms.CharField(
        label=_("Products"),
        required=False,
        max_length=PRODUCTS_BOX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Product ids or SKUs, separated by spaces, commas or new lines (for “These products”)."),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=limits.MAX_REASON_LENGTH)
    field_order = ["warehouse", "kind", "products", "blind", "tolerance_units", "tolerance_percent", "note"]
    detail_fields = {**SheetTermsForm.detail_fields, "product_ids": "products", "product_id": "products"}

    def clean(self):
        cleaned = super().clean()
        terms = [term for term in TERM_SEPARATORS.split(cleaned.get("products", "")) if term]
        if cleaned.get("kind") == CountSheet.Kind.FULL:
            if terms:
                self.add_error("products", _("A full stock-take lists every item of the warehouse: leave this empty."))
        elif not terms:
            self.add_error("products", _("Name the products to count."))
        elif len(terms) > limits.MAX_COUNT_LIST_PRODUCTS:
            most = grouped(limits.MAX_COUNT_LIST_PRODUCTS)
            self.add_error("products", _("At most %(most)s products on one sheet.") % {"most": most})
        else:
            cleaned["product_ids"], unknown = products_named(terms)
            if unknown:
                self.add_error("products", UNKNOWN_PRODUCTS % {"terms": ", ".join(unknown[:10])})
        return cleaned

    def submit(self, *, actor: str) -> CountSheet | None:
        data = self.cleaned_data
        return self.call(
            services.create_count_sheet,
            **self.terms(),
            kind=data["kind"],
            product_ids=data.get("product_ids", ()),
            note=data["note"],
            actor=actor,
        )


class ProposeForm(SheetTermsForm):
    title = _("Propose today's cycle count")
    intro = _(
        "The products of the warehouse due for a count by their ABC class and the planning settings' intervals, "
        "the most overdue first; products on an open sheet are left out."
    )
    button = _("Propose the sheet")

    def submit(self, *, actor: str) -> CountSheet | None:
        warehouse = self.cleaned_data["warehouse"]
        sheet = self.call(
            services.propose_cycle_sheet,
            **self.terms(),
            today=timezone.localdate(),
            classes=abc_classes(warehouse.pk),
            intervals=PlanningSettings.current().count_intervals(),
            actor=actor,
        )
        if sheet is None and not self.errors:
            self.add_error(
                "warehouse", _("Nothing in %(warehouse)s is due for a count today.") % {"warehouse": warehouse}
            )
        return sheet


class CountEntryForm(CountRefusals, ServiceForm):
    """One line's count: the product (a scanned SKU or a product id), then the figure.

    Sent with the product alone (the scanner's Enter), it asks for the figure; with both, it records it.
    """

    product = forms.CharField(
        label=_("Product"),
        max_length=limits.SKU_MAX_LENGTH,
        help_text=_("Scan the SKU or type the product id, then Enter."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "off", "spellcheck": "false"}),
    )
    counted = forms.IntegerField(
        label=_("Counted"),
        required=False,
        min_value=0,
        max_value=limits.MAX_QUANTITY,
        help_text=_("The units on the shelf, then Enter."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    detail_fields = {"product_id": "product", "product_ids": "product", "counted": "counted"}

    def __init__(self, data=None, *, sheet: CountSheet):
        super().__init__(data)
        self.sheet = sheet

    def clean_product(self) -> int:
        term = self.cleaned_data["product"].strip()
        found, _unknown = products_named([term])
        if not found:
            raise forms.ValidationError(UNKNOWN_PRODUCTS % {"terms": term})
        return found[0]

    @property
    def asks_figure(self) -> bool:
        """Whether the product is known: the screen asks for its figure."""
        return self.is_bound and "product" in self.cleaned_data and not self.has_error("product")

    def submit(self, *, actor: str) -> CountLine | None:
        return self.call(
            services.record_count,
            sheet_id=self.sheet.pk,
            product_id=self.cleaned_data["product"],
            counted=self.cleaned_data["counted"],
            actor=actor,
        )


class ApproveForm(CountRefusals, ServiceForm):
    title = _("Approve variances")
    template = "form.html"
    intro = _("The counted lines whose variance is over the tolerance: approve those you accept as counted.")
    button = _("Approve the chosen lines")

    product_ids = forms.TypedMultipleChoiceField(
        label=_("Lines over the tolerance"), coerce=int, widget=forms.CheckboxSelectMultiple
    )
    detail_fields = {"product_ids": "product_ids"}

    def __init__(self, data=None, *, sheet: CountSheet):
        super().__init__(data)
        self.sheet = sheet
        self.fields["product_ids"].choices = [(line.product_id, line_summary(line)) for line in awaiting(sheet)]

    def submit(self, *, actor: str) -> CountSheet | None:
        return self.call(
            services.approve_lines, sheet_id=self.sheet.pk, product_ids=self.cleaned_data["product_ids"], actor=actor
        )

    def done(self, after: CountSheet) -> str:
        return _("Count sheet %(id)s: %(lines)s variances approved.") % {
            "id": after.pk,
            "lines": len(self.cleaned_data["product_ids"]),
        }


class PostForm(CountRefusals, ServiceForm):
    title = _("Post the count")
    template = "form.html"
    intro = _(
        "Posting adjusts each variance (counted - expected) into the stock as it is now, all lines or none: "
        "every line counted, every variance over the tolerance approved."
    )
    button = _("Post the count")

    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=limits.MAX_REASON_LENGTH,
        help_text=_("Optional: added to each adjustment's reason, after the sheet's number."),
    )

    def __init__(self, data=None, *, sheet: CountSheet):
        super().__init__(data)
        self.sheet = sheet

    def submit(self, *, actor: str) -> CountSheet | None:
        return self.call(services.post_sheet, sheet_id=self.sheet.pk, reason=self.cleaned_data["reason"], actor=actor)

    def done(self, after: CountSheet) -> str:
        adjusted = sum(1 for line in after.lines.all() if line.adjustment_id is not None)
        return _("Count sheet %(id)s posted: %(lines)s lines adjusted.") % {"id": after.pk, "lines": adjusted}


class CancelForm(CountRefusals, ServiceForm):
    title = _("Cancel the count")
    template = "form.html"
    intro = _("Cancel this count sheet? Nothing of it is posted and no stock changes; it takes no more counts.")
    button = _("Yes, cancel it")

    def __init__(self, data=None, *, sheet: CountSheet):
        super().__init__(data)
        self.sheet = sheet

    def submit(self, *, actor: str) -> CountSheet | None:
        return self.call(services.cancel_sheet, sheet_id=self.sheet.pk, actor=actor)

    def done(self, after: CountSheet) -> str:
        return _("Count sheet %(id)s cancelled: no stock changed.") % {"id": after.pk}


STEPS = {"approve": ApproveForm, "post": PostForm, "cancel": CancelForm}


def awaiting(sheet: CountSheet) -> list[CountLine]:
    """The counted lines over the sheet's tolerance that nobody approved."""
    lines = count_lines().filter(sheet_id=sheet.pk, counted__isnull=False, within_tolerance=False)
    return list(lines.filter(approved_at__isnull=True))


def line_summary(line: CountLine) -> str:
    return _("Product %(product)s %(label)s: counted %(counted)s, expected %(expected)s, variance %(variance)s") % {
        "product": line.product_id,
        "label": product_label(line.product),
        "counted": grouped(line.counted),
        "expected": grouped(line.expected),
        "variance": f"{line.variance:+,}",
    }


@dataclass(frozen=True)
class ReportRow:
    """A line of the variance report's CSV."""

    product_id: int
    sku: str
    name: str
    counted: int | None
    expected: int | None
    variance: int | None
    within_tolerance: bool | None
    approved_by: str
    unit_value: Decimal | None
    variance_value: Decimal | None


def report_rows(lines: Iterable[CountLine]) -> Iterable[ReportRow]:
    for line in lines:
        yield ReportRow(
            product_id=line.product_id,
            sku=line.product.sku,
            name=line.product.name,
            counted=line.counted,
            expected=line.expected,
            variance=line.variance,
            within_tolerance=line.within_tolerance,
            approved_by=line.approved_by,
            unit_value=line.unit_value if line.unit_value is not None else line.product.unit_value,
            variance_value=line.variance_value,
        )


@admin.register(CountSheet)
class CountSheetAdmin(StatusColumn, DocumentAdmin):
    """Opened on the add page (or proposed), counted on the counting screen, ended by its steps."""

    templates = TEMPLATES
    step_permission = APPROVE_PERMISSION
    steps = STEPS
    add_form = OpenSheetForm
    add_title = _("Open a count sheet")
    add_template = "form.html"
    document_argument = "sheet"

    list_display = (
        "sheet_column",
        "warehouse_column",
        "kind_column",
        "status_column",
        "progress_column",
        "within_column",
        "created_column",
        "actor_column",
    )
    fields = (
        "warehouse_column",
        "kind_column",
        "status_column",
        "blind_column",
        "tolerance_column",
        "progress_column",
        "note_column",
        "created_column",
        "actor_column",
        "ended_column",
        "ended_by_column",
    )
    readonly_fields = fields
    list_filter = (
        ("status", titled(admin.ChoicesFieldListFilter, _("status"))),
        ("kind", titled(admin.ChoicesFieldListFilter, _("kind"))),
        ("warehouse", titled(admin.RelatedFieldListFilter, _("warehouse"))),
    )
    list_per_page = 100
    change_form_template = f"{TEMPLATES}/change_form.html"
    change_list_template = f"{TEMPLATES}/change_list.html"

    warehouse_column = staticmethod(column("warehouse", _("warehouse"), sortable=False))
    actor_column = staticmethod(column("actor", _("opened by"), sortable=False))
    created_column = staticmethod(when_column("created_at", _("opened")))
    ended_column = staticmethod(when_column("ended_at", _("ended")))

    @admin.display(description=_("sheet"), ordering="id")
    def sheet_column(self, sheet: CountSheet) -> str:
        return _("Sheet %(id)s") % {"id": sheet.pk}

    @admin.display(description=_("note"))
    def note_column(self, sheet: CountSheet) -> str:
        return sheet.note or NOTHING

    @admin.display(description=_("ended by"))
    def ended_by_column(self, sheet: CountSheet) -> str:
        return sheet.ended_by or NOTHING  # blank while open, as "ended" shows

    @admin.display(description=_("kind"), ordering="kind")
    def kind_column(self, sheet: CountSheet) -> str:
        return sheet.get_kind_display()

    @admin.display(description=_("blind"))
    def blind_column(self, sheet: CountSheet) -> str:
        return _("yes") if sheet.blind else _("no")

    @admin.display(description=_("tolerance"))
    def tolerance_column(self, sheet: CountSheet) -> str:
        parts = []
        if sheet.tolerance_units is not None:
            parts.append(_("%(units)s units") % {"units": grouped(sheet.tolerance_units)})
        if sheet.tolerance_percent is not None:
            parts.append(f"{sheet.tolerance_percent} %")
        return " / ".join(str(part) for part in parts) or _("exact counts only")

    @admin.display(description=_("counted"))
    def progress_column(self, sheet: CountSheet) -> SafeString:
        return format_html('<span class="num">{} / {}</span>', grouped(sheet.counted_count), grouped(sheet.line_count))

    @admin.display(description=_("within tolerance"))
    def within_column(self, sheet: CountSheet) -> SafeString:
        return format_html(
            '<span class="num">{} / {}</span>', grouped(sheet.within_count), grouped(sheet.counted_count)
        )

    @admin.display(description=_("within tolerance"))
    def blind_within_column(self, sheet: CountSheet) -> SafeString | str:
        # A counter learns nothing of the expected figures of an open blind sheet, not even in sum.
        return NOTHING if sheet.blind and sheet.is_open else self.within_column(sheet)

    def get_list_display(self, request):
        if request.user.has_perm(APPROVE_PERMISSION):
            return self.list_display
        return tuple("blind_within_column" if name == "within_column" else name for name in self.list_display)

    def get_queryset(self, request):
        return count_sheet_list()

    # Django's view permission alone: its change permission opens nothing here.
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(VIEW_PERMISSION)

    def has_add_permission(self, request):
        return request.user.has_perm(COUNT_PERMISSION)

    def steps_for(self, document: CountSheet) -> list[str]:
        return [name for name in self.steps if name != "approve" or awaiting(document)]

    def is_open(self, document: CountSheet) -> bool:
        return document.is_open

    def added(self, document: CountSheet) -> str:
        return _("Count sheet %(id)s opened in %(warehouse)s: %(lines)s lines to count.") % {
            "id": document.pk,
            "warehouse": document.warehouse.code,
            "lines": grouped(len(document.lines.all())),
        }

    def not_open(self, document: CountSheet) -> str:
        return _("Count sheet %(id)s is %(status)s: it takes no more counts or steps.") % {
            "id": document.pk,
            "status": document.get_status_display(),
        }

    def step_title(self, step: type[ServiceForm], document: CountSheet) -> str:
        return _("%(step)s: count sheet %(id)s") % {"step": step.title, "id": document.pk}

    # --- Pages -----------------------------------------------------------------

    def get_urls(self):
        own = [
            ("propose/", self.propose_view, "propose"),
            ("<path:object_id>/count/", self.count_view, "count"),
            ("<path:object_id>/report/", self.report_view, "report"),
            ("<path:object_id>/report.csv", self.report_csv_view, "report_csv"),
        ]
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            *(path(route, self.admin_site.admin_view(view), name=f"{prefix}_{name}") for route, view, name in own),
            *super().get_urls(),
        ]

    def _url(self, name: str, *args) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}", args=args)

    def changelist_view(self, request, extra_context=None):
        since = timezone.localdate() - timedelta(days=ACCURACY_DAYS - 1)
        extra_context = {
            **(extra_context or {}),
            "may_count": request.user.has_perm(COUNT_PERMISSION),
            "accuracy": accuracy_by_day(since=since),
            "accuracy_days": ACCURACY_DAYS,
        }
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        sheet = self.get_object(request, unquote(object_id))
        if sheet is not None:
            links = self.step_links(request, sheet)
            if sheet.is_open and request.user.has_perm(COUNT_PERMISSION):
                links.insert(0, (_("Count"), self._url("count", sheet.pk)))
            may_approve = request.user.has_perm(APPROVE_PERMISSION)
            if may_approve:
                links.append((_("Variance report"), self._url("report", sheet.pk)))
            extra_context = {
                **(extra_context or {}),
                "lines": count_lines().filter(sheet_id=sheet.pk)[:SHOWN_LINES],
                "shown_lines": SHOWN_LINES,
                "shows_expected": shows_expected(sheet, may_approve),
                "step_links": links,
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def propose_view(self, request: HttpRequest) -> HttpResponse:
        require_perm(request, COUNT_PERMISSION)
        form = ProposeForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            sheet = form.submit(actor=actor_of(request))
            if sheet is not None:
                self.log_addition(request, sheet, [{"added": {}}])
                self.message_user(request, self.added(sheet), messages.SUCCESS)
                return self._change_page(sheet)
        return self.page(request, "form.html", form.title, form=form)

    def count_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The counting screen: the product (GET, a scanner's Enter), then its figure (POST) records it."""
        require_perm(request, COUNT_PERMISSION)
        sheet = self.get_object(request, unquote(object_id))
        if sheet is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not sheet.is_open:
            self.message_user(request, self.not_open(sheet), messages.WARNING)
            return self._change_page(sheet)
        data = request.POST if request.method == "POST" else (request.GET if "product" in request.GET else None)
        form = CountEntryForm(data, sheet=sheet)
        # The product alone (or a GET) asks for its figure: a missing figure is no error.
        if form.is_valid() and request.method == "POST" and form.cleaned_data["counted"] is not None:
            line = form.submit(actor=actor_of(request))
            if line is not None:
                done = _("Product %(product)s counted: %(counted)s.") % {
                    "product": line.product_id,
                    "counted": line.counted,
                }
                self.log_change(request, sheet, done)
                return redirect(f"{self._url('count', sheet.pk)}?last={line.product_id}")
        return self.page(
            request, "counting.html", _("Count sheet %(id)s") % {"id": sheet.pk}, **self._counting(request, sheet, form)
        )

    def _counting(self, request: HttpRequest, sheet: CountSheet, form: CountEntryForm) -> dict:
        lines = sheet.lines.all()
        last_id = product_id_term(request.GET.get("last", "")) if not form.is_bound else None
        last = count_lines().filter(sheet_id=sheet.pk, product_id=last_id, counted__isnull=False).first()
        uncounted = count_lines().filter(sheet_id=sheet.pk, counted__isnull=True)
        asked = None
        if form.asks_figure:
            asked = Inventory.products.filter(product_id=form.cleaned_data["product"]).first()
        # The next line after the one in hand (asked, or just recorded), then from the start.
        after = form.cleaned_data["product"] if asked is not None else last_id or 0
        following = uncounted.exclude(product_id=after).filter(product_id__gt=after).first()
        following = following or uncounted.exclude(product_id=after).first()
        return {
            "original": sheet,
            "form": form,
            "asked": asked,
            "last": last,
            "next_line": following,
            "counted": lines.filter(counted__isnull=False).count(),
            "total": lines.count(),
            "shows_expected": shows_expected(sheet, request.user.has_perm(APPROVE_PERMISSION)),
            "count_url": self._url("count", sheet.pk),
        }

    def report_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        sheet = self._reported(request, object_id)
        return self.page(
            request,
            "report.html",
            _("Variance report: count sheet %(id)s") % {"id": sheet.pk},
            original=sheet,
            report=variance_report(sheet),
            csv_url=self._url("report_csv", sheet.pk),
        )

    def report_csv_view(self, request: HttpRequest, object_id: str) -> StreamingHttpResponse:
        sheet = self._reported(request, object_id)
        rows = report_rows(variance_report(sheet).lines)
        response = StreamingHttpResponse(export_lines(rows, REPORT_COLUMNS), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="count-sheet-{sheet.pk}.csv"'
        return response

    def _reported(self, request: HttpRequest, object_id: str) -> CountSheet:
        """The sheet with its lines for the report (it shows expected figures: approvers only, as the API)."""
        require_perm(request, APPROVE_PERMISSION)
        sheet_id = product_id_term(unquote(object_id))
        if sheet_id is None:
            raise Http404("No such count sheet.")
        try:
            return services.get_count_sheet(sheet_id)
        except CountSheetNotFound:
            raise Http404("No such count sheet.") from None
