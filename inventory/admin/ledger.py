"""The log screen: read-only for everyone, superusers included."""

from django.contrib import admin
from django.db.models import Q

from inventory.admin.common import ReadOnlyAdmin, product_id_term
from inventory.admin.paginator import EstimatedCountPaginator
from inventory.models import InventoryLog


class ActorFilter(admin.SimpleListFilter):
    """A text box rather than a list: a long log has too many actors to list."""

    title = "actor"
    parameter_name = "actor"
    template = "admin/inventory/input_filter.html"

    def lookups(self, request, model_admin):
        return [("", "")]  # never listed; the template shows a text box

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(actor=self.value())
        return queryset

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "All",
            "value": self.value() or "",
            "other_params": [(key, value) for key, value in changelist.params.items() if key != self.parameter_name],
        }


@admin.register(InventoryLog)
class InventoryLogAdmin(ReadOnlyAdmin):
    list_display = InventoryLog.ENTRY_FIELDS
    list_filter = ("operation", ActorFilter, "created_at")
    search_fields = ("product_id", "order_id")
    search_help_text = "Exact product id or order id."
    list_per_page = 100
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # per-filter counts are full counts too

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        matches = Q(order_id=term)
        product_id = product_id_term(term)
        if product_id is not None:
            matches |= Q(product_id=product_id)
        return queryset.filter(matches), False
