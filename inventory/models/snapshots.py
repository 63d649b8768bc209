"""Daily snapshots of the stock rows: where a past day's figures and a shortened replay start.

A snapshot of every level, stored as what changed: a row has a snapshot for a day when
one of its ledger entries was created that day, or when it had none before (the first
snapshot ever holds every row). A row's figures at the end of day D are those of its
latest snapshot at or before D, moved on by its entries after `last_entry_id` created
before D's end (`selectors/snapshots.py`, docs/snapshots.md).
"""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from inventory.models.stock import Inventory
from inventory.models.warehouses import Warehouse


class StockSnapshot(models.Model):
    """One stock row at the end of one day (UTC): its after-figures of the ledger entry `last_entry_id`.

    Available and reserved only: those the row's ledger chain proves entry by entry.
    `in_transit` belongs to transfers and `allotted_stock` to quotas (each replays from
    its own records), so a past day's figure of either would be a second, unproven copy.
    """

    day = models.DateField()
    # The row by its key, not a foreign key to it: a hot level's bucket rows are dropped, their snapshots stay.
    product = models.ForeignKey(
        Inventory,
        to_field="product_id",
        db_column="product_id",
        on_delete=models.PROTECT,
        related_name="snapshots",
        db_index=False,  # the unique (product, warehouse, bucket, day) leads with it
    )
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="snapshots")
    bucket = models.PositiveSmallIntegerField()
    available = models.BigIntegerField()
    reserved = models.BigIntegerField()
    # The row's entry whose after-figures these are: the entries after it continue its chain.
    last_entry_id = models.BigIntegerField()
    taken_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = _("stock snapshot")
        verbose_name_plural = _("stock snapshots")
        ordering = ["product_id", "warehouse_id", "bucket", "-day"]
        default_permissions = ()
        constraints = [
            # Row first, day last: "the latest snapshot of this row at or before D" is one index probe.
            models.UniqueConstraint(
                fields=["product", "warehouse", "bucket", "day"], name="stocksnapshot_unique_row_day"
            ),
            models.CheckConstraint(
                condition=Q(available__gte=0, reserved__gte=0, last_entry_id__gt=0),
                name="stocksnapshot_figures_non_negative",
            ),
        ]
        indexes = [models.Index(fields=["day"], name="stocksnapshot_day_idx")]

    def __str__(self) -> str:
        return f"{self.product_id}/{self.warehouse_id}/{self.bucket} on {self.day}"
