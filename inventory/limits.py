"""Every bound and pattern of the inventory, once.

The models' constraints, the services' checks, the API's fields, the admin's forms,
the CSV import and the OpenAPI document all read them from here, so that no two of
them can disagree on a range.
"""

import re
from datetime import timedelta

# Identifiers (the contract's "Conventions").
MAX_PRODUCT_ID = 2**63 - 1
ORDER_ID_MAX_LENGTH = 64
ORDER_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"
ORDER_ID_RULE = "1 to 64 characters of A-Z, a-z, 0-9, '.', '_', ':' or '-'"

# Quantities. One bound serves every figure a caller gives: a quantity moved
# (1..MAX_QUANTITY), a signed adjustment (-MAX_QUANTITY..MAX_QUANTITY; 0 records a
# count that confirmed the figure), a counted or opening figure and a threshold
# (0..MAX_QUANTITY). Sums of them stay far inside bigint, so no change of stock
# can overflow a column.
MAX_QUANTITY = 1_000_000_000
MAX_VERSION = 2**63 - 1
DEFAULT_LOW_STOCK_THRESHOLD = 10

# A product's names, as the product domain gives them: a SKU (what a barcode scanner
# types) and a display name. Both optional; a SKU is unique among products that have one.
SKU_MAX_LENGTH = 64
SKU_PATTERN = r"^[A-Za-z0-9._:/-]{0,64}$"
SKU_RULE = "up to 64 characters of A-Z, a-z, 0-9, '.', '_', ':', '/' or '-'"
PRODUCT_NAME_MAX_LENGTH = 200
# Any text but control characters (C0, DEL, C1).
PRODUCT_NAME_PATTERN = "^[^\u0000-\u001f\u007f-\u009f]{0,200}$"

# Warehouses and pools (the contract's "Warehouses, pools and transfers"). A code is
# how every caller names one; it never changes once created.
LOCATION_CODE_MAX_LENGTH = 32
LOCATION_CODE_PATTERN = r"^[a-z0-9-]{1,32}$"
LOCATION_CODE_RULE = "1 to 32 characters of a-z, 0-9 or '-'"
DEFAULT_WAREHOUSE = "default"
EVERY_WAREHOUSE_POOL = "all"
WAREHOUSE_NAME_MAX_LENGTH = 200
REGION_MAX_LENGTH = 64
# Lower is preferred; the range leaves room to slot a warehouse in between.
MIN_PRIORITY = -1_000_000
MAX_PRIORITY = 1_000_000
MAX_LATITUDE = 90
MAX_LONGITUDE = 180
MAX_POOL_WAREHOUSES = 200
MAX_TRANSFER_LINES = 100
# A hot level spreads its available stock over 1..MAX_BUCKETS rows (1: not hot).
MAX_BUCKETS = 64

# Quotas (campaigns and customer tiers): a code names one as a location code names a
# warehouse; a customer tier is a code of the same form. Lower priority is served first.
QUOTA_NAME_MAX_LENGTH = 200
# A quota's customer tier: a code, or "" for none (then only lines that name the quota draw on it).
QUOTA_TIER_PATTERN = r"^[a-z0-9-]{0,32}$"
MIN_QUOTA_PRIORITY = 0
MAX_QUOTA_PRIORITY = 1_000

# Orders and holds.
MAX_LINES_PER_ORDER = 100
MAX_TTL_SECONDS = 86_400
DEFAULT_EXPIRY_BATCH_SIZE = 500
MAX_EXPIRY_BATCH_SIZE = 100_000

# The public batch check.
MAX_BATCH_ITEMS = 200

# Purchase orders and available-to-promise (issue 16). A line's units received may pass
# what was ordered (an over-delivery is recorded), never MAX_QUANTITY. ATP answers for
# today and the next days, 1..MAX_ATP_DAYS of them; its batch form as many products as a check.
MAX_PURCHASE_ORDER_LINES = 100
SUPPLIER_NAME_MAX_LENGTH = 200
MAX_ATP_DAYS = 90
DEFAULT_ATP_DAYS = 14
MAX_ATP_BATCH_ITEMS = MAX_BATCH_ITEMS

# Free text on a change of stock.
MAX_REASON_LENGTH = 1_000
MAX_REFERENCE_LENGTH = 255
MAX_ACTOR_LENGTH = 150

