"""Pre-sale: units of a product sold ahead of stock in one warehouse, and the backorders
of the orders that bought them, filled in batches as goods arrive (预售, 分批发货).

A pre-sale (`PreSale`) lets reserves sell up to `limit` units of a level that are not
there yet; `sold` counts what its backorders took of that limit. A backorder
(`Backorder`) is one order's line of units sold ahead: `filled` grows as arrivals at its
level ship units to it (each fill a `backorder_fill` ledger entry naming it), until it is
`filled`; what is cancelled before it came gives its units back to the pre-sale's limit.
Nothing here is stock: a backorder holds no unit until a fill takes it out of available
stock, as a sale.
"""

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from inventory import limits
from inventory.models.purchasing import PurchaseOrder
from inventory.models.stock import Inventory
from inventory.models.warehouses import Warehouse


class PreSaleStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")


class PreSale(models.Model):
    """Up to `limit` units of a product in one warehouse that reserves may sell ahead of
    stock between `starts_at` and `ends_at`, while the pre-sale is active.

    `sold` is what its backorders took of the limit: their units, less what was cancelled
    before it came. An ended pre-sale takes no new backorder; its open ones are still filled.
    """

    Status = PreSaleStatus

    code = models.CharField(max_length=limits.LOCATION_CODE_MAX_LENGTH, unique=True)
    product = models.ForeignKey(
        Inventory, to_field="product_id", db_column="product_id", on_delete=models.PROTECT, related_name="presales"
    )
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="presales")
    limit = models.BigIntegerField()
    sold = models.BigIntegerField(default=0)
    # The supply it sells against (informative: arrivals of any kind fill its backorders).
    purchase_order = models.ForeignKey(
        PurchaseOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="presales"
    )
    status = models.CharField(max_length=16, choices=PreSaleStatus.choices, default=PreSaleStatus.ACTIVE)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    actor = models.CharField(max_length=limits.MAX_ACTOR_LENGTH)
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = _("pre-sale")
        verbose_name_plural = _("pre-sales")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=limits.LOCATION_CODE_PATTERN), name="presale_code_valid"),
            models.CheckConstraint(
                condition=Q(limit__gt=0, limit__lte=limits.MAX_QUANTITY), name="presale_limit_in_range"
            ),
            models.CheckConstraint(condition=Q(sold__gte=0, sold__lte=F("limit")), name="presale_sold_within_limit"),
            models.CheckConstraint(condition=Q(status__in=PreSaleStatus.values), name="presale_status_valid"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="presale_ends_after_start"),
        ]
        indexes = [
            # A reserve's open pre-sales of its products, lowest id first.
            models.Index(fields=["product", "id"], name="presale_active_product_idx", condition=Q(status="active")),
        ]
        permissions = [("manage_presale", "Can create, change and end pre-sales")]

    def __str__(self) -> str:
        return gettext("pre-sale %(code)s: %(sold)s of %(limit)s of product %(product)s sold") % {
            "code": self.code,
            "sold": self.sold,
            "limit": self.limit,
            "product": self.product_id,
        }


class BackorderStatus(models.TextChoices):
    OPEN = "open", _("Open")
    FILLED = "filled", _("Filled")
    CANCELLED = "cancelled", _("Cancelled")


class Backorder(models.Model):
    """An order's units of a product sold ahead of stock on a pre-sale, shipped in batches
    as goods arrive at its level (`filled` so far), oldest backorder first."""

    Status = BackorderStatus

    presale = models.ForeignKey(PreSale, on_delete=models.PROTECT, related_name="backorders")
    order_id = models.CharField(max_length=limits.ORDER_ID_MAX_LENGTH)
    # The internal API client that owns the order, as a reservation's (None: in-process).
    client = models.ForeignKey(
        "inventory.ApiClient", null=True, blank=True, on_delete=models.PROTECT, related_name="backorders"
    )
    product = models.ForeignKey(
        Inventory,
        to_field="product_id",
        db_column="product_id",
        on_delete=models.PROTECT,
        related_name="backorders",
        db_index=False,  # backorder_open_level_idx leads with it
    )
    # The pre-sale's warehouse: the level whose arrivals fill it.
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="backorders")
    quantity = models.BigIntegerField()
    filled = models.BigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=BackorderStatus.choices, default=BackorderStatus.OPEN)
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = _("backorder")
        verbose_name_plural = _("backorders")
        ordering = ["-id"]
        constraints = [
            # An order backorders a product once per warehouse, until that backorder is cancelled.
            models.UniqueConstraint(
                fields=["order_id", "product", "warehouse"],
                condition=~Q(status="cancelled"),
                name="backorder_unique_live_line",
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0, quantity__lte=limits.MAX_QUANTITY), name="backorder_quantity_in_range"
            ),
            models.CheckConstraint(
                condition=Q(filled__gte=0, filled__lte=F("quantity")), name="backorder_filled_within_quantity"
            ),
            models.CheckConstraint(condition=Q(status__in=BackorderStatus.values), name="backorder_status_valid"),
            # Filled exactly when every unit came.
            models.CheckConstraint(
                condition=Q(status="filled", filled=F("quantity"))
                | (~Q(status="filled") & Q(filled__lt=F("quantity"))),
                name="backorder_filled_when_complete",
            ),
        ]
        indexes = [
            # An arrival's open backorders of its level, oldest first.
            models.Index(
                fields=["product", "warehouse", "id"], name="backorder_open_level_idx", condition=Q(status="open")
            ),
            # An order's lines, whatever their status.
            models.Index(fields=["order_id"], name="backorder_order_idx"),
        ]

    def __str__(self) -> str:
        return gettext("order %(order)s: %(filled)s of %(quantity)s of product %(product)s (%(status)s)") % {
            "order": self.order_id,
            "filled": self.filled,
            "quantity": self.quantity,
            "product": self.product_id,
            "status": self.get_status_display(),
        }

    @property
    def outstanding(self) -> int:
        """Units still to come: none once filled or cancelled."""
        return self.quantity - self.filled if self.status == BackorderStatus.OPEN else 0
