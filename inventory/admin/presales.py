"""The pre-sale screens (预售): let a level's units be sold ahead of stock up to a limit, change the
limit or the window, end a pre-sale; and the backorders it sold, each with its batches (分批发货),
cancelled by staff when the goods will not come.

Every change goes through `inventory.services` with the staff member as actor, and into the
admin history; a refusal of the service is shown on the form, and nothing is half done. The
lists and pages are read-only and need `view_presale` (backorders too: they are the
pre-sales' lines); creating, changing and ending a pre-sale and cancelling a backorder need
`manage_presale`, as in the API.
"""

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.validators import MinValueValidator
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from inventory import limits, services
from inventory.admin.common import code_or_product, order_id_term, product_id_term
from inventory.admin.documents import ChangesForm, DocumentAdmin, ServiceForm, WindowForm
from inventory.admin.forms import WarehouseChoiceField, code_field, shown_moment
from inventory.admin.presentation import (
    NOTHING,
    ProductColumn,
    StatusColumn,
    column,
    domain_message,
    figure_column,
    titled,
    when_column,
)
from inventory.exceptions import InvalidInput, InventoryError, PurchaseOrderNotFound
from inventory.models import Backorder, InventoryLog, PreSale
from inventory.selectors.presales import presales
from inventory.templatetags.back_office import grouped

VIEW_PERMISSION = "inventory.view_presale"
MANAGE_PERMISSION = "inventory.manage_presale"
# A pre-sale's page lists this many of its backorders, oldest first (the order they are filled in).
SHOWN_BACKORDERS = 500
NOT_BROUGHT = _("Purchase order %(order)s does not bring product %(product)s to %(warehouse)s.")


class PreSaleTermsForm(WindowForm):
    """What a pre-sale's creation and its change share: the limit and the window."""

    limit = forms.IntegerField(
        label=_("Limit"),
        min_value=1,
        max_value=limits.MAX_QUANTITY,
        help_text=_("Units that may be sold ahead of stock."),
    )
    detail_fields = {"limit": "limit", "starts_at": "starts_at", "ends_at": "ends_at"}
    ends_after_start = _("A pre-sale ends after it starts.")
    ends_in_future = _("A pre-sale ends in the future.")


class PreSaleAddForm(PreSaleTermsForm):
    template = "form.html"
    intro = _(
        "A pre-sale changes no stock: reserve lines that may backorder sell up to its limit ahead of stock, "
        "and what arrives at the level ships to their backorders, oldest first."
    )
    button = _("Create the pre-sale")

    code = code_field(_("Code"), _("Names the pre-sale everywhere, in the API too; it never changes."))
    product_id = forms.IntegerField(label=_("Product id"), min_value=1, max_value=limits.MAX_PRODUCT_ID)
    warehouse = WarehouseChoiceField(
        label=_("Warehouse"),
        initial=limits.DEFAULT_WAREHOUSE,
        help_text=_("The level whose arrivals fill its backorders."),
    )
    purchase_order_id = forms.IntegerField(
        label=_("Purchase order"),
        required=False,
        min_value=1,
        max_value=limits.MAX_PRODUCT_ID,
        help_text=_("Optional: the purchase order it sells against, one that brings the product to this warehouse."),
    )
    field_order = ["code", "product_id", "warehouse", "limit", "starts_at", "ends_at", "purchase_order_id"]
    detail_fields = {
        **PreSaleTermsForm.detail_fields,
        "code": "code",
        "product_id": "product_id",
        "purchase_order_id": "purchase_order_id",
    }

    def __init__(self, data=None):
        super().__init__(data)
        self.fields["starts_at"].initial = shown_moment(timezone.now())

    def submit(self, *, actor: str) -> PreSale | None:
        data = dict(self.cleaned_data)
        data["warehouse"] = data["warehouse"].code
        return self.call(services.create_presale, **data, actor=actor)

    def refused(self, error: InventoryError) -> None:
        # An unknown order's details name its id `code`, which here is the pre-sale's.
        if isinstance(error, PurchaseOrderNotFound):
            self.add_error("purchase_order_id", domain_message(error))
        elif isinstance(error, InvalidInput) and "purchase_order_id" in error.details:
            data = self.cleaned_data
            self.add_error(
                "purchase_order_id",
                NOT_BROUGHT
                % {
                    "order": data["purchase_order_id"],
                    "product": data["product_id"],
                    "warehouse": data["warehouse"].code,
                },
            )
        else:
            super().refused(error)