# Idempotency keys and API credentials.
MAX_IDEMPOTENCY_KEY_LENGTH = 255
MAX_TOKEN_LENGTH = 200
CLIENT_NAME_MAX_LENGTH = 100
CLIENT_NAME_PATTERN = r"^[A-Za-z0-9._@+-]{1,100}$"


# Counting (issue 17): count sheets, their tolerance, cycle counts. A unit value (what one
# unit is worth, for a variance's value and ABC by value) has MAX_DIGITS digits, PLACES after the point.
UNIT_VALUE_MAX_DIGITS = 14
UNIT_VALUE_DECIMAL_PLACES = 4
# A tolerance in percent of the expected figure: 0 to 100, two decimal places.
TOLERANCE_PERCENT_MAX_DIGITS = 5
TOLERANCE_PERCENT_DECIMAL_PLACES = 2
MAX_TOLERANCE_PERCENT = 100
# A list sheet names 1..MAX_COUNT_LIST_PRODUCTS products; a proposed cycle sheet holds at most
# MAX_CYCLE_SHEET_LINES, the most overdue first (a day's work for one counter).
MAX_COUNT_LIST_PRODUCTS = 1_000
MAX_CYCLE_SHEET_LINES = 200
# How often an item of each ABC class is counted, in days (A monthly, B quarterly, C yearly).
CYCLE_COUNT_INTERVAL_DAYS = {"A": 30, "B": 91, "C": 365}


def is_sku(value: object) -> bool:
    """Whether `value` is "" (none) or a SKU; the length first, so the one-class pattern reads at most 64."""
    return isinstance(value, str) and len(value) <= SKU_MAX_LENGTH and _SKU_RE.fullmatch(value) is not None


def is_product_name(value: object) -> bool:
    """Text without control characters within the length limit, checked the same way."""
    return (
        isinstance(value, str)
        and len(value) <= PRODUCT_NAME_MAX_LENGTH
        and _PRODUCT_NAME_RE.fullmatch(value) is not None
    )


# A warehouse's or a pool's name, a region: any text but control characters.
LABEL_PATTERN = "^[^\u0000-\u001f\u007f-\u009f]*$"


def is_label(value: object, max_length: int) -> bool:
    """Text of at most `max_length` characters, none a control character (the length first: linear time)."""
    return isinstance(value, str) and len(value) <= max_length and _CONTROL_CHARACTER_RE.search(value) is None


def is_location_code(value: object) -> bool:
    """A warehouse's or a pool's code."""
    return (
        isinstance(value, str)
        and len(value) <= LOCATION_CODE_MAX_LENGTH
        and _LOCATION_CODE_RE.fullmatch(value) is not None
    )


_SKU_RE = re.compile(SKU_PATTERN)
_LOCATION_CODE_RE = re.compile(LOCATION_CODE_PATTERN)
_CONTROL_CHARACTER_RE = re.compile("[\u0000-\u001f\u007f-\u009f]")
_PRODUCT_NAME_RE = re.compile(PRODUCT_NAME_PATTERN)

# Planning (issue 17): forecasts, safety stock and ABC classes. A lead time, a review
# period, a forecast horizon and a demand window are whole days up to a year; a service
# level is the wanted chance of no stock-out in a cycle, MIN_SERVICE_LEVEL <= s < 1
# (below a half the safety stock would be negative).
MAX_PLANNING_DAYS = 366
# A demand window shorter than a week says nothing of a weekly pattern; a level is counted at most daily.
MIN_DEMAND_WINDOW_DAYS = 7
MIN_COUNT_INTERVAL_DAYS = 1
DEFAULT_LEAD_TIME_DAYS = 7
DEFAULT_DEMAND_WINDOW_DAYS = 90
MIN_SERVICE_LEVEL = 0.5
DEFAULT_SERVICE_LEVEL = 0.95

# Snapshots (docs/snapshots.md). A day's snapshot also reads the entries created this long
# before the day began: a transaction that started before midnight but committed after one
# of the day's entries of the same row is the row's newer state, and the day's figure is
# the row after its newest entry. A stock row's lock is never held that long.
SNAPSHOT_LATE_ENTRY_GRACE = timedelta(hours=1)
# How many snapshot rows one INSERT carries (the first snapshot holds every row).
SNAPSHOT_BATCH_SIZE = 5000
