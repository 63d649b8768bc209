"""The inventory screens: the list, an item's page, its form pages, bulk threshold, CSV, dashboard."""

from datetime import timedelta

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import SEARCH_VAR
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from inventory import selectors, services
from inventory.admin.charts import stock_chart
from inventory.admin.common import (
    StrictModelAdmin,
    actor_of,
    changelist_of,
    object_page_urls,
    primary_keys,
    product_id_term,
    require_perm,
)
from inventory.admin.csv_import import (
    CsvApplyForm,
    CsvImportForm,
    ImportFailed,
    ImportKind,
    apply_import,
    export_lines,
    plan_import,
)
from inventory.admin.forms import (
    AddItemForm,
    AdjustForm,
    BulkThresholdForm,
    RestockForm,
    StockChangeForm,
    ThresholdForm,
)
from inventory.admin.paginator import EstimatedCountPaginator
from inventory.admin.presentation import column, domain_message, figure, item_link, stock_badge, when
from inventory.admin.reservations import EXPIRING_SOON
from inventory.exceptions import InventoryError
from inventory.limits import SKU_MAX_LENGTH
from inventory.models import Inventory
from inventory.parsing import has_nul

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
# What the list's "change stock" column calls each form page: short, so the row stays on one line.
STOCK_FORM_LINKS = {"restock": _("Restock"), "adjust": _("Adjust"), "threshold": _("Threshold")}


def allowed_stock_forms(request: HttpRequest) -> list[tuple[str, type[StockChangeForm]]]:
    return [
        (name, form_class) for name, form_class in STOCK_FORMS.items() if request.user.has_perm(form_class.permission)
    ]


def stock_form_url(name: str, item: Inventory) -> str:
    return reverse(f"admin:inventory_inventory_{name}", args=[item.pk])


class ConditionFilter(admin.SimpleListFilter):
    """A list filter whose every choice stands for one condition on the rows."""

    # value in the URL -> (label, condition)
    conditions: dict[str, tuple[str, Q]] = {}

    def lookups(self, request, model_admin):
        return [(value, label) for value, (label, _) in self.conditions.items()]

    def queryset(self, request, queryset):
        chosen = self.conditions.get(self.value())
        return queryset if chosen is None else queryset.filter(chosen[1])


class StockStatusFilter(ConditionFilter):
    title = _("stock")
    parameter_name = "stock"
    conditions = {
        "low": (_("Low stock (at or below threshold)"), Q(available_stock__lte=F("low_stock_threshold"))),
        "out": (_("Out of stock"), Q(available_stock=0)),
    }


class ActiveReservationsFilter(ConditionFilter):
    title = _("active reservations")
    parameter_name = "reserved"
    # reserved_stock is the sum of the item's active holds (verify_ledger checks
    # that), so the counter answers without a join on the reservations table.
    conditions = {
        "yes": (_("Has active reservations"), Q(reserved_stock__gt=0)),
        "no": (_("No active reservations"), Q(reserved_stock=0)),
    }