class PreSaleChangeForm(ChangesForm, PreSaleTermsForm):
    """The pre-sale's limit and window as they are; only what the person changes is sent."""

    title = _("Change the pre-sale")
    template = "form.html"
    intro = _("The limit is the units that may be sold ahead in all, those sold included: never fewer than sold.")
    button = _("Save the changes")

    def __init__(self, data=None, *, presale: PreSale):
        self.presale = presale
        shown = {
            "limit": presale.limit,
            "starts_at": shown_moment(presale.starts_at),
            "ends_at": shown_moment(presale.ends_at),
        }
        super().__init__(data, shown=shown)
        if presale.sold > 1:  # never below sold: the service would refuse it in English
            self.fields["limit"].validators.append(MinValueValidator(presale.sold))
            self.fields["limit"].widget.attrs["min"] = presale.sold
        self.fields["limit"].help_text = _("%(sold)s sold already.") % {"sold": grouped(presale.sold)}

    def submit(self, *, actor: str) -> PreSale | None:
        return self.call(services.change_presale, code=self.presale.code, **self.changes(), actor=actor)

    def done(self, after: PreSale) -> str:
        if not self.changes():
            return _("Pre-sale %(code)s: nothing was changed.") % {"code": after.code}
        return _("Pre-sale %(code)s changed: %(sold)s of %(limit)s units sold.") % {
            "code": after.code,
            "sold": grouped(after.sold),
            "limit": grouped(after.limit),
        }


class PreSaleEndForm(ServiceForm):
    title = _("End the pre-sale")
    template = "form.html"
    intro = _("End this pre-sale now? Nothing more is sold ahead on it; its open backorders stay and are still filled.")
    button = _("Yes, end it")

    def __init__(self, data=None, *, presale: PreSale):
        super().__init__(data)
        self.presale = presale

    def submit(self, *, actor: str) -> PreSale | None:
        return self.call(services.end_presale, code=self.presale.code, actor=actor)

    def done(self, after: PreSale) -> str:
        return _("Pre-sale %(code)s ended: %(sold)s units were sold ahead, %(outstanding)s still to fill.") % {
            "code": after.code,
            "sold": grouped(after.sold),
            "outstanding": grouped(after.outstanding),
        }


class BackorderCancelForm(ServiceForm):
    """Cancel what the order's open backorders of the product still wait for (the service's unit:
    an order backorders a product once per warehouse, so the page lists every one it cancels)."""

    title = _("Cancel the backorder")
    template = "cancel.html"
    button = _("Yes, cancel it")

    def __init__(self, data=None, *, backorder: Backorder):
        super().__init__(data)
        self.backorder = backorder

    def cancelled(self):
        """The backorders the cancel takes: the order's open ones of the product, in every warehouse."""
        return Backorder.objects.filter(
            order_id=self.backorder.order_id, product_id=self.backorder.product_id, status=Backorder.Status.OPEN
        ).select_related("presale", "warehouse")

    def submit(self, *, actor: str) -> Backorder | None:
        after = self.call(
            services.cancel_backorders,
            order_id=self.backorder.order_id,
            product_id=self.backorder.product_id,
            actor=actor,
        )
        return None if after is None else next(row for row in after if row.pk == self.backorder.pk)

    def done(self, after: Backorder) -> str:
        return _(
            "Order %(order)s, product %(product)s: %(units)s units backordered will not come; "
            "%(filled)s shipped stay shipped."
        ) % {
            "order": after.order_id,
            "product": after.product_id,
            "units": grouped(after.quantity - after.filled),
            "filled": grouped(after.filled),
        }


