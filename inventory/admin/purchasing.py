"""The purchase orders screen: place an order with its lines, receive deliveries (in parts, over
or under what was ordered), close what will not come, cancel an order nothing came against.

Every change goes through `inventory.services` with the staff member as actor, and into the
admin history; a refusal of the service is shown on the form, and nothing is half done. The
list and an order's page are read-only and need `view_purchaseorder`; placing needs
`add_purchaseorder`, receiving, closing and cancelling `receive_purchaseorder`.
"""

import re
from datetime import date

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db.models import Exists, F, Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from inventory import limits, services
from inventory.admin.common import product_id_term
from inventory.admin.documents import DocumentAdmin, LineQuantitiesForm, ServiceForm
from inventory.admin.forms import NoControlCharacters, WarehouseChoiceField
from inventory.admin.presentation import NOTHING, column, titled, when
from inventory.exceptions import InvalidInput, InventoryError
from inventory.models import PurchaseOrder, PurchaseOrderLine
from inventory.parsing import ascii_int, has_nul
from inventory.selectors.purchasing import purchase_order_entries
from inventory.templatetags.back_office import grouped

TEMPLATES = "admin/inventory/purchasing"
# What may separate a line's cells; a spreadsheet's cells paste with tabs.
SEPARATORS = (",", ";", "\t")
_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class PurchaseOrderLinesField(forms.CharField):
    """A purchase order's lines typed or pasted as text: "product_id,quantity[,YYYY-MM-DD]", one per line.

    As the transfers screen's lines: pasted from the supplier's confirmation in one go (tabs
    taken as well as commas), each error naming its line. A line without a date is due on
    the form's expected date.
    """

    widget = forms.Textarea(attrs={"rows": 8, "cols": 50})

    def __init__(self, **kwargs):
        super().__init__(max_length=limits.MAX_PURCHASE_ORDER_LINES * 80, strip=False, **kwargs)

    def clean(self, value) -> list[tuple[int, int, date | None]]:
        text = super().clean(value)
        numbered = [(number, line.strip()) for number, line in enumerate(text.splitlines(), start=1)]
        numbered = [(number, line) for number, line in numbered if line]
        if not numbered:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        if len(numbered) > limits.MAX_PURCHASE_ORDER_LINES:
            raise forms.ValidationError(
                _("A purchase order has at most %(count)s lines; this one has %(lines)s.")
                % {"count": limits.MAX_PURCHASE_ORDER_LINES, "lines": len(numbered)}
            )
        lines, errors, first_line_of = [], [], {}
        for number, line in numbered:
            parsed = _parse_line(line)
            if parsed is None:
                errors.append(
                    gettext(
                        "Line %(line)s: give a product id, a quantity from 1 to %(most)s and optionally "
                        "the expected date, as 1001,5,2026-12-20."
                    )
                    % {"line": number, "most": f"{limits.MAX_QUANTITY:,}"}
                )
            elif parsed[0] in first_line_of:
                errors.append(
                    gettext("Line %(line)s: product %(product)s is on line %(first)s already.")
                    % {"line": number, "product": parsed[0], "first": first_line_of[parsed[0]]}
                )
            else:
                first_line_of[parsed[0]] = number
                lines.append(parsed)
        if errors:
            raise forms.ValidationError(errors)
        return lines


def _parse_line(line: str) -> tuple[int, int, date | None] | None:
    for separator in SEPARATORS:
        line = line.replace(separator, " ")
    parts = line.split()
    if len(parts) not in (2, 3):
        return None
    product_id = ascii_int(parts[0], 1, limits.MAX_PRODUCT_ID)
    quantity = ascii_int(parts[1], 1, limits.MAX_QUANTITY)
    due = _parse_date(parts[2]) if len(parts) == 3 else None
    if product_id is None or quantity is None or (len(parts) == 3 and due is None):
        return None
    return product_id, quantity, due


def _parse_date(text: str) -> date | None:
    if _DATE_RE.fullmatch(text) is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


class PurchaseOrderAddForm(ServiceForm):
    supplier = forms.CharField(
        label=_("Supplier"), max_length=limits.SUPPLIER_NAME_MAX_LENGTH, validators=[NoControlCharacters()]
    )
    supplier_reference = forms.CharField(
        label=_("Supplier's reference"),
        required=False,
        max_length=limits.MAX_REFERENCE_LENGTH,
        help_text=_("Their order confirmation's number."),
    )
    warehouse = WarehouseChoiceField(label=_("Deliver to"))
    expected_date = forms.DateField(
        label=_("Expected on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The day the goods are due, for every line that names no date of its own."),
    )
    lines = PurchaseOrderLinesField(
        label=_("Lines"),
        help_text=_(
            "One product per line: its product id, the quantity ordered and optionally the day it is due, "
            "as 1001,5 or 1001,5,2026-12-20. Rows pasted from a spreadsheet are taken as they are."
        ),
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=limits.MAX_REASON_LENGTH, widget=forms.Textarea(attrs={"rows": 2})
    )
    detail_fields = {"supplier": "supplier", "warehouse": "warehouse", "lines": "lines", "product_id": "lines"}

    def submit(self, *, actor: str) -> PurchaseOrder | None:
        data = self.cleaned_data
        lines = [
            services.PurchaseOrderLineInput(product_id, quantity, due or data["expected_date"])
            for product_id, quantity, due in data["lines"]
        ]
        return self.call(
            services.create_purchase_order,
            supplier=data["supplier"],
            supplier_reference=data["supplier_reference"],
            warehouse=data["warehouse"].code,
            note=data["note"],
            lines=lines,
            actor=actor,
        )


