"""The planning screens: each level's plan (ABC class, forecast beside its history, safety stock,
reorder point and quantity), its terms, the reorder report (a page and CSV) and the run's settings.

The figures are the daily run's (`inventory.refresh_plans`); a page only reads them. Terms and
settings change through `inventory.services.planning` with the staff member as actor, and into
the admin history. Seeing needs `view_itemplan`; changing needs `manage_planning`, as in the API.
"""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from inventory import limits
from inventory.admin.charts import demand_chart
from inventory.admin.common import StrictModelAdmin, actor_of, product_id_term, require_perm
from inventory.admin.csv_import import export_lines
from inventory.admin.documents import ServiceForm
from inventory.admin.forms import WarehouseChoiceField
from inventory.admin.presentation import (
    NOTHING,
    ProductColumn,
    column,
    figure_column,
    titled,
    when_column,
    yes_or_no,
)
from inventory.models import AbcBasis, ItemPlan, PlanningSettings
from inventory.selectors.planning import ReorderLine, demand_history, forecast_days, item_plans, reorder_report
from inventory.services.planning import set_item_plan, set_planning_settings

TEMPLATES = "admin/inventory/itemplan"
MANAGE_PERMISSION = "inventory.manage_planning"
REORDER_COLUMNS = (
    "product_id",
    "warehouse",
    "abc_class",
    "available",
    "incoming",
    "backordered",
    "position",
    "reorder_point",
    "reorder_quantity",
    "lead_time_days",
    "suggested_quantity",
)


# The forecast methods (inventory/planning/forecast.py) as staff read them.
METHOD_LABELS = {
    "zero": _("no demand"),
    "mean": _("mean (short history)"),
    "ses": _("exponential smoothing"),
    "holt_winters_weekly": _("Holt-Winters, weekly"),
    "croston_sba": _("Croston/SBA (intermittent)"),
}


class ReorderFilterForm(forms.Form):
    """The report's warehouse (a GET form); an unknown code shows every warehouse's."""

    warehouse = WarehouseChoiceField(label=_("Warehouse"), required=False, empty_label=_("Every warehouse"))


class PlanTermsForm(ServiceForm):
    """A level's terms as they are; only what the person changes is sent."""

    title = _("Change the planning terms")
    intro = _("The safety stock, reorder point and quantity follow at once from the stored forecast.")
    button = _("Save the terms")

    lead_time_days = forms.IntegerField(
        label=_("Lead time (days)"),
        min_value=0,
        max_value=limits.MAX_PLANNING_DAYS,
        help_text=_("Days from ordering to the goods on the shelf."),
    )
    service_level = forms.DecimalField(
        label=_("Service level"),
        min_value=Decimal(str(limits.MIN_SERVICE_LEVEL)),
        max_value=Decimal("0.999"),
        decimal_places=3,
        help_text=_("The chance of no stock-out in a replenishment cycle, 0.5 to 0.999."),
    )
    apply_suggestions = forms.BooleanField(
        label=_("Thresholds follow the reorder point"),
        required=False,
        help_text=_("Each run sets the low-stock threshold to the reorder point, logged as any threshold edit."),
    )
    detail_fields = {name: name for name in ("lead_time_days", "service_level", "apply_suggestions")}

    def __init__(self, data=None, *, plan: ItemPlan):
        self.plan = plan
        self.shown = {name: getattr(plan, name) for name in self.detail_fields}
        super().__init__(data, initial=self.shown)
        self.fields["lead_time_days"].widget.attrs["autofocus"] = True

    def changes(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if value != self.shown[name]}

    def submit(self, *, actor: str) -> ItemPlan | None:
        return self.call(
            set_item_plan,
            product_id=self.plan.product_id,
            warehouse=self.plan.warehouse.code,
            **self.changes(),
            actor=actor,
        )

    def done(self, after: ItemPlan) -> str:
        return _("Product %(product)s in %(warehouse)s: reorder point %(point)s, reorder quantity %(quantity)s.") % {
            "product": after.product_id,
            "warehouse": after.warehouse.code,
            "point": NOTHING if after.reorder_point is None else after.reorder_point,
            "quantity": NOTHING if after.reorder_quantity is None else after.reorder_quantity,
        }