@admin.register(Inventory)
class InventoryAdmin(StrictModelAdmin):
    list_display = (
        "product_column",
        "sku_column",
        "name_column",
        "available_column",
        "reserved_column",
        "total_column",
        "threshold_column",
        "status_column",
        "updated_column",
    )
    list_display_links = None  # the product column links to the item itself
    list_filter = (StockStatusFilter, ActiveReservationsFilter)
    search_fields = ("product_id",)
    search_help_text = _("Product id, SKU (a barcode scanner types it) or the start of a name.")
    ordering = ("product_id",)
    list_per_page = 100
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # per-filter counts are full counts too
    actions = ("set_threshold_of_selected",)
    add_fields = AddItemForm.Meta.fields
    # The item page, read-only; the version stays out of sight (the forms carry it).
    item_fields = (
        "product_id_field",
        "sku_column",
        "name_column",
        "available_column",
        "reserved_column",
        "total_column",
        "threshold_column",
        "status_column",
        "low_since_field",
        "created_field",
        "updated_column",
    )
    form = AddItemForm
    change_list_template = "admin/inventory/inventory/change_list.html"

    # --- The list's columns: translated headers, figures grouped in thousands.

    @admin.display(description=_("product"), ordering="product_id")
    def product_column(self, item: Inventory):
        return item_link(item)

    sku_column = staticmethod(column("sku", _("SKU")))
    name_column = staticmethod(column("name", _("name")))

    @admin.display(description=_("available"), ordering="available_stock")
    def available_column(self, item: Inventory):
        return figure(item.available_stock)

    @admin.display(description=_("reserved"), ordering="reserved_stock")
    def reserved_column(self, item: Inventory):
        return figure(item.reserved_stock)

    @admin.display(description=_("total"), ordering="total_stock")
    def total_column(self, item: Inventory):
        return figure(item.total_stock)

    @admin.display(description=_("threshold"), ordering="low_stock_threshold")
    def threshold_column(self, item: Inventory):
        return figure(item.low_stock_threshold)

    @admin.display(description=_("status"))
    def status_column(self, item: Inventory):
        return stock_badge(item)

    @admin.display(description=_("last change"), ordering="updated_at")
    def updated_column(self, item: Inventory) -> str:
        return when(item.updated_at)

    # --- The item page's figures, beside the ones the list shows.

    @admin.display(description=_("product id"))
    def product_id_field(self, item: Inventory) -> int:
        return item.product_id

    @admin.display(description=_("low on stock since"))
    def low_since_field(self, item: Inventory) -> str:
        return when(item.low_stock_since)

    @admin.display(description=_("created"))
    def created_field(self, item: Inventory) -> str:
        return when(item.created_at)

    # --- Pages of the model: add through the service, change page read-only, no delete.

    def get_fields(self, request, obj=None):
        return self.add_fields if obj is None else self.item_fields

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
            sku=obj.sku,
            name=obj.name,
            actor=actor_of(request),
            reason="created in the back office",  # the log's own wording, in one language
        )
        obj.pk = created.pk

    def changelist_view(self, request, extra_context=None):
        # A barcode scanner types the SKU and Enter into the search box: land on the item.
        item = self._scanned_item(request)
        if item is not None:
            return redirect("admin:inventory_inventory_change", item.pk)
        return super().changelist_view(request, extra_context)

    def _scanned_item(self, request: HttpRequest) -> Inventory | None:
        """The one item whose exact SKU or product id the search is, if exactly one is; else None."""
        term = request.GET.get(SEARCH_VAR, "").strip()
        if not term or len(term) > SKU_MAX_LENGTH or has_nul(term) or not self.has_view_permission(request):
            return None
        product_id = product_id_term(term)
        named = Q(sku=term) | Q(product_id=product_id) if product_id is not None else Q(sku=term)
        matches = list(Inventory.objects.filter(named)[:2])
        return matches[0] if len(matches) == 1 else None

    def product_view(self, request: HttpRequest, product_id: str):
        """The item page by product id (`product/<product_id>/`), for links that know only the id."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        parsed = product_id_term(product_id)
        item = Inventory.objects.filter(product_id=parsed).first() if parsed is not None else None
        if item is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, product_id)
        return redirect("admin:inventory_inventory_change", item.pk)

    # Product id, SKU or name prefix, each on its index; Django's default would cast the id to text.
    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return selectors.matching_items(queryset, product_id=product_id_term(term), term=term), False

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
        return [(form_class.title, stock_form_url(name, item)) for name, form_class in allowed_stock_forms(request)]

    def get_list_display(self, request: HttpRequest):
        """The list, with a column of links to the form pages this person may use (none if none)."""
        allowed = [name for name, _ in allowed_stock_forms(request)]
        if not allowed:
            return self.list_display

        @admin.display(description=_("change stock"))
        def stock_form_links(item: Inventory) -> str:
            links = ((stock_form_url(name, item), STOCK_FORM_LINKS[name]) for name in allowed)
            return format_html_join(" ", '<a href="{}" class="stock-form-link">{}</a>', links)

        # Last, so that the other columns keep their numbers in sort links ("o=1") for everyone.
        return (*self.list_display, stock_form_links)

    # --- Extra pages -----------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        stock_urls = object_page_urls(self, self.stock_form_view, STOCK_FORMS, "form_class")
        return [
            path("dashboard/", wrap(self.dashboard_view), name="inventory_dashboard"),
            path("product/<str:product_id>/", wrap(self.product_view), name="inventory_inventory_product"),
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
        form = form_class(data, initial=form_class.initial_from(item))
        if form.is_valid():
            changed = form.submit(product_id=item.product_id, actor=actor_of(request))
            if changed is not None:
                # The ledger has the change; the admin history ("Recent actions") shows who did it here.
                self.log_change(request, item, form.success_message(changed))
                self.message_user(request, form.success_message(changed), messages.SUCCESS)
                return redirect("admin:inventory_inventory_change", item.pk)
            item.refresh_from_db()
        return self._page(
            request,
            "admin/inventory/inventory/stock_form.html",
            _("%(form)s: product %(product)s") % {"form": form_class.title, "product": item.product_id},
            original=item,
            form=form,
        )

    @admin.action(description=_("Set one low-stock threshold for the selected items"), permissions=["change_threshold"])
    def set_threshold_of_selected(self, request: HttpRequest, queryset: QuerySet[Inventory]):
        if queryset.count() > MAX_BULK_ITEMS:
            self.message_user(
                request,
                _("Select at most %(count)s items for one threshold.") % {"count": MAX_BULK_ITEMS},
                messages.ERROR,
            )
            return None
        return self._bulk_threshold_page(request, queryset.order_by("product_id"), BulkThresholdForm())

    def has_change_threshold_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(ThresholdForm.permission)

    def bulk_threshold_view(self, request: HttpRequest):
        """Where the action's form posts: checked again, since anyone can post here."""
        require_perm(request, ThresholdForm.permission)
        if request.method != "POST":
            return redirect("admin:inventory_inventory_changelist")
        ids = primary_keys(request.POST.getlist("ids"))[:MAX_BULK_ITEMS]
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
            _("Set the low-stock threshold of several items"),
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
            self.message_user(
                request, _("Nothing was changed: %(error)s") % {"error": domain_message(error)}, messages.ERROR
            )
            return
        done = ngettext(
            "The threshold of %(count)d item is now %(threshold)s.",
            "The threshold of %(count)d items is now %(threshold)s.",
            len(items),
        )
        self.message_user(request, done % {"count": len(items), "threshold": low_stock_threshold}, messages.SUCCESS)

    def import_view(self, request: HttpRequest):
        kinds = [kind for kind in ImportKind if request.user.has_perm(kind.permission)]
        if not kinds:
            raise PermissionDenied
        if request.POST.get("kind") in ImportKind.values:
            require_perm(request, ImportKind(request.POST["kind"]).permission)
        if request.method == "POST" and "content" in request.POST:
            return self._apply_import(request, kinds)
        form = CsvImportForm(request.POST or None, request.FILES or None, kinds=kinds)
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

    def _apply_import(self, request: HttpRequest, kinds: list[ImportKind]):
        form = CsvApplyForm(request.POST)
        if not form.is_valid():
            return self._import_page(request, CsvImportForm(kinds=kinds), None)
        kind = ImportKind(form.cleaned_data["kind"])
        require_perm(request, kind.permission)
        # Checked again: the stock may have changed since the preview.
        plan = plan_import(form.cleaned_data["content"], kind, form.cleaned_data["reason"])
        if plan.is_valid:
            try:
                applied = apply_import(plan, actor=actor_of(request))
            except ImportFailed as failure:
                self.message_user(request, _("Nothing was applied: %(error)s") % {"error": failure}, messages.ERROR)
            else:
                done = ngettext("Applied %(count)d row.", "Applied %(count)d rows.", applied) % {"count": applied}
                self.message_user(request, done, messages.SUCCESS)
                return redirect("admin:inventory_inventory_changelist")
        return self._import_page(request, CsvImportForm(initial={"kind": kind}, kinds=kinds), plan)

    def _import_page(self, request, form, plan) -> TemplateResponse:
        return self._page(
            request, "admin/inventory/inventory/import.html", _("Import stock from CSV"), form=form, plan=plan
        )

    def export_view(self, request: HttpRequest):
        if not self.has_view_permission(request):
            raise PermissionDenied
        # The same filters, search and ordering as the change list the link was on.
        changelist = changelist_of(self, request)
        items = changelist.get_queryset(request).iterator(chunk_size=2000)
        response = StreamingHttpResponse(export_lines(items), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="inventory.csv"'
        return response

    @staticmethod
    def _items_of(rows: list[dict]) -> list[tuple[dict, Inventory | None]]:
        """Each row with its item, for the SKU and name: one query for them all."""
        named = Inventory.objects.in_bulk([row["product_id"] for row in rows], field_name="product_id")
        return [(row, named.get(row["product_id"])) for row in rows]

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
            _("Stock dashboard"),
            figures=selectors.dashboard_figures(
                now=now, expiring_within=EXPIRING_SOON, rate_window=TIMEOUT_RATE_WINDOW
            ),
            most_moved=most_moved,
            most_moved_items=self._items_of(most_moved),
            chart_product=chart_product,
            chart=chart,
            expiring_minutes=int(EXPIRING_SOON.total_seconds() // 60),
        )
