"""The log screen: read-only for everyone, superusers included."""

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import Q
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from inventory.admin.common import (
    ReadOnlyAdmin,
    StrictDateFieldListFilter,
    is_actor_text,
    order_id_term,
    product_id_term,
)
from inventory.admin.paginator import EstimatedCountPaginator
from inventory.admin.presentation import ProductColumn, change, column, figure, titled, when
from inventory.limits import MAX_ACTOR_LENGTH
from inventory.models import InventoryLog
from inventory.replica import replica_reads


class ActorFilter(admin.SimpleListFilter):
    """A text box rather than a list: a long log has too many actors to list."""

    title = _("actor")
    parameter_name = "actor"
    template = "admin/inventory/input_filter.html"

    def lookups(self, request, model_admin):
        return [("", "")]  # never listed; the template shows a text box

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        # What the change list does with any lookup it cannot apply: an error page, not a 500.
        if not is_actor_text(self.value()):
            raise IncorrectLookupParameters(
                _("An actor is at most %(length)s characters, with no NUL.") % {"length": MAX_ACTOR_LENGTH}
            )
        return queryset.filter(actor=self.value())

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": _("All"),
            "value": self.value() or "",
            "other_params": [(key, value) for key, value in changelist.params.items() if key != self.parameter_name],
        }


@admin.register(InventoryLog)
class InventoryLogAdmin(ProductColumn, ReadOnlyAdmin):
    # The contract's entry fields, with before and after of a figure in one column and the
    # warehouse under the operation, to fit 1366 px.
    list_display = (
        "entry_column",
        "product_column",
        "operation_column",
        "quantity_column",
        "available_column",
        "reserved_column",
        "order_column",
        "actor_column",
        "reason_column",
        "reference_column",
        "when_column",
    )
    fields = list_display  # an entry's page shows what its row shows
    list_filter = (
        ("operation", titled(admin.ChoicesFieldListFilter, _("operation"))),
        ("warehouse", titled(admin.RelatedFieldListFilter, _("warehouse"))),
        ActorFilter,
        ("created_at", titled(StrictDateFieldListFilter, _("date"))),
    )
    list_select_related = ("product", "warehouse")
    search_fields = ("product_id", "order_id")
    search_help_text = _("Exact product id or order id.")
    list_per_page = 100
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # per-filter counts are full counts too

    entry_column = staticmethod(column("id", _("entry")))
    order_column = staticmethod(column("order_id", _("order")))
    actor_column = staticmethod(column("actor", _("actor")))
    reason_column = staticmethod(column("reason", _("reason"), sortable=False))
    reference_column = staticmethod(column("reference", _("reference"), sortable=False))

    @replica_reads
    def changelist_view(self, request, extra_context=None):
        """The log: entries never change once written, so a replica that keeps up may list them."""
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("operation"), ordering="operation")
    def operation_column(self, entry: InventoryLog) -> str:
        # The row whose before/after figures the entry shows: its level's warehouse, and the
        # row's number when it is one of a hot level's other rows ("@ default #3").
        row = entry.warehouse.code if not entry.bucket else f"{entry.warehouse.code} #{entry.bucket}"
        return format_html('{} <span class="product-label">@ {}</span>', entry.get_operation_display(), row)

    @admin.display(description=_("quantity"), ordering="quantity")
    def quantity_column(self, entry: InventoryLog):
        return figure(entry.quantity)

    @admin.display(description=_("available"))
    def available_column(self, entry: InventoryLog):
        return change(entry.available_before, entry.available_after)

    @admin.display(description=_("reserved"))
    def reserved_column(self, entry: InventoryLog):
        return change(entry.reserved_before, entry.reserved_after)

    @admin.display(description=_("when"), ordering="created_at")
    def when_column(self, entry: InventoryLog) -> str:
        return when(entry.created_at)

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        order_id, product_id = order_id_term(search_term), product_id_term(search_term)
        matches = Q(pk__in=[])  # a term that is neither finds nothing
        if order_id is not None:
            matches |= Q(order_id=order_id)
        if product_id is not None:
            matches |= Q(product_id=product_id)
        return queryset.filter(matches), False
