"""The only code that changes stock.

Views, the admin, Celery tasks, management commands and orders_integration call
these functions; none of them writes a stock column itself. Each function is one
short transaction: a guarded conditional UPDATE per row and the ledger entries,
committed together.
"""

from inventory.models.ledger import SYSTEM_ACTOR
from inventory.services.api_clients import (
    IssuedToken,
    create_api_client,
    issue_token,
    reactivate_api_client,
    revoke_api_client,
    rotate_token,
)
from inventory.services.counts import (
    approve_lines,
    cancel_sheet,
    create_count_sheet,
    get_count_sheet,
    post_sheet,
    propose_cycle_sheet,
    propose_todays_cycle_sheets,
    record_count,
)
from inventory.services.hot import make_hot, rebalance_hot_levels
from inventory.services.planning import refresh_plans, set_item_plan, set_planning_settings
from inventory.services.preferences import remember_language
from inventory.services.presales import (
    cancel_backorders,
    change_presale,
    create_presale,
    end_presale,
    get_presale,
)
from inventory.services.purchasing import (
    PurchaseOrderLineInput,
    ReceiptLineInput,
    cancel_purchase_order,
    close_purchase_order,
    create_purchase_order,
    get_purchase_order,
    receive_purchase_order,
)
from inventory.services.quotas import change_quota, create_quota, end_due_quotas, end_quota
from inventory.services.reservations import (
    ReservationLine,
    ReserveResult,
    Routing,
    deduct_reservations,
    expire_overdue_reservations,
    release_reservations,
    reserve_stock,
)
from inventory.services.stock import adjust_stock, create_inventory, restock, set_low_stock_threshold
from inventory.services.transfers import (
    TransferLineInput,
    cancel_transfer,
    create_transfer,
    get_transfer,
    receive_transfer,
)
from inventory.services.warehouses import (
    create_pool,
    create_warehouse,
    delete_pool,
    delete_warehouse,
    update_pool,
    update_warehouse,
)

__all__ = [
    "SYSTEM_ACTOR",
    "IssuedToken",
    "PurchaseOrderLineInput",
    "ReceiptLineInput",
    "ReservationLine",
    "ReserveResult",
    "Routing",
    "TransferLineInput",
    "adjust_stock",
    "approve_lines",
    "cancel_backorders",
    "cancel_purchase_order",
    "cancel_sheet",
    "cancel_transfer",
    "change_presale",
    "change_quota",
    "close_purchase_order",
    "create_api_client",
    "create_count_sheet",
    "create_inventory",
    "create_pool",
    "create_presale",
    "create_purchase_order",
    "create_quota",
    "create_transfer",
    "create_warehouse",
    "deduct_reservations",
    "delete_pool",
    "delete_warehouse",
    "end_due_quotas",
    "end_presale",
    "end_quota",
    "expire_overdue_reservations",
    "get_count_sheet",
    "get_presale",
    "get_purchase_order",
    "get_transfer",
    "issue_token",
    "make_hot",
    "post_sheet",
    "propose_cycle_sheet",
    "propose_todays_cycle_sheets",
    "reactivate_api_client",
    "rebalance_hot_levels",
    "receive_purchase_order",
    "receive_transfer",
    "record_count",
    "refresh_plans",
    "release_reservations",
    "remember_language",
    "reserve_stock",
    "restock",
    "revoke_api_client",
    "rotate_token",
    "set_item_plan",
    "set_low_stock_threshold",
    "set_planning_settings",
    "update_pool",
    "update_warehouse",
]
