"""The "Stock on a day" page: a product's levels, or a warehouse's, at the end of a past day (UTC).

Answered like the API's history endpoints, from the daily snapshots plus the ledger since
(`inventory.selectors.snapshots`). A GET form; seeing it needs `view_inventory`.
"""

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from inventory import limits
from inventory.admin.forms import WarehouseChoiceField
from inventory.admin.presentation import domain_message
from inventory.exceptions import ProductNotFound
from inventory.selectors.snapshots import figures_of, levels_existing_on, product_on

TEMPLATE = "admin/inventory/inventory/on_day.html"
# Levels on one page of a warehouse's day.
PAGE_SIZE = 100


class StockOnDayForm(forms.Form):
    """A day and a product or a warehouse (a GET form)."""

    day = forms.DateField(
        label=_("Day"),
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The figures at the end of this day (midnight UTC); today and later: now."),
    )
    product_id = forms.IntegerField(label=_("Product"), required=False, min_value=1, max_value=limits.MAX_PRODUCT_ID)
    warehouse = WarehouseChoiceField(label=_("Warehouse"), required=False, empty_label=_("All warehouses"))

    def clean(self):
        cleaned = super().clean()
        if not self.errors and cleaned.get("product_id") is None and cleaned.get("warehouse") is None:
            raise forms.ValidationError(_("Choose a product or a warehouse."))
        return cleaned


def stock_on_day_view(model_admin, request: HttpRequest) -> TemplateResponse:
    if not request.user.has_perm("inventory.view_inventory"):
        raise PermissionDenied
    form = StockOnDayForm(request.GET or None)
    context = {"form": form, "levels": None}
    if form.is_valid():
        context.update(_answer(form, request.GET.get("page")))
    return TemplateResponse(
        request,
        TEMPLATE,
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.opts,
            "title": _("Stock on a day"),
            **context,
        },
    )


def _answer(form: StockOnDayForm, page_number: str | None) -> dict:
    day, product_id, warehouse = (form.cleaned_data[name] for name in ("day", "product_id", "warehouse"))
    if product_id is not None:
        try:
            product = product_on(day, product_id)
        except ProductNotFound as error:
            form.add_error("product_id", domain_message(error))
            return {}
        levels = [level for level in product.levels if warehouse is None or level.warehouse == warehouse.code]
        return {"levels": levels, "totals": product if warehouse is None else None}
    page = Paginator(levels_existing_on(day, warehouse_id=warehouse.pk), PAGE_SIZE).get_page(page_number)
    return {"levels": figures_of(day, page.object_list), "page": page}
