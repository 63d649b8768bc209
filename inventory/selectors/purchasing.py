"""Read queries of purchase orders: an order with its lines and receipts, its ledger entries."""

from django.db.models import Prefetch, QuerySet

from inventory.models import InventoryLog, PurchaseOrder, PurchaseOrderLine, Receipt, ReceiptLine


def purchase_order_reference(order_id: int) -> str:
    """The reference every ledger entry of a purchase order's receipts carries, written and read here."""
    return f"po:{order_id}"


def purchase_orders() -> QuerySet[PurchaseOrder]:
    """Purchase orders newest first, each page's lines and receipts read in three more queries."""
    return PurchaseOrder.objects.order_by("-id").prefetch_related(
        Prefetch("lines", queryset=PurchaseOrderLine.objects.order_by("product_id")),
        Prefetch(
            "receipts",
            queryset=Receipt.objects.order_by("id").prefetch_related(
                Prefetch("lines", queryset=ReceiptLine.objects.select_related("line").order_by("line__product_id"))
            ),
        ),
    )


def purchase_order_entries(order: PurchaseOrder) -> QuerySet[InventoryLog]:
    """The ledger entries of a purchase order's receipts (one `restock` per line received), oldest first.

    Looked up by the lines' products first, as a transfer's are: the log has an index by
    product, none by reference.
    """
    products = [line.product_id for line in order.lines.all()]
    return (
        InventoryLog.objects.filter(product_id__in=products, reference=purchase_order_reference(order.pk))
        .select_related("warehouse")
        .order_by("id")
    )
