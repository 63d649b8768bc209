"""Goods on their way from one warehouse to another."""

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from inventory import limits
from inventory.models.stock import Inventory
from inventory.models.warehouses import Warehouse


class TransferStatus(models.TextChoices):
    IN_TRANSIT = "in_transit", _("In transit")
    PARTIALLY_RECEIVED = "partially_received", _("Partially received")
    RECEIVED = "received", _("Received")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_TRANSFER_STATUSES = (TransferStatus.IN_TRANSIT, TransferStatus.PARTIALLY_RECEIVED)


class Transfer(models.Model):
    """Units taken out of `source`'s available stock, in transit to `destination` until received."""

    Status = TransferStatus

    source = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="transfers_out")
    destination = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="transfers_in")
    status = models.CharField(max_length=24, choices=TransferStatus.choices, default=TransferStatus.IN_TRANSIT)
    reference = models.CharField(max_length=limits.MAX_REFERENCE_LENGTH, blank=True, default="")
    actor = models.CharField(max_length=limits.MAX_ACTOR_LENGTH)
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(source=F("destination")), name="transfer_between_two_warehouses"),
            models.CheckConstraint(condition=Q(status__in=TransferStatus.values), name="transfer_status_valid"),
        ]
        indexes = [models.Index(fields=["status", "-id"], name="transfer_status_idx")]
        permissions = [("receive_transfer", "Can receive and cancel transfers")]

    def __str__(self) -> str:
        return gettext("transfer %(id)s from %(source)s to %(destination)s") % {
            "id": self.pk,
            "source": self.source.code,
            "destination": self.destination.code,
        }

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_TRANSFER_STATUSES


class TransferLine(models.Model):
    """One product of a transfer: `quantity` sent, `received` of it arrived so far."""

    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        Inventory, to_field="product_id", db_column="product_id", on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.BigIntegerField()
    received = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("transfer line")
        verbose_name_plural = _("transfer lines")
        ordering = ["transfer_id", "product_id"]
        constraints = [
            models.UniqueConstraint(fields=["transfer", "product"], name="transferline_unique_product"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0, quantity__lte=limits.MAX_QUANTITY), name="transferline_quantity_in_range"
            ),
            models.CheckConstraint(
                condition=Q(received__gte=0, received__lte=F("quantity")), name="transferline_received_in_range"
            ),
        ]
        indexes = [models.Index(fields=["product", "transfer"], name="transferline_product_idx")]

    def __str__(self) -> str:
        return f"{self.received}/{self.quantity} of product {self.product_id}"

    @property
    def outstanding(self) -> int:
        return self.quantity - self.received
