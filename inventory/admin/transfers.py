"""The transfers screen: send goods from one warehouse to another, receive them (in parts), cancel.

Every change goes through `inventory.services` with the staff member as actor, and into
the admin history; a refusal of the service is shown on the form, and nothing is half
done. The list and a transfer's page are read-only and need `view_transfer`; sending
needs `add_transfer`, receiving and cancelling `receive_transfer`.
"""

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db.models import Exists, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from inventory import limits, services
from inventory.admin.common import product_id_term
from inventory.admin.documents import DocumentAdmin, LineQuantitiesForm, ServiceForm
from inventory.admin.forms import WarehouseChoiceField
from inventory.admin.presentation import column, titled, when
from inventory.exceptions import InvalidInput, InventoryError
from inventory.models import Transfer, TransferLine
from inventory.parsing import ascii_int, has_nul
from inventory.selectors.transfers import transfer_entries
from inventory.templatetags.back_office import grouped

TEMPLATES = "admin/inventory/transfer"
# What may separate a line's product id from its quantity; a spreadsheet's cells paste with tabs.
SEPARATORS = (",", ";", "\t")


class TransferLinesField(forms.CharField):
    """A transfer's lines typed or pasted as text: "product_id,quantity", one product per line.

    A text box rather than a formset of rows: a clerk sends what a pick list says, and
    pastes it from the spreadsheet in one go (its cells come with tabs, taken as well as
    commas), or types a line per product without moving between boxes or asking for
    more rows, up to the 100 lines of a transfer. Each error names its line, as the CSV
    import's do, and the text comes back as typed to be corrected.
    """

    widget = forms.Textarea(attrs={"rows": 8, "cols": 40})

    def __init__(self, **kwargs):
        # 100 lines of two bigints and a separator, with room for spaces.
        super().__init__(max_length=limits.MAX_TRANSFER_LINES * 64, strip=False, **kwargs)

    def clean(self, value) -> list[services.TransferLineInput]:
        text = super().clean(value)
        numbered = [(number, line.strip()) for number, line in enumerate(text.splitlines(), start=1)]
        numbered = [(number, line) for number, line in numbered if line]
        if not numbered:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        if len(numbered) > limits.MAX_TRANSFER_LINES:
            raise forms.ValidationError(
                _("A transfer has at most %(count)s lines; this one has %(lines)s.")
                % {"count": limits.MAX_TRANSFER_LINES, "lines": len(numbered)}
            )
        lines, errors, first_line_of = [], [], {}
        for number, line in numbered:
            parsed = _parse_line(line)
            if parsed is None:
                errors.append(
                    gettext("Line %(line)s: give a product id and a quantity from 1 to %(most)s, as 1001,5.")
                    % {"line": number, "most": f"{limits.MAX_QUANTITY:,}"}
                )
            elif parsed.product_id in first_line_of:
                errors.append(
                    gettext("Line %(line)s: product %(product)s is on line %(first)s already.")
                    % {"line": number, "product": parsed.product_id, "first": first_line_of[parsed.product_id]}
                )
            else:
                first_line_of[parsed.product_id] = number
                lines.append(parsed)
        if errors:
            raise forms.ValidationError(errors)
        return lines


def _parse_line(line: str) -> services.TransferLineInput | None:
    """`product_id,quantity` (or `;`, a tab, spaces between), each in its range; None if the line is not one."""
    for separator in SEPARATORS:
        line = line.replace(separator, " ")
    parts = line.split()
    if len(parts) != 2:
        return None
    product_id = ascii_int(parts[0], 1, limits.MAX_PRODUCT_ID)
    quantity = ascii_int(parts[1], 1, limits.MAX_QUANTITY)
    if product_id is None or quantity is None:
        return None
    return services.TransferLineInput(product_id, quantity)


