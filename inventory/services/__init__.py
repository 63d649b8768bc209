"""The only code that changes stock.

Views, the admin, Celery tasks, management commands and orders_integration call
these functions; none of them writes a stock column itself. Each function is one
short transaction: a guarded conditional UPDATE per row and the ledger entries,
committed together.
"""

from inventory.services._ledger import SYSTEM_ACTOR
from inventory.services.reservations import (
    ReservationLine,
    ReserveResult,
    count_overdue_reservations,
    deduct_reservations,
    expire_overdue_reservations,
    release_reservations,
    reserve_stock,
)
from inventory.services.stock import adjust_stock, create_inventory, restock, set_low_stock_threshold

__all__ = [
    "SYSTEM_ACTOR",
    "ReservationLine",
    "ReserveResult",
    "adjust_stock",
    "count_overdue_reservations",
    "create_inventory",
    "deduct_reservations",
    "expire_overdue_reservations",
    "release_reservations",
    "reserve_stock",
    "restock",
    "set_low_stock_threshold",
]
