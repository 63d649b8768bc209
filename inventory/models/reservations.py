"""Holds of stock for order lines."""

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from inventory import limits
from inventory.models.stock import Inventory
from inventory.models.warehouses import Warehouse


class ReservationStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    CONFIRMED = "confirmed", _("Confirmed")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


class Reservation(models.Model):
    """Units of one product in one warehouse held for one order line until `expires_at`."""

    Status = ReservationStatus

    product = models.ForeignKey(
        Inventory,
        to_field="product_id",
        db_column="product_id",
        on_delete=models.PROTECT,
        related_name="reservations",
        db_index=False,  # reservation_product_list_idx and the unique (product, order_id) lead with it
    )
    # The warehouse whose stock level holds the units. A line split over several
    # warehouses is one reservation per warehouse; they move together.
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="reservations")
    # The row of that level whose reserved stock holds them (0 unless the level is hot); a
    # database default too, for rows written by hand (bulk loads, the benchmarks).
    bucket = models.PositiveSmallIntegerField(default=0, db_default=0)
    order_id = models.CharField(max_length=limits.ORDER_ID_MAX_LENGTH)
    quantity = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=ReservationStatus.choices, default=ReservationStatus.ACTIVE)
    # The internal API client that first reserved the order owns it: no other client sees
    # or moves it (None: reserved in-process, by the order flows of this monolith).
    client = models.ForeignKey(
        "inventory.ApiClient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        # Its index also serves an internal client's list, walked newest first by
        # reservation_list_idx (most rows are the one order application's).
        related_name="reservations",
    )
    # The quota the line drew on, and how many of its units came from it (the rest: free stock).
    quota = models.ForeignKey(
        "inventory.Quota", null=True, blank=True, on_delete=models.PROTECT, related_name="reservations"
    )
    quota_units = models.BigIntegerField(default=0, db_default=0)
    # A late payment took the units again after the hold had expired.
    reacquired = models.BooleanField(default=False)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "order_id", "warehouse"], name="reservation_unique_product_order_warehouse"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0, quantity__lte=limits.MAX_QUANTITY), name="reservation_quantity_in_range"
            ),
            models.CheckConstraint(condition=Q(status__in=ReservationStatus.values), name="reservation_status_valid"),
            models.CheckConstraint(
                condition=Q(quota__isnull=True, quota_units=0)
                | Q(quota__isnull=False, quota_units__gt=0, quota_units__lte=F("quantity")),
                name="reservation_quota_units_in_range",
            ),
            models.CheckConstraint(
                condition=Q(reacquired=False) | Q(status="confirmed"),
                name="reservation_reacquired_only_confirmed",
            ),
        ]
        indexes = [
            models.Index(fields=["expires_at"], name="reservation_active_exp_idx", condition=Q(status="active")),
            # The reservations list (API and admin) is newest first, whole or filtered by one
            # of these: each index hands out its rows in that order, so no list sorts the table.
            models.Index(fields=["-created_at", "-id"], name="reservation_list_idx"),
            models.Index(fields=["order_id", "-created_at", "-id"], name="reservation_order_list_idx"),
            models.Index(fields=["product", "-created_at", "-id"], name="reservation_product_list_idx"),
            models.Index(fields=["status", "-created_at", "-id"], name="reservation_status_list_idx"),
            models.Index(
                fields=["product", "expires_at"],
                name="reservation_product_act_idx",
                condition=Q(status="active"),
            ),
        ]

    def __str__(self) -> str:
        return gettext("order %(order)s: %(quantity)s of product %(product)s (%(status)s)") % {
            "order": self.order_id,
            "quantity": self.quantity,
            "product": self.product_id,
            "status": self.get_status_display(),
        }
