"""Holds of stock for order lines."""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

from inventory import limits
from inventory.models.stock import Inventory


class ReservationStatus(models.TextChoices):
    ACTIVE = "active"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class Reservation(models.Model):
    """Units of one product held for one order line until `expires_at`."""

    Status = ReservationStatus

    product = models.ForeignKey(
        Inventory,
        to_field="product_id",
        db_column="product_id",
        on_delete=models.PROTECT,
        related_name="reservations",
    )
    order_id = models.CharField(max_length=limits.ORDER_ID_MAX_LENGTH)
    quantity = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=ReservationStatus.choices, default=ReservationStatus.ACTIVE)
    # A late payment took the units again after the hold had expired.
    reacquired = models.BooleanField(default=False)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "order_id"], name="reservation_unique_product_order"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0, quantity__lte=limits.MAX_QUANTITY), name="reservation_quantity_in_range"
            ),
            models.CheckConstraint(condition=Q(status__in=ReservationStatus.values), name="reservation_status_valid"),
            models.CheckConstraint(
                condition=Q(reacquired=False) | Q(status="confirmed"),
                name="reservation_reacquired_only_confirmed",
            ),
        ]
        indexes = [
            models.Index(fields=["expires_at"], name="reservation_active_exp_idx", condition=Q(status="active")),
            models.Index(fields=["order_id"], name="reservation_order_idx"),
            models.Index(
                fields=["product", "expires_at"],
                name="reservation_product_act_idx",
                condition=Q(status="active"),
            ),
        ]

    def __str__(self) -> str:
        return f"order {self.order_id}: {self.quantity} of product {self.product_id} ({self.status})"
