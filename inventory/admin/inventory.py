"""The inventory screens: the list, an item's page, its form pages, bulk threshold, CSV, dashboard."""

from datetime import timedelta
from functools import partial

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from inventory import selectors, services
from inventory.admin.charts import stock_chart
from inventory.admin.common import actor_of, product_id_term, require_perm
from inventory.admin.csv_import import (
    CsvApplyForm,
    CsvImportForm,
    ImportFailed,
    ImportKind,
    apply_import,
    export_lines,
    plan_import,
)
from inventory.admin.forms import AdjustForm, BulkThresholdForm, RestockForm, StockChangeForm, ThresholdForm
from inventory.admin.paginator import EstimatedCountPaginator
from inventory.admin.reservations import EXPIRING_SOON
from inventory.exceptions import InventoryError
from inventory.models import Inventory

LOG_PAGE_SIZE = 25
ITEM_RESERVATIONS_SHOWN = 50
# One threshold for at most this many items at once: each is a logged change in one transaction.
MAX_BULK_ITEMS = 1000
TIMEOUT_RATE_WINDOW = timedelta(hours=24)
# The form pages reachable from an item: URL name -> form.
STOCK_FORMS: dict[str, type[StockChangeForm]] = {
    "restock": RestockForm,
    "adjust": AdjustForm,
    "threshold": ThresholdForm,
}


class StockStatusFilter(admin.SimpleListFilter):
    title = "stock"
    parameter_name = "stock"

    def lookups(self, request, model_admin):
        return [("low", "Low stock (at or below threshold)"), ("out", "Out of stock")]

    def queryset(self, request, queryset):
        if self.value() == "low":
            return queryset.filter(available_stock__lte=F("low_stock_threshold"))
        if self.value() == "out":
            return queryset.filter(available_stock=0)
        return queryset


class ActiveReservationsFilter(admin.SimpleListFilter):
    title = "active reservations"
    parameter_name = "reserved"

    def lookups(self, request, model_admin):
        return [("yes", "Has active reservations"), ("no", "No active reservations")]

    # reserved_stock is the sum of the item's active holds (verify_ledger checks
    # that), so the counter answers without a join on the reservations table.
    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(reserved_stock__gt=0)
        if self.value() == "no":
            return queryset.filter(reserved_stock=0)
        return queryset