class TransferAddForm(ServiceForm):
    source = WarehouseChoiceField(label=_("From"), help_text=_("The units leave its available stock at once."))
    destination = WarehouseChoiceField(
        label=_("To"), help_text=_("The units count as in transit there until they are received.")
    )
    reference = forms.CharField(
        label=_("Reference"),
        required=False,
        max_length=limits.MAX_REFERENCE_LENGTH,
        help_text=_("Delivery note, truck, ..."),
    )
    lines = TransferLinesField(
        label=_("Lines"),
        help_text=_(
            "One product per line: its product id and the quantity, as 1001,5. "
            "Rows pasted from a spreadsheet (two columns) are taken as they are."
        ),
    )
    detail_fields = {"from": "source", "to": "destination", "lines": "lines", "items": "lines", "product_id": "lines"}

    def clean(self):
        cleaned = super().clean()
        source, destination = cleaned.get("source"), cleaned.get("destination")
        if source is not None and source == destination:
            self.add_error("destination", _("A transfer goes to another warehouse than its source."))
        return cleaned

    def submit(self, *, actor: str) -> Transfer | None:
        data = self.cleaned_data
        return self.call(
            services.create_transfer,
            source=data["source"].code,
            destination=data["destination"].code,
            lines=data["lines"],
            reference=data["reference"],
            actor=actor,
        )


class ReceiveForm(LineQuantitiesForm):
    """Per line still in transit, the units received now: by default all of them."""

    title = _("Receive")
    template = "receive.html"

    def __init__(self, data=None, *, transfer: Transfer):
        self.transfer = transfer
        open_lines = [line for line in transfer.lines.all() if line.outstanding]
        super().__init__(data, lines=open_lines, most=lambda line: line.outstanding)

    def lines_now(self):
        return self.transfer.lines.select_related("product")

    def refused(self, error: InventoryError) -> None:
        # The service names the lines it cannot receive by product id; each is shown on its own row.
        if isinstance(error, InvalidInput) and isinstance(error.details.get("lines"), dict):
            lines = TransferLine.objects.filter(transfer_id=self.transfer.pk)  # as the refusal found them
            still = {str(line.product_id): line.outstanding for line in lines}
            for product_id in error.details["lines"]:
                field = f"line_{product_id}"
                message = _("Only %(count)s of this product are still in transit.") % {
                    "count": still.get(product_id, 0)
                }
                self.add_error(field if field in self.fields else None, message)
            return
        super().refused(error)

    def submit(self, *, actor: str) -> Transfer | None:
        lines = [services.TransferLineInput(product_id, units) for product_id, units in self.quantities()]
        return self.call(services.receive_transfer, transfer_id=self.transfer.pk, lines=lines, actor=actor)

    def done(self, after: Transfer) -> str:
        """What was done, for the message and the admin history."""
        return _("Transfer %(id)s: %(units)s units received in %(destination)s; it is now %(status)s.") % {
            "id": after.pk,
            "units": sum(dict(self.quantities()).values()),
            "destination": after.destination.code,
            "status": after.get_status_display(),
        }


class CancelForm(ServiceForm):
    """No fields: posting it confirms the cancel."""

    title = _("Cancel the transfer")
    template = "cancel.html"

    def __init__(self, data=None, *, transfer: Transfer):
        super().__init__(data)
        self.transfer = transfer

    def submit(self, *, actor: str) -> Transfer | None:
        return self.call(services.cancel_transfer, transfer_id=self.transfer.pk, actor=actor)

    def done(self, after: Transfer) -> str:
        # A cancel leaves what was received as it was: the rest went back.
        return _("Transfer %(id)s cancelled: %(units)s units are back in %(source)s.") % {
            "id": after.pk,
            "units": _units(after, "quantity") - _units(after, "received"),
            "source": after.source.code,
        }


# The steps of an open transfer, each a page under the transfer's URL: URL name -> form.
TRANSFER_STEPS: dict[str, type[ReceiveForm | CancelForm]] = {"receive": ReceiveForm, "cancel": CancelForm}


def _units(transfer: Transfer, figure_name: str) -> int:
    return sum(getattr(line, figure_name) for line in transfer.lines.all())


