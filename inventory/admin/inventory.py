"""The inventory screens: the list, an item's page, its form pages, bulk threshold, CSV, dashboard."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import SEARCH_VAR
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from inventory import limits, selectors, services
from inventory.admin.charts import StockChart, stock_chart
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
    CODE_RULE,
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
    HotLevelForm,
    RestockForm,
    StockChangeForm,
    ThresholdForm,
)
from inventory.admin.paginator import EstimatedCountPaginator
from inventory.admin.presentation import column, domain_message, figure, item_link, stock_badge, when
from inventory.admin.reservations import EXPIRING_SOON
from inventory.admin.snapshots import stock_on_day_view
from inventory.exceptions import InventoryError
from inventory.limits import SKU_MAX_LENGTH
from inventory.models import Inventory, StockLevel, StockRow, Warehouse
from inventory.parsing import has_nul
from inventory.replica import replica_reads

LOG_PAGE_SIZE = 25
# The query parameter that names a warehouse: the list's filter, a form page's level, the dashboard's.
WAREHOUSE_VAR = "warehouse"
ITEM_RESERVATIONS_SHOWN = 50
# One threshold for at most this many items at once: each is a logged change in one transaction.
MAX_BULK_ITEMS = 1000
TIMEOUT_RATE_WINDOW = timedelta(hours=24)
# Beside the status badge of an item with a hot level.
HOT_MARKER = _("hot")
HOT_MARKER_TITLE = _("A level of this item is spread over several rows for a flash sale.")
# The form pages that change stock, on the list's rows and the item's page: URL name -> form.
STOCK_FORMS: dict[str, type[StockChangeForm]] = {
    "restock": RestockForm,
    "adjust": AdjustForm,
    "threshold": ThresholdForm,
}
# Every form page of one level, reachable from the item's page; a level's flash sale rows are
# set rarely, so the list's rows (one line each at 1366 px) do not link to them.
LEVEL_FORMS: dict[str, type[StockChangeForm]] = {**STOCK_FORMS, "hot": HotLevelForm}
# What the links of the list's "change stock" column and of each level call its form pages: short.
STOCK_FORM_LINKS = {
    "restock": _("Restock"),
    "adjust": _("Adjust"),
    "threshold": _("Threshold"),
    "hot": _("Flash sale"),
}


def allowed_stock_forms(
    request: HttpRequest, forms: dict[str, type[StockChangeForm]] = STOCK_FORMS
) -> list[tuple[str, type[StockChangeForm]]]:
    """The form pages of `forms` this person may use."""
    return [(name, form_class) for name, form_class in forms.items() if request.user.has_perm(form_class.permission)]


def stock_form_url(name: str, item: Inventory, warehouse: str | None = None) -> str:
    """A form page of the item; of its level in `warehouse` when one is named (else `default`'s)."""
    url = reverse(f"admin:inventory_inventory_{name}", args=[item.pk])
    return url if warehouse is None else f"{url}?{urlencode({WAREHOUSE_VAR: warehouse})}"


def _warehouse_or(code: str, otherwise: Warehouse) -> Warehouse:
    """The warehouse with this code, or `otherwise` should it have been deleted meanwhile."""
    return Warehouse.objects.filter(code=code).first() or otherwise


# What a level that is not opened yet shows: its first row's defaults.
OPENING_FIGURES = (
    "buckets",
    "available_stock",
    "reserved_stock",
    "in_transit",
    "low_stock_threshold",
    "low_stock_since",
    "version",
)


def level_in(item: Inventory, warehouse: Warehouse) -> StockLevel:
    """The item's level in `warehouse`; if it has none yet, the one its first change opens (unsaved, empty)."""
    level = selectors.levels_of(item.product_id).filter(warehouse=warehouse).select_related("warehouse").first()
    if level is None:
        # A level is a view of its rows, with no defaults of its own: its first row's figures, unsaved.
        opened = StockRow(product_id=item.product_id, warehouse=warehouse)
        level = StockLevel(
            product_id=item.product_id,
            warehouse=warehouse,
            **{name: getattr(opened, name) for name in OPENING_FIGURES},
            total_stock=0,  # generated by the database once the row is saved
        )
    return level


def hot_rows() -> QuerySet[StockRow]:
    """The rows of the outer query's product that make a level of it hot: the own row of a level with N > 1.

    Lingering bucket rows of a level turned off (they wait for their holds to end) do
    not count: "hot" is what the level's page shows, its N.
    """
    return StockRow.objects.filter(product_id=OuterRef("product_id"), buckets__gt=1)


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
    # Of the product's sums; with a warehouse, WarehouseFilter asks the same of that level (low_levels, empty_levels).
    conditions = {
        "low": (_("Low stock (at or below threshold)"), Q(available_stock__lte=F("low_stock_threshold"))),
        "out": (_("Out of stock"), Q(available_stock=0)),
    }

    def queryset(self, request, queryset):
        if request.GET.get(WAREHOUSE_VAR):
            return queryset  # the condition is then that warehouse's level's: WarehouseFilter applies it
        return super().queryset(request, queryset)


class WarehouseFilter(admin.SimpleListFilter):
    """Products with a stock level in one warehouse; the figures shown stay the product's sums."""

    title = _("stock level in warehouse")
    help_text = _(
        "The figures shown stay each product's sums over all warehouses; low stock, out of stock and hot are "
        "this warehouse's."
    )
    parameter_name = WAREHOUSE_VAR
    template = "admin/inventory/help_filter.html"

    def lookups(self, request, model_admin):
        return [(code, code) for code in Warehouse.objects.order_by("priority", "code").values_list("code", flat=True)]

    def queryset(self, request, queryset):
        code = self.value()
        if not code:
            return queryset
        if not limits.is_location_code(code):
            raise IncorrectLookupParameters(_("A warehouse code is %(rule)s.") % {"rule": gettext(CODE_RULE)})
        # A level is there when its own row is; a low or empty one is read from the rows' index
        # of low rows (`low_levels`): the view of levels would first sum the rows of every level.
        of_level = {"product_id": OuterRef("product_id"), "warehouse__code": code}
        levels = {"low": selectors.low_levels, "out": selectors.empty_levels}.get(
            request.GET.get(StockStatusFilter.parameter_name)
        )
        if levels is None:
            return queryset.filter(Exists(StockRow.objects.filter(bucket=0, **of_level)))
        return queryset.filter(Exists(levels(**of_level)))


class HotFilter(admin.SimpleListFilter):
    """Products with a hot level (in the chosen warehouse, when the list is narrowed to one)."""

    title = _("flash sale rows")
    parameter_name = "hot"

    def lookups(self, request, model_admin):
        return [("yes", _("Hot (spread over several rows)")), ("no", _("Not hot"))]

    def queryset(self, request, queryset):
        if self.value() not in ("yes", "no"):
            return queryset
        rows = hot_rows()
        code = request.GET.get(WAREHOUSE_VAR)
        if code and limits.is_location_code(code):  # a malformed code is WarehouseFilter's error
            rows = rows.filter(warehouse__code=code)
        return queryset.filter(Exists(rows) if self.value() == "yes" else ~Exists(rows))


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
    list_filter = (StockStatusFilter, ActiveReservationsFilter, HotFilter, WarehouseFilter)
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
        if not item.has_hot_level:
            return stock_badge(item)
        return format_html(
            '{} <span class="product-label" title="{}">{}</span>', stock_badge(item), HOT_MARKER_TITLE, HOT_MARKER
        )

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

    def get_queryset(self, request):
        # Whether the item has a hot level, for the status column: one index probe per row shown,
        # in the page's own query (the list fetches a page's rows by key, with their figures).
        return super().get_queryset(request).annotate(has_hot_level=Exists(hot_rows()))

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
        # existing product id. The opening figures are the form's: they are no fields of the product.
        created = services.create_inventory(
            product_id=obj.product_id,
            available_stock=form.cleaned_data["available_stock"],
            low_stock_threshold=form.cleaned_data["low_stock_threshold"],
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
        active = selectors.active_reservations_of(item.product_id).select_related("warehouse")
        levels = list(selectors.levels_of(item.product_id).select_related("warehouse"))
        allowed = [name for name, _ in allowed_stock_forms(request, LEVEL_FORMS)]
        return {
            "stock_links": self._stock_links(request, item),
            # Each level with the links to its form pages this person may use.
            "levels": [(level, self._level_links(item, level, allowed)) for level in levels],
            "log_page": Paginator(
                selectors.item_log(item.product_id).select_related("warehouse"), LOG_PAGE_SIZE
            ).get_page(request.GET.get("log_page")),
            "active_reservations": active[:ITEM_RESERVATIONS_SHOWN],
            "active_reservation_count": active.count(),
            "chart": item_chart(item.product_id, now=timezone.now(), levels=levels),
        }

    @staticmethod
    def _level_links(item: Inventory, level: StockLevel, allowed: list[str]) -> list[tuple[str, str]]:
        return [(STOCK_FORM_LINKS[name], stock_form_url(name, item, level.warehouse.code)) for name in allowed]

    def _stock_links(self, request: HttpRequest, item: Inventory) -> list[tuple[str, str]]:
        """The form pages this person may use: a button for each, none for the others."""
        allowed = allowed_stock_forms(request, LEVEL_FORMS)
        return [(form_class.title, stock_form_url(name, item)) for name, form_class in allowed]

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
        stock_urls = object_page_urls(self, self.stock_form_view, LEVEL_FORMS, "form_class")
        return [
            path("dashboard/", wrap(self.dashboard_view), name="inventory_dashboard"),
            path("product/<str:product_id>/", wrap(self.product_view), name="inventory_inventory_product"),
            path("threshold/", wrap(self.bulk_threshold_view), name="inventory_inventory_bulk_threshold"),
            path("import/", wrap(self.import_view), name="inventory_inventory_import"),
            path("export/", wrap(self.export_view), name="inventory_inventory_export"),
            path("on-a-day/", wrap(partial(stock_on_day_view, self)), name="inventory_inventory_on_day"),
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
        """A form page of one of the item's levels: `default`'s, or that of `?warehouse=<code>`.

        Posted, the page shows the level the form chose, as it now is (after a refusal, its
        current figures).
        """
        require_perm(request, form_class.permission)
        item = self.get_object(request, unquote(object_id))
        if item is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        shown = self._chosen_warehouse(request) or Warehouse.objects.get(code=limits.DEFAULT_WAREHOUSE)
        data = request.POST if request.method == "POST" else None
        form = form_class(data, initial=form_class.initial_from(item, level_in(item, shown)))
        valid = form.is_valid()
        if form.is_bound and "warehouse" in form.cleaned_data:
            shown = _warehouse_or(form.cleaned_data["warehouse"], shown)
        if valid:
            changed = form.submit(product_id=item.product_id, actor=actor_of(request))
            if changed is not None:
                message = form.success_message(changed, level_in(changed, shown))
                # The ledger has the change; the admin history ("Recent actions") shows who did it here.
                self.log_change(request, item, message)
                self.message_user(request, message, messages.SUCCESS)
                return redirect("admin:inventory_inventory_change", item.pk)
        elif getattr(form, "switched_to", None) is not None:
            form.show_level(level_in(item, shown))
        return self._page(
            request,
            "admin/inventory/inventory/stock_form.html",
            _("%(form)s: product %(product)s") % {"form": form_class.title, "product": item.product_id},
            original=item,
            level=level_in(item, shown),
            form=form,
        )

    def _chosen_warehouse(self, request: HttpRequest) -> Warehouse | None:
        """The warehouse `?warehouse=<code>` names; None, with a message if a code was given, when none does."""
        code = request.GET.get(WAREHOUSE_VAR, "")
        found = Warehouse.objects.filter(code=code).first() if limits.is_location_code(code) else None
        if found is None and code:
            self.message_user(request, _("No warehouse %(code)s.") % {"code": code[:40]}, messages.ERROR)
        return found

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

    @replica_reads
    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        """The dashboard of every warehouse, or of the one `?warehouse=<code>` names (its levels, holds and log)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        warehouse = self._chosen_warehouse(request)
        warehouse_id = None if warehouse is None else warehouse.pk
        now = timezone.now()
        start_of_day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        most_moved = selectors.most_moved_items(since=start_of_day, warehouse_id=warehouse_id)
        asked_product = chart_product = product_id_term(request.GET.get("product", ""))
        if chart_product is None and most_moved:
            chart_product = most_moved[0]["product_id"]
        chart = None
        if chart_product is not None:
            levels = selectors.levels_of(chart_product)
            levels = list(levels if warehouse_id is None else levels.filter(warehouse_id=warehouse_id))
            chart = item_chart(chart_product, now=now, levels=levels, warehouse_id=warehouse_id)
        return self._page(
            request,
            "admin/inventory/dashboard.html",
            _("Stock dashboard"),
            figures=selectors.dashboard_figures(
                now=now, expiring_within=EXPIRING_SOON, rate_window=TIMEOUT_RATE_WINDOW, warehouse_id=warehouse_id
            ),
            warehouse=warehouse,
            warehouses=Warehouse.objects.order_by("priority", "code").values_list("code", flat=True),
            # The lists the figures link to, narrowed to the warehouse as the figures are.
            inventory_filter="" if warehouse is None else f"&{urlencode({WAREHOUSE_VAR: warehouse.code})}",
            reservation_filter="" if warehouse is None else f"&warehouse__id__exact={warehouse.pk}",
            most_moved=most_moved,
            most_moved_items=self._items_of(most_moved),
            asked_product=asked_product,  # kept when another warehouse is chosen; the most moved is its own
            chart_product=chart_product,
            chart=chart,
            expiring_minutes=int(EXPIRING_SOON.total_seconds() // 60),
        )


def item_chart(
    product_id: int, *, now: datetime, levels: Sequence[StockLevel] = (), warehouse_id: int | None = None
) -> StockChart | None:
    """The stock chart of a product's sums over its levels, or of its level in one warehouse."""
    entries = selectors.stock_history(product_id, warehouse_id=warehouse_id)
    return stock_chart(product_id, entries, now=now, levels=levels)
