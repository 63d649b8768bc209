"""Checks of untrusted text that take time linear in its length, shared by the API and the admin.

Every input a caller types goes through one of these before anything else reads it.
None of them runs a regular expression that can backtrack: a length is checked
first, then plain string methods (`isascii`, `isdigit`, `in`), or, for an order
id, a pattern of one character class with a bounded repeat, which reads each
character once and never more than 65 of them.
"""

import re

from inventory import limits

# A decimal integer in a query string or a form: leading zeros are allowed, and
# 30 digits hold any bigint with room for them. It also keeps int() far from
# Python's 4,300-digit limit, past which int() raises instead of answering.
MAX_DECIMAL_DIGITS = 30

_ORDER_ID_RE = re.compile(limits.ORDER_ID_PATTERN)


def ascii_decimal(raw: str) -> int | None:
    """`raw` as an int if it is an optional '-' and 1..30 ASCII digits; otherwise None.

    `str.isdigit()` alone is not enough: '²' is a digit to it and int() refuses it,
    and int() itself takes U+0661 (an Arabic-Indic one), '1_000' and ' +1'.
    """
    digits = raw[1:] if raw.startswith("-") else raw
    if not 0 < len(digits) <= MAX_DECIMAL_DIGITS or not (digits.isascii() and digits.isdigit()):
        return None
    return int(raw)


def ascii_int(raw: str, minimum: int, maximum: int) -> int | None:
    """`raw` as an int if it is ASCII digits (see ascii_decimal) in [minimum, maximum]; otherwise None."""
    value = ascii_decimal(raw)
    return value if value is not None and minimum <= value <= maximum else None


def has_nul(text: str) -> bool:
    """PostgreSQL cannot store U+0000 in a text column, nor take it as a query parameter."""
    return "\x00" in text


def is_order_id(value) -> bool:
    """The contract's order id: a str of 1..64 characters of [A-Za-z0-9._:-]."""
    return type(value) is str and len(value) <= limits.ORDER_ID_MAX_LENGTH and _ORDER_ID_RE.fullmatch(value) is not None
