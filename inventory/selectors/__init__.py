"""Reads: querysets and dataclasses for the API, the admin, the digest and the ledger check.

Nothing here writes, and nothing here shapes JSON: the API's serializers do that.
"""

from inventory.selectors.api_clients import client_with_token
from inventory.selectors.checks import BatchCheck, Check, check_product, check_products
from inventory.selectors.preferences import preferred_language
from inventory.selectors.stock import (
    HOLD_ENDINGS,
    MOVING_OPERATIONS,
    DashboardFigures,
    LedgerDiscrepancy,
    active_reservations_of,
    count_overdue_reservations,
    dashboard_figures,
    empty_levels,
    item_log,
    ledger_discrepancies,
    levels_of,
    low_levels,
    low_stock_items,
    matching_items,
    most_moved_items,
    stock_history,
    whole_inventory_count,
)

__all__ = [
    "HOLD_ENDINGS",
    "MOVING_OPERATIONS",
    "BatchCheck",
    "Check",
    "DashboardFigures",
    "LedgerDiscrepancy",
    "active_reservations_of",
    "check_product",
    "check_products",
    "client_with_token",
    "count_overdue_reservations",
    "dashboard_figures",
    "empty_levels",
    "item_log",
    "ledger_discrepancies",
    "levels_of",
    "low_levels",
    "low_stock_items",
    "matching_items",
    "most_moved_items",
    "preferred_language",
    "stock_history",
    "whole_inventory_count",
]