def _line_total(figure_name: str) -> Coalesce:
    """The sum of a figure over the row's lines: a correlated subquery, so a page sums only its own transfers."""
    lines = TransferLine.objects.filter(transfer_id=OuterRef("pk")).order_by().values("transfer_id")
    return Coalesce(Subquery(lines.annotate(total=Sum(figure_name)).values("total")), 0)


@admin.register(Transfer)
class TransferAdmin(DocumentAdmin):
    """Sent through the add page, changed only by the steps' services."""

    templates = TEMPLATES
    step_permission = "inventory.receive_transfer"
    steps = TRANSFER_STEPS
    add_form = TransferAddForm
    add_title = _("Send a transfer")
    document_argument = "transfer"

    list_display = (
        "id_column",
        "source_column",
        "destination_column",
        "status_column",
        "units_column",
        "reference_column",
        "actor_column",
        "created_column",
        "updated_column",
    )
    # A transfer's page shows what its row shows; its lines and log entries follow (the template).
    fields = list_display
    readonly_fields = list_display
    list_filter = (
        ("status", titled(admin.ChoicesFieldListFilter, _("status"))),
        ("source", titled(admin.RelatedFieldListFilter, _("from"))),
        ("destination", titled(admin.RelatedFieldListFilter, _("to"))),
    )
    list_select_related = ("source", "destination")
    search_fields = ("reference",)
    search_help_text = _("Transfer id, a product it carries (id), or the exact reference.")
    list_per_page = 100
    change_form_template = f"{TEMPLATES}/change_form.html"

    id_column = staticmethod(column("id", _("transfer")))
    source_column = staticmethod(column("source", _("from"), sortable=False))
    destination_column = staticmethod(column("destination", _("to"), sortable=False))
    reference_column = staticmethod(column("reference", _("reference"), sortable=False))
    actor_column = staticmethod(column("actor", _("sent by"), sortable=False))

    @admin.display(description=_("status"), ordering="status")
    def status_column(self, transfer: Transfer) -> str:
        return transfer.get_status_display()

    @admin.display(description=_("received / sent"))
    def units_column(self, transfer: Transfer) -> SafeString:
        return format_html(
            '<span class="num">{} / {}</span>', grouped(transfer.units_received), grouped(transfer.units_sent)
        )

    @admin.display(description=_("sent"), ordering="created_at")
    def created_column(self, transfer: Transfer) -> str:
        return when(transfer.created_at)

    @admin.display(description=_("last change"), ordering="updated_at")
    def updated_column(self, transfer: Transfer) -> str:
        return when(transfer.updated_at)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(units_sent=_line_total("quantity"), units_received=_line_total("received"))
        )

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        matches = Q(reference=term) if len(term) <= limits.MAX_REFERENCE_LENGTH and not has_nul(term) else Q(pk__in=[])
        number = product_id_term(term)
        if number is not None:
            carried = TransferLine.objects.filter(transfer_id=OuterRef("pk"), product_id=number)
            matches |= Q(pk=number) | Q(Exists(carried))
        return queryset.filter(matches), False

    # --- Pages -----------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        transfer = self.get_object(request, unquote(object_id))
        if transfer is not None:
            extra_context = {
                **(extra_context or {}),
                "lines": transfer.lines.select_related("product"),
                "entries": transfer_entries(transfer),
                "step_links": self.step_links(request, transfer),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def added(self, document: Transfer) -> str:
        return _("Transfer %(id)s from %(source)s to %(destination)s sent: %(units)s units in transit.") % {
            "id": document.pk,
            "source": document.source.code,
            "destination": document.destination.code,
            "units": _units(document, "quantity"),
        }

    def not_open(self, document: Transfer) -> str:
        return _("Transfer %(id)s is %(status)s: there is nothing to receive or cancel.") % {
            "id": document.pk,
            "status": document.get_status_display(),
        }

    def step_title(self, step: type[ServiceForm], document: Transfer) -> str:
        return _("%(step)s: transfer %(id)s") % {"step": step.title, "id": document.pk}