@admin.register(Inventory)
class InventoryAdmin(admin.ModelAdmin):
    list_display = (
        "product_id",
        "available_stock",
        "reserved_stock",
        "total_stock",
        "low_stock_threshold",
        "stock_badge",
        "updated_at",
    )
    list_filter = (StockStatusFilter, ActiveReservationsFilter)
    search_fields = ("product_id",)
    search_help_text = "Exact product id."
    ordering = ("product_id",)
    list_per_page = 100
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # per-filter counts are full counts too
    actions = ("set_threshold_of_selected",)
    add_fields = ("product_id", "available_stock", "low_stock_threshold")
    change_list_template = "admin/inventory/inventory/change_list.html"

    class Media:
        css = {"all": ("inventory/admin.css",)}

    @admin.display(description="status")
    def stock_badge(self, item: Inventory) -> str:
        if not item.in_stock:
            return format_html('<span class="stock-badge stock-out">{}</span>', "Out of stock")
        if item.is_low_stock:
            return format_html('<span class="stock-badge stock-low">{}</span>', "Low stock")
        return format_html('<span class="stock-badge stock-ok">{}</span>', "In stock")

    # --- Pages of the model: add through the service, change page read-only, no delete.

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.add_fields
        return [field.name for field in Inventory._meta.fields if field.name != "id"]

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.get_fields(request, obj)

    # Nothing on the change page is editable: stock changes through the form pages.
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # Only reached on add. The form's unique check has already turned away an
        # existing product id.
        created = services.create_inventory(
            product_id=obj.product_id,
            available_stock=obj.available_stock,
            low_stock_threshold=obj.low_stock_threshold,
            actor=actor_of(request),
            reason="created in the back office",
        )
        obj.pk = created.pk

    # An exact match on the unique index; Django's default would cast the column to text.
    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        product_id = product_id_term(search_term)
        if product_id is None:
            return queryset.none(), False
        return queryset.filter(product_id=product_id), False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        item = self.get_object(request, unquote(object_id))
        if item is not None:
            extra_context = {**(extra_context or {}), **self._item_context(request, item)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _item_context(self, request: HttpRequest, item: Inventory) -> dict:
        active = selectors.active_reservations_of(item.product_id)
        return {
            "stock_links": self._stock_links(request, item),
            "log_page": Paginator(selectors.item_log(item.product_id), LOG_PAGE_SIZE).get_page(
                request.GET.get("log_page")
            ),
            "active_reservations": active[:ITEM_RESERVATIONS_SHOWN],
            "active_reservation_count": active.count(),
            "chart": stock_chart(item.product_id, selectors.stock_history(item.product_id), now=timezone.now()),
        }

    def _stock_links(self, request: HttpRequest, item: Inventory) -> list[tuple[str, str]]:
        """The form pages this person may use: a button for each, none for the others."""
        return [
            (form_class.title, reverse(f"admin:inventory_inventory_{name}", args=[item.pk]))
            for name, form_class in STOCK_FORMS.items()
            if request.user.has_perm(form_class.permission)
        ]

    # --- Extra pages -----------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        stock_urls = [
            path(
                f"<path:object_id>/{name}/",
                wrap(partial(self.stock_form_view, form_class=form_class)),
                name=f"inventory_inventory_{name}",
            )
            for name, form_class in STOCK_FORMS.items()
        ]
        return [
            path("dashboard/", wrap(self.dashboard_view), name="inventory_dashboard"),
            path("threshold/", wrap(self.bulk_threshold_view), name="inventory_inventory_bulk_threshold"),
            path("import/", wrap(self.import_view), name="inventory_inventory_import"),
            path("export/", wrap(self.export_view), name="inventory_inventory_export"),
            *stock_urls,
            *super().get_urls(),
        ]

    def _page(self, request: HttpRequest, template: str, title: str, **context) -> TemplateResponse:
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": title,
                "media": self.media,
                **context,
            },
        )

    def stock_form_view(self, request: HttpRequest, object_id: str, form_class: type[StockChangeForm]):
        require_perm(request, form_class.permission)
        item = self.get_object(request, unquote(object_id))
        if item is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        data = request.POST if request.method == "POST" else None
        form = form_class(data, initial={"version": item.version})
        if form.is_valid():
            changed = form.submit(product_id=item.product_id, actor=actor_of(request))
            if changed is not None:
                self.message_user(request, form.success_message(changed), messages.SUCCESS)
                return redirect("admin:inventory_inventory_change", item.pk)
            item.refresh_from_db()
        return self._page(
            request,
            "admin/inventory/inventory/stock_form.html",
            f"{form_class.title}: product {item.product_id}",
            original=item,
            form=form,
        )

    @admin.action(description="Set one low-stock threshold for the selected items", permissions=["change_threshold"])
    def set_threshold_of_selected(self, request: HttpRequest, queryset: QuerySet[Inventory]):
        if queryset.count() > MAX_BULK_ITEMS:
            self.message_user(request, f"Select at most {MAX_BULK_ITEMS} items for one threshold.", messages.ERROR)
            return None
        return self._bulk_threshold_page(request, queryset.order_by("product_id"), BulkThresholdForm())

    def has_change_threshold_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(ThresholdForm.permission)

    def bulk_threshold_view(self, request: HttpRequest):
        """Where the action's form posts: checked again, since anyone can post here."""
        require_perm(request, ThresholdForm.permission)
        if request.method != "POST":
            return redirect("admin:inventory_inventory_changelist")
        ids = [int(pk) for pk in request.POST.getlist("ids") if pk.isdigit()][:MAX_BULK_ITEMS]
        items = Inventory.objects.filter(pk__in=ids).order_by("product_id")
        form = BulkThresholdForm(request.POST)
        if form.is_valid() and items:
            self._set_thresholds(request, items, **form.cleaned_data)
            return redirect("admin:inventory_inventory_changelist")
        return self._bulk_threshold_page(request, items, form)

    def _bulk_threshold_page(self, request, items: QuerySet[Inventory], form: BulkThresholdForm) -> TemplateResponse:
        return self._page(
            request,
            "admin/inventory/inventory/bulk_threshold.html",
            "Set the low-stock threshold of several items",
            items=items,
            form=form,
        )

    def _set_thresholds(self, request: HttpRequest, items: QuerySet[Inventory], *, low_stock_threshold, reason):
        try:
            # All or none: one transaction, rows taken in product order.
            with transaction.atomic():
                for item in items:
                    services.set_low_stock_threshold(
                        product_id=item.product_id,
                        low_stock_threshold=low_stock_threshold,
                        reason=reason,
                        actor=actor_of(request),
                    )
        except InventoryError as error:
            self.message_user(request, f"Nothing was changed: {error.message}", messages.ERROR)
            return
        self.message_user(
            request, f"The threshold of {len(items)} item(s) is now {low_stock_threshold}.", messages.SUCCESS
        )

    def import_view(self, request: HttpRequest):
        if not (request.user.has_perm(RestockForm.permission) or request.user.has_perm(AdjustForm.permission)):
            raise PermissionDenied
        if request.method == "POST" and "content" in request.POST:
            return self._apply_import(request)
        form = CsvImportForm(request.POST or None, request.FILES or None)
        plan = None
        if form.is_valid():
            kind = ImportKind(form.cleaned_data["kind"])
            require_perm(request, kind.permission)
            plan = plan_import(form.cleaned_data["file"], kind, form.cleaned_data["reason"])
            if plan.is_valid:
                form = CsvApplyForm(
                    initial={"kind": kind, "content": form.cleaned_data["file"], "reason": form.cleaned_data["reason"]}
                )
        return self._import_page(request, form, plan)

    def _apply_import(self, request: HttpRequest):
        form = CsvApplyForm(request.POST)
        if not form.is_valid():
            return self._import_page(request, CsvImportForm(), None)
        kind = ImportKind(form.cleaned_data["kind"])
        require_perm(request, kind.permission)
        # Checked again: the stock may have changed since the preview.
        plan = plan_import(form.cleaned_data["content"], kind, form.cleaned_data["reason"])
        if plan.is_valid:
            try:
                applied = apply_import(plan, actor=actor_of(request))
            except ImportFailed as failure:
                self.message_user(request, f"Nothing was applied: {failure}", messages.ERROR)
            else:
                self.message_user(request, f"Applied {applied} row(s).", messages.SUCCESS)
                return redirect("admin:inventory_inventory_changelist")
        return self._import_page(request, CsvImportForm(initial={"kind": kind}), plan)

    def _import_page(self, request, form, plan) -> TemplateResponse:
        return self._page(
            request, "admin/inventory/inventory/import.html", "Import stock from CSV", form=form, plan=plan
        )

    def export_view(self, request: HttpRequest):
        if not self.has_view_permission(request):
            raise PermissionDenied
        # The same filters, search and ordering as the change list the link was on.
        changelist = self.get_changelist_instance(request)
        items = changelist.get_queryset(request).iterator(chunk_size=2000)
        response = StreamingHttpResponse(export_lines(items), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="inventory.csv"'
        return response

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        now = timezone.now()
        start_of_day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        most_moved = selectors.most_moved_items(since=start_of_day)
        chart_product = product_id_term(request.GET.get("product", ""))
        if chart_product is None and most_moved:
            chart_product = most_moved[0]["product_id"]
        chart = None
        if chart_product is not None:
            chart = stock_chart(chart_product, selectors.stock_history(chart_product), now=now)
        return self._page(
            request,
            "admin/inventory/dashboard.html",
            "Stock dashboard",
            figures=selectors.dashboard_figures(
                now=now, expiring_within=EXPIRING_SOON, rate_window=TIMEOUT_RATE_WINDOW
            ),
            most_moved=most_moved,
            chart_product=chart_product,
            chart=chart,
            expiring_minutes=int(EXPIRING_SOON.total_seconds() // 60),
        )
