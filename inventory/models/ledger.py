"""The ledger: one entry per change of a stock row, never changed afterwards."""

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from inventory import limits
from inventory.models.stock import Inventory
from inventory.models.warehouses import Warehouse

# The actor of the changes the service makes by itself (the expiry of overdue holds).
SYSTEM_ACTOR = "system"


class AppendOnlyQuerySet(models.QuerySet):
    """Refuses bulk updates and deletes; the database trigger is the backstop."""

    def update(self, **kwargs):
        raise TypeError("The inventory log is append-only.")

    def delete(self):
        raise TypeError("The inventory log is append-only.")


class LogOperation(models.TextChoices):
    CREATE = "create", _("Create")
    RESERVE = "reserve", _("Reserve")
    RELEASE = "release", _("Release")
    DEDUCT = "deduct", _("Deduct")
    EXPIRE = "expire", _("Expire")
    RESTOCK = "restock", _("Restock")
    ADJUST = "adjust", _("Adjust")
    THRESHOLD = "threshold", _("Threshold")
    TRANSFER_OUT = "transfer_out", _("Transfer out")
    TRANSFER_IN = "transfer_in", _("Transfer in")
    TRANSFER_RETURN = "transfer_return", _("Transfer return")
    # Units moved between the rows of one hot level (quantity: the row's signed change).
    REBALANCE = "rebalance", _("Rebalance")
    # Units of available stock set aside for a quota, returned from one to free stock, or a
    # quota's terms changed (quantity 0). A draw on a quota is a `reserve` that names it.
    QUOTA_SET = "quota_set", _("Quota set aside")
    QUOTA_RETURN = "quota_return", _("Quota returned")
    QUOTA_CHANGE = "quota_change", _("Quota changed")
    # Units that arrived shipped to a backorder sold ahead of stock: they leave available stock as a sale.
    BACKORDER_FILL = "backorder_fill", _("Backorder filled")


class InventoryLog(models.Model):
    """The ledger: one row per change of a stock row, never changed afterwards."""

    Operation = LogOperation
    # What a log entry shows, in the contract's order (the API and the admin).
    ENTRY_FIELDS = (
        "id",
        "product_id",
        "warehouse",
        "bucket",
        "operation",
        "quantity",
        "available_before",
        "available_after",
        "reserved_before",
        "reserved_after",
        "order_id",
        "actor",
        "reason",
        "reference",
        "created_at",
    )
    # What an entry of a quota adds (the ledger shows them beside the contract's fields).
    QUOTA_FIELDS = ("quota", "allotted_change")

    product = models.ForeignKey(
        Inventory,
        to_field="product_id",
        db_column="product_id",
        on_delete=models.PROTECT,
        related_name="log_entries",
        db_constraint=True,
    )
    # The row the entry changed (a level's, or one of a hot level's buckets); its
    # before/after values are that row's. Entries from before buckets existed are row 0's.
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="log_entries")
    bucket = models.PositiveSmallIntegerField(default=0, db_default=0)
    operation = models.CharField(max_length=16, choices=LogOperation.choices)
    quantity = models.BigIntegerField()
    available_before = models.BigIntegerField()
    available_after = models.BigIntegerField()
    reserved_before = models.BigIntegerField()
    reserved_after = models.BigIntegerField()
    order_id = models.CharField(max_length=limits.ORDER_ID_MAX_LENGTH, blank=True, default="")
    actor = models.CharField(max_length=limits.MAX_ACTOR_LENGTH)
    reason = models.TextField(blank=True, default="")
    reference = models.CharField(max_length=limits.MAX_REFERENCE_LENGTH, blank=True, default="")
    # The quota the entry set aside, returned or drew units of, and its change of the row's
    # `allotted_stock`: the row's and each quota's set-aside units replay as their sums.
    # Database defaults, so the hand-written statements (which never touch quotas) need not name them.
    quota = models.ForeignKey(
        "inventory.Quota", null=True, blank=True, on_delete=models.PROTECT, related_name="log_entries"
    )
    allotted_change = models.BigIntegerField(default=0, db_default=0)
    # The backorder a `backorder_fill` shipped units to: its `filled` replays as their sum.
    backorder = models.ForeignKey(
        "inventory.Backorder",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fills",
        db_index=False,  # inventorylog_backorder_idx, of the entries that name one
    )
    created_at = models.DateTimeField(db_default=Now())

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("inventory log entry")
        verbose_name_plural = _("inventory log")
        ordering = ["-id"]
        indexes = [
            models.Index(F("product"), F("id").desc(), name="invlog_product_newest_idx"),
            models.Index(fields=["order_id"], name="inventorylog_order_idx", condition=~Q(order_id="")),
            models.Index(fields=["created_at"], name="inventorylog_created_idx"),
            models.Index(fields=["backorder"], name="inventorylog_backorder_idx", condition=Q(backorder__isnull=False)),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(operation__in=LogOperation.values),
                name="inventorylog_operation_valid",
            ),
            models.CheckConstraint(
                condition=Q(available_after__gte=0, reserved_after__gte=0),
                name="inventorylog_after_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(operation)s %(quantity)s of product %(product)s") % {
            "operation": self.get_operation_display(),
            "quantity": self.quantity,
            "product": self.product_id,
        }

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("The inventory log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The inventory log is append-only.")
