"""How the screens show things: figures with thousands separators, products by id, SKU and name, badges.

Column headers are translated here rather than on the model fields: a field's verbose_name is
part of its migration state, while these labels are the screens' own wording.
"""

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime

from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from inventory.exceptions import CodeInUse, InsufficientStock, InventoryError, SkuInUse, TransferNotOpen
from inventory.models import Inventory, TransferStatus
from inventory.templatetags.back_office import WHEN_FORMAT, grouped, product_label

PRODUCT_LABEL = _("product")
NOTHING = "\N{EN DASH}"  # what an empty figure or date shows


def column(field: str, label, *, sortable: bool = True) -> Callable:
    """A list column showing a model field as it is, under a translated header.

    Set it on the ModelAdmin as `<name> = staticmethod(column(...))` and list it by that name:
    the cell's CSS class is `field-<name>`.
    """

    @admin.display(description=label, ordering=field if sortable else None)
    def show(row) -> object:
        value = getattr(row, field)
        return NOTHING if value is None else value  # an item's page would print "None"

    return show


def figure_column(field: str, label, *, sortable: bool = True) -> Callable:
    """A list column showing a count as `figure` writes it; set it as `column`'s."""

    @admin.display(description=label, ordering=field if sortable else None)
    def show(row) -> SafeString | str:
        return figure(getattr(row, field))

    return show


def when_column(field: str, label) -> Callable:
    """A list column showing a moment field as `when` writes it, sortable; set it as `column`'s."""

    @admin.display(description=label, ordering=field)
    def show(row) -> str:
        return when(getattr(row, field))

    return show


def titled(filter_class: type[admin.FieldListFilter], title) -> type[admin.FieldListFilter]:
    """A field's list filter under a translated title (Django would take the field's verbose_name)."""

    class TitledFilter(filter_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.title = title

    return TitledFilter


def figure(value: int | None) -> SafeString | str:
    """A count as the person's locale writes it, grouped in thousands; CSS right-aligns `.num`."""
    if value is None:
        return NOTHING
    return format_html('<span class="num">{}</span>', grouped(value))


def when(moment: datetime | None) -> str:
    """A date and time as every screen writes it, in the server's time zone."""
    if moment is None:
        return NOTHING
    return date_format(timezone.localtime(moment), WHEN_FORMAT)


def change(before: int, after: int) -> SafeString:
    """A figure's move in one log entry, "5 → 17"."""
    return format_html('<span class="num">{} → {}</span>', grouped(before), grouped(after))


def item_url(item: Inventory) -> str:
    return reverse("admin:inventory_inventory_change", args=[item.pk])


def product_url(product_id: int) -> str:
    """The item page by product id (it redirects to the item), for screens that know only the id."""
    return reverse("admin:inventory_inventory_product", args=[product_id])


def item_link(item: Inventory) -> SafeString:
    """The product id, linking to its item."""
    return format_html('<a href="{}">{}</a>', item_url(item), item.product_id)


def product_link(item: Inventory) -> SafeString:
    """The product id linking to its item, then its SKU and name when it has them."""
    label = product_label(item)
    if not label:
        return item_link(item)
    return format_html('{} <span class="product-label" title="{}">{}</span>', item_link(item), label, label)


# The services' refusals a person can meet on the back office's forms, in their language.
# (The API's bodies keep the contract's English messages.)
DOMAIN_MESSAGES = {
    "stock_would_go_negative": _("Adjusting product %(product_id)s by %(delta)s would leave %(after)s available."),
    "product_not_found": _("No inventory record for product %(product_id)s."),
    "already_exists": _("An inventory record for product %(product_id)s exists already."),
    "warehouse_not_found": _("No warehouse %(code)s."),
    "transfer_not_found": _("No transfer %(code)s."),
    "transfer_not_open": _("Transfer %(transfer_id)s is %(status)s: it can no longer be received or cancelled."),
    "insufficient_stock": _("Not enough available stock: %(lines)s."),
    "quota_not_found": _("No quota %(code)s."),
    "quota_not_active": _("Quota %(code)s has ended."),
    "purchase_order_not_found": _("No purchase order %(code)s."),
    "presale_not_found": _("No pre-sale %(code)s."),
    "presale_not_active": _("Pre-sale %(code)s has ended."),
    "backorder_not_found": _("No backorder for order %(order_id)s."),
}
SKU_IN_USE = _("Another product has the SKU %(sku)s.")
CODE_IN_USE = _("%(code)s exists already.")
SHORT_LINE = _("product %(product_id)s, %(requested)s asked for, %(available)s available")


def domain_message(error: InventoryError) -> str:
    """A service's refusal as the screens say it; the service's own message when there is no translation."""
    template = SKU_IN_USE if isinstance(error, SkuInUse) else DOMAIN_MESSAGES.get(error.code)
    if isinstance(error, CodeInUse):
        template = CODE_IN_USE
    values = dict(error.details)
    if "available_stock" in values and "delta" in values:
        values["after"] = values["available_stock"] + values["delta"]
    if isinstance(error, InsufficientStock):
        values["lines"] = "; ".join(SHORT_LINE % asdict(line) for line in error.short_lines)
    if isinstance(error, TransferNotOpen):
        values["status"] = TransferStatus(values["status"]).label
    try:
        return template % values if template is not None else error.message
    except (KeyError, TypeError, ValueError):
        return error.message


def yes_or_nothing(value: bool) -> str:
    """A rare flag as a word, nothing when unset (Django's boolean icons say "True" and "False" in English only)."""
    return _("yes") if value else NOTHING


def yes_or_no(value: bool) -> str:
    return _("yes") if value else _("no")


def stock_badge(item: Inventory) -> SafeString:
    if not item.in_stock:
        return format_html('<span class="stock-badge stock-out">{}</span>', _("Out of stock"))
    if item.is_low_stock:
        return format_html('<span class="stock-badge stock-low">{}</span>', _("Low stock"))
    return format_html('<span class="stock-badge stock-ok">{}</span>', _("In stock"))


class StatusColumn:
    """A list's "status" column for rows with a `status` of choices, in the person's language."""

    @admin.display(description=_("status"), ordering="status")
    def status_column(self, row) -> str:
        return row.get_status_display()


class ProductColumn:
    """A list's "product" column for rows with a `product` (the log, the reservations): id, SKU, name."""

    list_select_related = ("product",)

    @admin.display(description=PRODUCT_LABEL, ordering="product_id")
    def product_column(self, row) -> SafeString:
        return product_link(row.product)
