"""The low-stock digest: one email listing every item at or below its threshold."""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from inventory.models import Inventory
from inventory.selectors import low_stock_items

TEXT_TEMPLATE = "email/low_stock_digest.txt"
HTML_TEMPLATE = "email/low_stock_digest.html"


@dataclass(frozen=True)
class LowStockDigest:
    items: list[Inventory]
    message: EmailMultiAlternatives

    @property
    def recipients(self) -> list[str]:
        return self.message.to


def build_low_stock_digest() -> LowStockDigest | None:
    """The digest of the items low on stock right now, most urgent first; None when none is.

    Raises ImproperlyConfigured when items are low but INVENTORY_LOW_STOCK_RECIPIENTS
    names nobody: the digest would go nowhere.
    """
    items = list(low_stock_items())
    if not items:
        return None
    recipients = list(settings.INVENTORY_LOW_STOCK_RECIPIENTS)
    if not recipients:
        raise ImproperlyConfigured(
            f"{len(items)} item(s) are low on stock but INVENTORY_LOW_STOCK_RECIPIENTS is empty."
        )
    context = {
        "items": [{"item": item, "admin_url": _admin_url(item)} for item in items],
        "inventory_url": settings.INVENTORY_BASE_URL + reverse("admin:inventory_inventory_changelist"),
    }
    message = EmailMultiAlternatives(
        subject=f"Low stock: {len(items)} item(s)",
        body=render_to_string(TEXT_TEMPLATE, context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )
    message.attach_alternative(render_to_string(HTML_TEMPLATE, context), "text/html")
    return LowStockDigest(items, message)


def _admin_url(item: Inventory) -> str:
    return settings.INVENTORY_BASE_URL + reverse("admin:inventory_inventory_change", args=[item.pk])