class ReceiveForm(LineQuantitiesForm):
    """Per line, the units that came in this delivery: by default what is outstanding. More than
    was ordered is taken (an over-delivery); 0 leaves a line out."""

    title = _("Receive a delivery")
    template = "receive.html"
    box_size = 10

    reference = forms.CharField(
        label=_("Delivery note"),
        required=False,
        max_length=limits.MAX_REFERENCE_LENGTH,
        validators=[NoControlCharacters()],
    )

    def __init__(self, data=None, *, order: PurchaseOrder):
        self.order = order
        super().__init__(data, lines=order.lines.all(), most=lambda line: limits.MAX_QUANTITY - line.received)

    def lines_now(self):
        return self.order.lines.select_related("product")

    def refused(self, error: InventoryError) -> None:
        if isinstance(error, InvalidInput) and isinstance(error.details.get("lines"), dict):
            for product_id, problem in error.details["lines"].items():
                field = f"line_{product_id}"
                self.add_error(field if field in self.fields else None, problem)
            return
        super().refused(error)

    def submit(self, *, actor: str) -> PurchaseOrder | None:
        lines = [services.ReceiptLineInput(product_id, units) for product_id, units in self.quantities()]
        return self.call(
            services.receive_purchase_order,
            purchase_order_id=self.order.pk,
            lines=lines,
            reference=self.cleaned_data["reference"],
            actor=actor,
        )

    def done(self, after: PurchaseOrder) -> str:
        return _("Purchase order %(id)s: %(units)s units received in %(warehouse)s; it is now %(status)s.") % {
            "id": after.pk,
            "units": grouped(sum(dict(self.quantities()).values())),
            "warehouse": after.warehouse.code,
            "status": after.get_status_display(),
        }


class EndForm(ServiceForm):
    """A reason, optional: posting it confirms the close or the cancel."""

    template = "end.html"
    service = None

    reason = forms.CharField(
        label=_("Why"), required=False, max_length=limits.MAX_REASON_LENGTH, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, data=None, *, order: PurchaseOrder):
        super().__init__(data)
        self.order = order

    def submit(self, *, actor: str) -> PurchaseOrder | None:
        return self.call(
            type(self).service, purchase_order_id=self.order.pk, reason=self.cleaned_data["reason"], actor=actor
        )


class CloseForm(EndForm):
    title = _("Close the purchase order")
    question = _("Close this purchase order? What is still outstanding will not come; what came stays as it is.")
    button = _("Yes, close it")
    service = staticmethod(services.close_purchase_order)

    def done(self, after: PurchaseOrder) -> str:
        outstanding = sum(line.outstanding for line in after.lines.all())
        return _("Purchase order %(id)s closed: %(units)s units outstanding will not come.") % {
            "id": after.pk,
            "units": grouped(outstanding),
        }


class CancelForm(EndForm):
    title = _("Cancel the purchase order")
    question = _("Cancel this purchase order? Nothing was received against it.")
    button = _("Yes, cancel it")
    service = staticmethod(services.cancel_purchase_order)

    def done(self, after: PurchaseOrder) -> str:
        return _("Purchase order %(id)s cancelled.") % {"id": after.pk}


# The steps of an open order, each a page under the order's URL: URL name -> form.
PURCHASE_ORDER_STEPS: dict[str, type[ReceiveForm | EndForm]] = {
    "receive": ReceiveForm,
    "close": CloseForm,
    "cancel": CancelForm,
}


def _line_total(figure) -> Coalesce:
    """The sum of a figure over the row's lines: a correlated subquery, so a page sums only its own orders."""
    lines = PurchaseOrderLine.objects.filter(order_id=OuterRef("pk")).order_by().values("order_id")
    return Coalesce(Subquery(lines.annotate(total=Sum(figure)).values("total")), 0)


