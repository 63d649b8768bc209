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
from inventory.services.preferences import remember_language
from inventory.services.reservations import (
    ReservationLine,
    ReserveResult,
    deduct_reservations,
    expire_overdue_reservations,
    release_reservations,
    reserve_stock,
)
from inventory.services.stock import adjust_stock, create_inventory, restock, set_low_stock_threshold

__all__ = [
    "SYSTEM_ACTOR",
    "IssuedToken",
    "ReservationLine",
    "ReserveResult",
    "adjust_stock",
    "create_api_client",
    "create_inventory",
    "deduct_reservations",
    "expire_overdue_reservations",
    "issue_token",
    "reactivate_api_client",
    "release_reservations",
    "remember_language",
    "reserve_stock",
    "restock",
    "revoke_api_client",
    "rotate_token",
    "set_low_stock_threshold",
]