# The steps of an active pre-sale and of an open backorder, each a page under its URL: URL name -> form.
PRESALE_STEPS: dict[str, type[PreSaleChangeForm | PreSaleEndForm]] = {"terms": PreSaleChangeForm, "end": PreSaleEndForm}
BACKORDER_STEPS = {"cancel": BackorderCancelForm}


def presale_link(presale: PreSale) -> SafeString:
    return format_html(
        '<a href="{}">{}</a>', reverse("admin:inventory_presale_change", args=[presale.pk]), presale.code
    )


@admin.register(PreSale)
class PreSaleAdmin(StatusColumn, ProductColumn, DocumentAdmin):
    """Created through the add page, changed only by the steps' services."""

    templates = "admin/inventory/presale"
    step_permission = MANAGE_PERMISSION
    steps = PRESALE_STEPS
    add_form = PreSaleAddForm
    add_title = _("Create a pre-sale")
    add_template = "form.html"
    document_argument = "presale"

    list_display = (
        "code_column",
        "product_column",
        "warehouse_column",
        "limit_column",
        "sold_column",
        "filled_column",
        "outstanding_column",
        "status_column",
        "starts_column",
        "ends_column",
        "purchase_order_column",
    )
    fields = (*list_display, "actor_column", "created_column", "updated_column")
    readonly_fields = fields
    list_filter = (
        ("status", titled(admin.ChoicesFieldListFilter, _("status"))),
        ("warehouse", titled(admin.RelatedFieldListFilter, _("warehouse"))),
    )
    list_select_related = ("product", "warehouse")
    search_fields = ("code",)
    search_help_text = _("A pre-sale's code, or the start of one; a product id.")
    list_per_page = 100
    change_form_template = "admin/inventory/presale/change_form.html"

    code_column = staticmethod(column("code", _("code")))
    warehouse_column = staticmethod(column("warehouse", _("warehouse"), sortable=False))
    actor_column = staticmethod(column("actor", _("created by"), sortable=False))
    limit_column = staticmethod(figure_column("limit", _("limit")))
    sold_column = staticmethod(figure_column("sold", _("sold")))
    filled_column = staticmethod(figure_column("filled", _("shipped")))
    outstanding_column = staticmethod(figure_column("outstanding", _("to fill")))
    starts_column = staticmethod(when_column("starts_at", _("starts")))
    ends_column = staticmethod(when_column("ends_at", _("ends")))
    created_column = staticmethod(when_column("created_at", _("created")))
    updated_column = staticmethod(when_column("updated_at", _("last change")))

    @admin.display(description=_("purchase order"), ordering="purchase_order_id")
    def purchase_order_column(self, presale: PreSale) -> SafeString | str:
        if presale.purchase_order_id is None:
            return NOTHING
        url = reverse("admin:inventory_purchaseorder_change", args=[presale.purchase_order_id])
        return format_html('<a href="{}">{}</a>', url, presale.purchase_order_id)

    def get_queryset(self, request):
        return presales()

    def has_add_permission(self, request):
        return request.user.has_perm(MANAGE_PERMISSION)

    def get_search_results(self, request, queryset, search_term):
        return code_or_product(queryset, search_term), False

    # --- Pages -----------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        presale = self.get_object(request, unquote(object_id))
        if presale is not None:
            backorders = presale.backorders.order_by("id")
            extra_context = {
                **(extra_context or {}),
                "backorders": backorders[:SHOWN_BACKORDERS],
                "backorder_count": backorders.count(),
                "shown_backorders": SHOWN_BACKORDERS,
                "step_links": self.step_links(request, presale),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def is_open(self, document: PreSale) -> bool:
        return document.status == PreSale.Status.ACTIVE

    def added(self, document: PreSale) -> str:
        return _(
            "Pre-sale %(code)s created: up to %(limit)s units of product %(product)s "
            "may be sold ahead in %(warehouse)s."
        ) % {
            "code": document.code,
            "limit": grouped(document.limit),
            "product": document.product_id,
            "warehouse": document.warehouse.code,
        }

    def not_open(self, document: PreSale) -> str:
        return _("Pre-sale %(code)s has ended: it can no longer be changed.") % {"code": document.code}

    def step_title(self, step: type[ServiceForm], document: PreSale) -> str:
        return _("%(step)s: pre-sale %(code)s") % {"step": step.title, "code": document.code}


@admin.register(Backorder)
class BackorderAdmin(StatusColumn, ProductColumn, DocumentAdmin):
    """Made by reserves only; read-only but for its one step, the cancel."""

    templates = "admin/inventory/backorder"
    step_permission = MANAGE_PERMISSION
    steps = BACKORDER_STEPS
    document_argument = "backorder"

    list_display = (
        "order_column",
        "presale_column",
        "product_column",
        "warehouse_column",
        "quantity_column",
        "filled_column",
        "outstanding_column",
        "status_column",
        "created_column",
    )
    fields = (*list_display, "client_column", "updated_column")
    readonly_fields = fields
    list_filter = (
        ("status", titled(admin.ChoicesFieldListFilter, _("status"))),
        ("warehouse", titled(admin.RelatedFieldListFilter, _("warehouse"))),
    )
    list_select_related = ("presale", "product", "warehouse")
    search_fields = ("order_id",)
    search_help_text = _("The exact order id, or a product id.")
    list_per_page = 100
    change_form_template = "admin/inventory/backorder/change_form.html"

    order_column = staticmethod(column("order_id", _("order")))
    warehouse_column = staticmethod(column("warehouse", _("warehouse"), sortable=False))
    client_column = staticmethod(column("client", _("API client"), sortable=False))
    quantity_column = staticmethod(figure_column("quantity", _("units")))
    filled_column = staticmethod(figure_column("filled", _("shipped")))
    outstanding_column = staticmethod(figure_column("outstanding", _("to fill"), sortable=False))
    created_column = staticmethod(when_column("created_at", _("placed")))
    updated_column = staticmethod(when_column("updated_at", _("last change")))

    @admin.display(description=_("pre-sale"), ordering="presale__code")
    def presale_column(self, backorder: Backorder) -> SafeString:
        return presale_link(backorder.presale)

    # Backorders are the pre-sales' lines: whoever sees pre-sales sees them.
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(VIEW_PERMISSION)

    def has_add_permission(self, request):
        return False

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        order_id = order_id_term(term)
        matches = Q(order_id=order_id) if order_id is not None else Q(pk__in=[])
        number = product_id_term(term)
        if number is not None:
            matches |= Q(product_id=number)
        return queryset.filter(matches), False

    # --- Pages -----------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        backorder = self.get_object(request, unquote(object_id))
        if backorder is not None:
            extra_context = {
                **(extra_context or {}),
                "batches": backorder.fills.filter(operation=InventoryLog.Operation.BACKORDER_FILL).order_by("id"),
                "step_links": self.step_links(request, backorder),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def is_open(self, document: Backorder) -> bool:
        return document.status == Backorder.Status.OPEN

    def not_open(self, document: Backorder) -> str:
        return _("The backorder of order %(order)s is %(status)s: there is nothing to cancel.") % {
            "order": document.order_id,
            "status": document.get_status_display(),
        }

    def step_title(self, step: type[ServiceForm], document: Backorder) -> str:
        return _("%(step)s: order %(order)s, product %(product)s") % {
            "step": step.title,
            "order": document.order_id,
            "product": document.product_id,
        }
