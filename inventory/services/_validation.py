"""Argument checks shared by the services: the last line of defence behind the API."""

import re
from datetime import datetime

from django.utils import timezone

from inventory import limits
from inventory.exceptions import InvalidInput

_ORDER_ID_RE = re.compile(limits.ORDER_ID_PATTERN)


def require_int(name: str, value: object, *, minimum: int, maximum: int) -> int:
    # bool is an int in Python; a quantity of True is a bug in the caller.
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InvalidInput(f"{name} must be an integer from {minimum} to {maximum}.", **{name: value})
    return value


def require_product_id(product_id: object) -> int:
    return require_int("product_id", product_id, minimum=1, maximum=limits.MAX_PRODUCT_ID)


def require_quantity(quantity: object, name: str = "quantity") -> int:
    return require_int(name, quantity, minimum=1, maximum=limits.MAX_QUANTITY)


def require_figure(name: str, value: object) -> int:
    """A figure a person gives: an opening or counted stock, a threshold."""
    return require_int(name, value, minimum=0, maximum=limits.MAX_QUANTITY)


def require_order_id(order_id: object) -> str:
    if not isinstance(order_id, str) or not _ORDER_ID_RE.fullmatch(order_id):
        raise InvalidInput(f"order_id must be {limits.ORDER_ID_RULE}.")
    return order_id


def require_sku(sku: object) -> str:
    if not limits.is_sku(sku):
        raise InvalidInput(f"sku must be {limits.SKU_RULE}.", sku=sku)
    return sku


def require_name(name: object) -> str:
    if not limits.is_product_name(name):
        raise InvalidInput(
            f"name must be printable text of at most {limits.PRODUCT_NAME_MAX_LENGTH} characters.", name=name
        )
    return name


def require_location_code(name: str, code: object) -> str:
    """A warehouse's or a pool's code."""
    if not limits.is_location_code(code):
        raise InvalidInput(f"{name} must be {limits.LOCATION_CODE_RULE}.", **{name: code})
    return code


def require_window(what: str, starts_at: object, ends_at: object, now: datetime) -> None:
    """A start and an end with their time zones, the end after the start and in the future."""
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if not isinstance(value, datetime) or timezone.is_naive(value):
            raise InvalidInput(f"{name} must be a date and time with its time zone.", **{name: str(value)})
    if ends_at <= starts_at:
        raise InvalidInput(f"{what} ends after it starts.", ends_at="Must be later than starts_at.")
    if ends_at <= now:
        raise InvalidInput(f"{what} ends in the future.", ends_at="Must be in the future.")