def _next_due() -> Subquery:
    """The earliest expected date of the row's lines still outstanding."""
    lines = (
        PurchaseOrderLine.objects.filter(order_id=OuterRef("pk"), received__lt=F("quantity"))
        .order_by()
        .values("order_id")
    )
    return Subquery(lines.annotate(due=Min("expected_date")).values("due"))


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(DocumentAdmin):
    """Placed through the add page, changed only by the steps' services."""

    templates = TEMPLATES
    step_permission = "inventory.receive_purchaseorder"
    steps = PURCHASE_ORDER_STEPS
    add_form = PurchaseOrderAddForm
    add_title = _("Place a purchase order")
    document_argument = "order"

    list_display = (
        "id_column",
        "supplier_column",
        "warehouse_column",
        "status_column",
        "units_column",
        "due_column",
        "supplier_reference_column",
        "actor_column",
        "created_column",
        "updated_column",
    )
    fields = (*list_display, "note_column", "ended_by_column", "end_reason_column")
    readonly_fields = fields
    list_filter = (
        ("status", titled(admin.ChoicesFieldListFilter, _("status"))),
        ("warehouse", titled(admin.RelatedFieldListFilter, _("warehouse"))),
    )
    list_select_related = ("warehouse",)
    search_fields = ("supplier_reference",)
    search_help_text = _("Purchase order id, a product it orders (id), the exact supplier or supplier's reference.")
    list_per_page = 100
    change_form_template = f"{TEMPLATES}/change_form.html"

    id_column = staticmethod(column("id", _("purchase order")))
    supplier_column = staticmethod(column("supplier", _("supplier"), sortable=False))
    warehouse_column = staticmethod(column("warehouse", _("warehouse"), sortable=False))
    supplier_reference_column = staticmethod(column("supplier_reference", _("supplier's reference"), sortable=False))
    actor_column = staticmethod(column("actor", _("placed by"), sortable=False))
    note_column = staticmethod(column("note", _("note"), sortable=False))
    ended_by_column = staticmethod(column("ended_by", _("ended by"), sortable=False))
    end_reason_column = staticmethod(column("end_reason", _("why it ended"), sortable=False))

    @admin.display(description=_("status"), ordering="status")
    def status_column(self, order: PurchaseOrder) -> str:
        return order.get_status_display()

    @admin.display(description=_("received / ordered"))
    def units_column(self, order: PurchaseOrder) -> SafeString:
        return format_html(
            '<span class="num">{} / {}</span>', grouped(order.units_received), grouped(order.units_ordered)
        )

    @admin.display(description=_("next due"), ordering="next_due")
    def due_column(self, order: PurchaseOrder) -> str:
        if not order.is_open or order.next_due is None:
            return NOTHING
        return order.next_due.isoformat()

    @admin.display(description=_("placed"), ordering="created_at")
    def created_column(self, order: PurchaseOrder) -> str:
        return when(order.created_at)

    @admin.display(description=_("last change"), ordering="updated_at")
    def updated_column(self, order: PurchaseOrder) -> str:
        return when(order.updated_at)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                units_ordered=_line_total("quantity"), units_received=_line_total("received"), next_due=_next_due()
            )
        )

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        fits = len(term) <= limits.MAX_REFERENCE_LENGTH and not has_nul(term)
        matches = Q(supplier_reference=term) | Q(supplier=term) if fits else Q(pk__in=[])
        number = product_id_term(term)
        if number is not None:
            ordered = PurchaseOrderLine.objects.filter(order_id=OuterRef("pk"), product_id=number)
            matches |= Q(pk=number) | Q(Exists(ordered))
        return queryset.filter(matches), False

    # --- Pages -----------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = self.get_object(request, unquote(object_id))
        if order is not None:
            extra_context = {
                **(extra_context or {}),
                "lines": order.lines.select_related("product").order_by("product_id"),
                "receipts": order.receipts.prefetch_related("lines__line").order_by("id"),
                "entries": purchase_order_entries(order),
                "step_links": self.step_links(request, order),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def steps_for(self, document: PurchaseOrder) -> list[str]:
        # Cancel is for an order nothing came against.
        cancellable = document.status == PurchaseOrder.Status.OPEN
        return [name for name in PURCHASE_ORDER_STEPS if name != "cancel" or cancellable]

    def added(self, document: PurchaseOrder) -> str:
        return _("Purchase order %(id)s placed with %(supplier)s for %(warehouse)s: %(units)s units.") % {
            "id": document.pk,
            "supplier": document.supplier,
            "warehouse": document.warehouse.code,
            "units": grouped(sum(line.quantity for line in document.lines.all())),
        }

    def not_open(self, document: PurchaseOrder) -> str:
        return _("Purchase order %(id)s is %(status)s: there is nothing to receive, close or cancel.") % {
            "id": document.pk,
            "status": document.get_status_display(),
        }

    def step_title(self, step: type[ServiceForm], document: PurchaseOrder) -> str:
        return _("%(step)s: purchase order %(id)s") % {"step": step.title, "id": document.pk}
