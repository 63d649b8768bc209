"""The inventory's tables, one module per aggregate.

Every rule the services enforce is backed here by a constraint, so that a bug (or a
hand-written SQL statement) cannot store an impossible state. Nothing in this
package changes stock: `inventory.services` is the only writer.
"""

from inventory.models.api_clients import ApiClient, ApiClientRole
from inventory.models.counts import CountLine, CountSheet, CountSheetKind, CountSheetStatus
from inventory.models.idempotency import IdempotencyKey
from inventory.models.ledger import InventoryLog, LogOperation
from inventory.models.planning import AbcBasis, ItemPlan, PlanningSettings
from inventory.models.preferences import StaffPreference
from inventory.models.presales import Backorder, BackorderStatus, PreSale, PreSaleStatus
from inventory.models.purchasing import (
    OPEN_PURCHASE_ORDER_STATUSES,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Receipt,
    ReceiptLine,
)
from inventory.models.quotas import Quota, QuotaStatus
from inventory.models.reservations import Reservation, ReservationStatus
from inventory.models.snapshots import StockSnapshot
from inventory.models.stock import Inventory, InventoryRowCount, StockLevel, StockRow
from inventory.models.transfers import OPEN_TRANSFER_STATUSES, Transfer, TransferLine, TransferStatus
from inventory.models.warehouses import Pool, PoolStrategy, Warehouse

__all__ = [
    "OPEN_PURCHASE_ORDER_STATUSES",
    "OPEN_TRANSFER_STATUSES",
    "AbcBasis",
    "ApiClient",
    "ApiClientRole",
    "Backorder",
    "BackorderStatus",
    "CountLine",
    "CountSheet",
    "CountSheetKind",
    "CountSheetStatus",
    "IdempotencyKey",
    "Inventory",
    "InventoryLog",
    "InventoryRowCount",
    "ItemPlan",
    "LogOperation",
    "PlanningSettings",
    "Pool",
    "PoolStrategy",
    "PreSale",
    "PreSaleStatus",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "PurchaseOrderStatus",
    "Quota",
    "QuotaStatus",
    "Receipt",
    "ReceiptLine",
    "Reservation",
    "ReservationStatus",
    "StaffPreference",
    "StockLevel",
    "StockRow",
    "StockSnapshot",
    "Transfer",
    "TransferLine",
    "TransferStatus",
    "Warehouse",
]