class PlanningSettingsForm(ServiceForm):
    title = _("Planning settings")
    intro = _("They apply from the next daily run.")
    button = _("Save the settings")

    window_days = forms.IntegerField(
        label=_("Demand window (days)"),
        min_value=limits.MIN_DEMAND_WINDOW_DAYS,
        max_value=limits.MAX_PLANNING_DAYS,
        help_text=_("Days of deductions the run reads for classes and forecasts."),
    )
    abc_basis = forms.ChoiceField(label=_("Classes by"), choices=AbcBasis.choices)
    a_percent = forms.DecimalField(
        label=_("A up to (%)"), min_value=Decimal("0.01"), max_value=100, decimal_places=2, help_text=_("Default 80.")
    )
    b_percent = forms.DecimalField(
        label=_("B up to (%)"), min_value=Decimal("0.01"), max_value=100, decimal_places=2, help_text=_("Default 95.")
    )
    a_count_days = forms.IntegerField(
        label=_("Count A every (days)"),
        min_value=limits.MIN_COUNT_INTERVAL_DAYS,
        max_value=limits.MAX_PLANNING_DAYS,
        help_text=_("Default 30."),
    )
    b_count_days = forms.IntegerField(
        label=_("Count B every (days)"),
        min_value=limits.MIN_COUNT_INTERVAL_DAYS,
        max_value=limits.MAX_PLANNING_DAYS,
        help_text=_("Default 91."),
    )
    c_count_days = forms.IntegerField(
        label=_("Count C every (days)"),
        min_value=limits.MIN_COUNT_INTERVAL_DAYS,
        max_value=limits.MAX_PLANNING_DAYS,
        help_text=_("Default 365."),
    )
    detail_fields = {
        name: name
        for name in (
            "window_days",
            "abc_basis",
            "a_percent",
            "b_percent",
            "a_count_days",
            "b_count_days",
            "c_count_days",
        )
    }

    def __init__(self, data=None, *, settings: PlanningSettings):
        super().__init__(data, initial={name: getattr(settings, name) for name in self.detail_fields})

    def clean(self):
        cleaned = super().clean()
        a, b = cleaned.get("a_percent"), cleaned.get("b_percent")
        if a is not None and b is not None and a >= b:
            self.add_error("b_percent", _("B's threshold is above A's."))
        return cleaned

    def submit(self, *, actor: str) -> PlanningSettings | None:
        return self.call(set_planning_settings, **self.cleaned_data, actor=actor)


