"""Goods ordered from suppliers: purchase orders, their lines and the receipts of them.

A purchase order is stock on its way into one of our warehouses: its open lines are
incoming stock (`inventory.selectors.atp`), and each receipt restocks that warehouse
through the services (a `restock` entry per line, its reference `po:<id>`). Goods
arrive in parts; a line's `received` may pass what was ordered (an over-delivery is
recorded, not refused) and may stay short of it: closing the order ends what is still
outstanding, and the line keeps both figures. A receipt and its lines are never changed.
"""

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from inventory import limits
from inventory.models.stock import Inventory
from inventory.models.warehouses import Warehouse


class PurchaseOrderStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PARTIALLY_RECEIVED = "partially_received", _("Partially received")
    RECEIVED = "received", _("Received")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


# Receipts are taken, and the outstanding units count as incoming, only in these.
OPEN_PURCHASE_ORDER_STATUSES = (PurchaseOrderStatus.OPEN, PurchaseOrderStatus.PARTIALLY_RECEIVED)
# The statuses a person ended the order with (and said why).
ENDED_PURCHASE_ORDER_STATUSES = (PurchaseOrderStatus.CLOSED, PurchaseOrderStatus.CANCELLED)


class PurchaseOrder(models.Model):
    """Goods ordered from a supplier for one warehouse: open until received whole, closed
    (what is outstanding will not come) or cancelled (before anything arrived)."""

    Status = PurchaseOrderStatus

    supplier = models.CharField(max_length=limits.SUPPLIER_NAME_MAX_LENGTH)
    # The supplier's own number of the order (their order confirmation).
    supplier_reference = models.CharField(max_length=limits.MAX_REFERENCE_LENGTH, blank=True, default="")
    warehouse = models.ForeignKey(
        Warehouse,
        on_delete=models.PROTECT,
        related_name="purchase_orders",
        db_index=False,  # the index (warehouse, -id) leads with it
    )
    status = models.CharField(max_length=24, choices=PurchaseOrderStatus.choices, default=PurchaseOrderStatus.OPEN)
    note = models.CharField(max_length=limits.MAX_REASON_LENGTH, blank=True, default="")
    actor = models.CharField(max_length=limits.MAX_ACTOR_LENGTH)
    # Who closed or cancelled it, and why.
    ended_by = models.CharField(max_length=limits.MAX_ACTOR_LENGTH, blank=True, default="")
    end_reason = models.CharField(max_length=limits.MAX_REASON_LENGTH, blank=True, default="")
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = _("purchase order")
        verbose_name_plural = _("purchase orders")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=PurchaseOrderStatus.values), name="purchaseorder_status_valid"
            ),
            models.CheckConstraint(condition=~Q(supplier=""), name="purchaseorder_supplier_named"),
            models.CheckConstraint(
                condition=Q(status__in=ENDED_PURCHASE_ORDER_STATUSES) | Q(ended_by="", end_reason=""),
                name="purchaseorder_ended_by_only_when_ended",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-id"], name="purchaseorder_status_idx"),
            models.Index(fields=["warehouse", "-id"], name="purchaseorder_warehouse_idx"),
        ]
        permissions = [("receive_purchaseorder", "Can receive, close and cancel purchase orders")]

    def __str__(self) -> str:
        return gettext("purchase order %(id)s from %(supplier)s for %(warehouse)s") % {
            "id": self.pk,
            "supplier": self.supplier,
            "warehouse": self.warehouse.code,
        }

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_PURCHASE_ORDER_STATUSES


class PurchaseOrderLine(models.Model):
    """One product of a purchase order: `quantity` ordered, `received` of it so far, and the
    day it is expected. `received` is the sum of the line's receipt lines."""

    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        Inventory, to_field="product_id", db_column="product_id", on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.BigIntegerField()
    received = models.BigIntegerField(default=0)
    expected_date = models.DateField()

    class Meta:
        verbose_name = _("purchase order line")
        verbose_name_plural = _("purchase order lines")
        ordering = ["order_id", "product_id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "product"], name="purchaseorderline_unique_product"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0, quantity__lte=limits.MAX_QUANTITY),
                name="purchaseorderline_quantity_in_range",
            ),
            # An over-delivery is recorded: received may pass quantity, never MAX_QUANTITY.
            models.CheckConstraint(
                condition=Q(received__gte=0, received__lte=limits.MAX_QUANTITY),
                name="purchaseorderline_received_in_range",
            ),
        ]
        indexes = [
            # ATP: the lines of a product still outstanding, by the day they are due.
            models.Index(
                fields=["product", "expected_date", "order"],
                name="purchaseorderline_due_idx",
                condition=Q(received__lt=F("quantity")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.received}/{self.quantity} of product {self.product_id}"

    @property
    def outstanding(self) -> int:
        """Units still to come (0 once as many arrived as were ordered, or more)."""
        return max(self.quantity - self.received, 0)


class Receipt(models.Model):
    """One delivery against a purchase order: who took it in, when, its delivery note."""

    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="receipts")
    reference = models.CharField(max_length=limits.MAX_REFERENCE_LENGTH, blank=True, default="")
    actor = models.CharField(max_length=limits.MAX_ACTOR_LENGTH)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ["order_id", "id"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return gettext("receipt %(id)s of purchase order %(order)s") % {"id": self.pk, "order": self.order_id}


class ReceiptLine(models.Model):
    """The units of one purchase-order line that one receipt brought."""

    receipt = models.ForeignKey(Receipt, on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey(PurchaseOrderLine, on_delete=models.CASCADE, related_name="receipt_lines")
    quantity = models.BigIntegerField()

    class Meta:
        verbose_name = _("receipt line")
        verbose_name_plural = _("receipt lines")
        ordering = ["receipt_id", "line_id"]
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["receipt", "line"], name="receiptline_unique_line"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0, quantity__lte=limits.MAX_QUANTITY), name="receiptline_quantity_in_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of line {self.line_id}"
