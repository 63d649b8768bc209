"""Template filters of the back office and the digest: counts grouped in thousands, products by name."""

from django import template
from django.utils.formats import get_format

register = template.Library()


@register.filter
def grouped(value: object) -> str:
    """A count as the active language writes it, grouped in thousands ("1,234,567").

    Anything else (a value a CSV row got wrong, say) is shown as it is; None as nothing.
    """
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        # Groups of three, as the shop's books write them in both languages; Django's zh-hans
        # format has no thousands separator, so a comma stands in where the locale has none.
        return f"{value:,}".replace(",", get_format("THOUSAND_SEPARATOR") or ",")
    return str(value)


# Dates and times on every screen: one unambiguous form in every language, as the stock chart has.
WHEN_FORMAT = "Y-m-d H:i"


@register.filter
def product_label(item) -> str:
    """How people name an item's product: "SKU · name", either alone, or empty."""
    if item is None:
        return ""
    return " · ".join(part for part in (item.sku, item.name) if part)