@admin.register(ItemPlan)
class ItemPlanAdmin(ProductColumn, StrictModelAdmin):
    """Read-only figures; the terms page and the settings page call the services."""

    list_display = (
        "level_column",
        "product_column",
        "abc_class_column",
        "demand_column",
        "method_column",
        "safety_stock_column",
        "reorder_point_column",
        "reorder_quantity_column",
        "threshold_column",
        "lead_time_column",
        "applied_column",
    )
    fields = (
        *list_display[1:],
        "warehouse_column",
        "service_level_column",
        "history_column",
        "computed_column",
        "actor_column",
        "updated_column",
    )
    readonly_fields = fields
    list_filter = (
        ("warehouse", titled(admin.RelatedFieldListFilter, _("warehouse"))),
        ("abc_class", titled(admin.ChoicesFieldListFilter, _("ABC class"))),
        ("apply_suggestions", titled(admin.BooleanFieldListFilter, _("thresholds follow"))),
    )
    list_select_related = ("product", "warehouse")
    search_help_text = _("A product id.")
    search_fields = ("=product_id",)
    list_per_page = 100
    change_form_template = f"{TEMPLATES}/change_form.html"
    change_list_template = f"{TEMPLATES}/change_list.html"

    warehouse_column = staticmethod(column("warehouse", _("warehouse"), sortable=False))
    actor_column = staticmethod(column("actor", _("terms changed by"), sortable=False))
    demand_column = staticmethod(figure_column("demand_units", _("demand")))
    safety_stock_column = staticmethod(figure_column("safety_stock", _("safety stock")))
    reorder_point_column = staticmethod(figure_column("reorder_point", _("reorder point")))
    reorder_quantity_column = staticmethod(figure_column("reorder_quantity", _("reorder quantity")))
    threshold_column = staticmethod(figure_column("low_stock_threshold", _("threshold"), sortable=False))
    lead_time_column = staticmethod(figure_column("lead_time_days", _("lead time")))
    history_column = staticmethod(figure_column("history_days", _("days of history")))
    computed_column = staticmethod(when_column("computed_at", _("computed")))
    updated_column = staticmethod(when_column("updated_at", _("terms changed")))

    def get_queryset(self, request):
        return item_plans().select_related("product", "warehouse")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        number = product_id_term(term)
        return (queryset.filter(product_id=number) if number is not None else queryset.none()), False

    @admin.display(description=_("level"), ordering="product_id")
    def level_column(self, plan: ItemPlan) -> str:
        # The plan's own link; the product column links to the item.
        return f"{plan.product_id} @ {plan.warehouse.code}"

    @admin.display(description=_("method"))
    def method_column(self, plan: ItemPlan) -> str:
        return METHOD_LABELS.get(plan.method, NOTHING)

    @admin.display(description=_("class"), ordering="abc_class")
    def abc_class_column(self, plan: ItemPlan) -> str:
        return plan.abc_class or NOTHING

    @admin.display(description=_("service level"), ordering="service_level")
    def service_level_column(self, plan: ItemPlan) -> str:
        return f"{plan.service_level:.3f}"

    @admin.display(description=_("thresholds follow"))
    def applied_column(self, plan: ItemPlan) -> str:
        return yes_or_no(plan.apply_suggestions)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # --- Pages -----------------------------------------------------------------

    def get_urls(self):
        own = [
            ("<path:object_id>/terms/", self.terms_view, "terms"),
            ("reorder/", self.reorder_view, "reorder"),
            ("reorder.csv", self.reorder_csv_view, "reorder_csv"),
            ("settings/", self.settings_view, "settings"),
        ]
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            *(path(route, self.admin_site.admin_view(view), name=f"{prefix}_{name}") for route, view, name in own),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "may_manage": request.user.has_perm(MANAGE_PERMISSION),
            "settings": PlanningSettings.current(),
        }
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        plan = self.get_object(request, unquote(object_id))
        if plan is not None:
            history = demand_history(plan, PlanningSettings.current().window_days)
            forecast = forecast_days(plan)
            extra_context = {
                **(extra_context or {}),
                "chart": demand_chart(
                    [(day["date"], day["units"]) for day in history], [(day["date"], day["units"]) for day in forecast]
                ),
                "may_manage": request.user.has_perm(MANAGE_PERMISSION),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def terms_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        require_perm(request, MANAGE_PERMISSION)
        plan = self.get_object(request, unquote(object_id))
        if plan is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        form = PlanTermsForm(request.POST if request.method == "POST" else None, plan=plan)
        if form.is_valid():
            after = form.submit(actor=actor_of(request))
            if after is not None:
                done = form.done(after)
                self.log_change(request, after, done)
                self.message_user(request, done, messages.SUCCESS)
                return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", plan.pk)
        title = _("%(step)s: product %(product)s in %(warehouse)s") % {
            "step": form.title,
            "product": plan.product_id,
            "warehouse": plan.warehouse.code,
        }
        return self._page(request, "admin/inventory/form.html", title, original=plan, form=form)

    def settings_view(self, request: HttpRequest) -> HttpResponse:
        require_perm(request, MANAGE_PERMISSION)
        data = request.POST if request.method == "POST" else None
        form = PlanningSettingsForm(data, settings=PlanningSettings.current())
        if form.is_valid() and form.submit(actor=actor_of(request)) is not None:
            self.message_user(request, _("The planning settings were saved."), messages.SUCCESS)
            return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        return self._page(request, "admin/inventory/form.html", form.title, form=form)

    def reorder_view(self, request: HttpRequest) -> HttpResponse:
        form, lines = self._reorder(request)
        query = f"?warehouse={form.cleaned_data['warehouse'].code}" if form.cleaned_data.get("warehouse") else ""
        return self._page(
            request,
            f"{TEMPLATES}/reorder.html",
            _("Reorder report"),
            form=form,
            lines=lines,
            csv_url=reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_reorder_csv") + query,
        )

    def reorder_csv_view(self, request: HttpRequest) -> StreamingHttpResponse:
        _form, lines = self._reorder(request)
        response = StreamingHttpResponse(export_lines(lines, REORDER_COLUMNS), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="reorder.csv"'
        return response

    def _reorder(self, request: HttpRequest) -> tuple[ReorderFilterForm, list[ReorderLine]]:
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = ReorderFilterForm(request.GET)
        warehouse = form.cleaned_data.get("warehouse") if form.is_valid() else None
        return form, reorder_report(warehouse_id=None if warehouse is None else warehouse.pk)

    def _page(self, request: HttpRequest, template: str, title: str, **context) -> TemplateResponse:
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": title,
                "reorder_url": reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_reorder"),
                **context,
            },
        )
