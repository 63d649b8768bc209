"""Products, their stock levels (one per warehouse) and the rows of each, and the exact count of the products."""

from django.db import models
from django.db.models import Aggregate, Case, F, Max, Min, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, Now
from django.db.models.lookups import LessThanOrEqual
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from inventory import limits
from inventory.models.warehouses import Warehouse


class InventoryQuerySet(models.QuerySet):
    def with_figures(self) -> "InventoryQuerySet":
        """Each product's figures, summed over its stock rows (every level's, every bucket's).

        Correlated subqueries, so a page of products sums only its own rows; a product
        without levels shows zeros. Never stored on the product's row: every reserve
        would then queue on it, whatever the warehouse.
        """
        available, threshold = _level_total("available_stock"), _level_total("low_stock_threshold")
        return self.annotate(
            available_stock=available,
            reserved_stock=_level_total("reserved_stock"),
            in_transit=_level_total("in_transit"),
            low_stock_threshold=threshold,
            version=_level_total("version"),
            updated_at=Coalesce(_level_figure(Max("updated_at")), F("created_at")),
            # Some level is low whenever the sums are: the earliest of those (a level's is its row 0's).
            low_stock_since=Case(
                When(LessThanOrEqual(available, threshold), then=_level_figure(Min("low_stock_since"), bucket=0)),
                default=Value(None, output_field=models.DateTimeField()),
            ),
        ).annotate(total_stock=F("available_stock") + F("reserved_stock"))


class InventoryManager(models.Manager.from_queryset(InventoryQuerySet)):
    def get_queryset(self) -> InventoryQuerySet:
        return super().get_queryset().with_figures()


class StockFigures:
    """What the contract derives from a record's figures: a product's (sums) or a level's."""

    available_stock: int
    low_stock_threshold: int

    @property
    def is_low_stock(self) -> bool:
        return self.available_stock <= self.low_stock_threshold

    @property
    def in_stock(self) -> bool:
        return self.available_stock > 0


class Inventory(StockFigures, models.Model):
    """A product the inventory keeps: its names here, its stock in its levels (`StockLevel`).

    `objects` shows the contract's record: the figures are sums over the levels.
    """

    # What a record shows, in the contract's order (the API, the CSV export).
    RECORD_FIELDS = (
        "product_id",
        "sku",
        "name",
        "available_stock",
        "reserved_stock",
        "total_stock",
        "low_stock_threshold",
        "is_low_stock",
        "version",
        "created_at",
        "updated_at",
    )

    product_id = models.BigIntegerField(unique=True)
    # How people name the product (the product domain sends them): optional, shown beside the id.
    # A database default too, so that rows written by hand (bulk loads, the benchmarks) need not name them.
    sku = models.CharField(max_length=limits.SKU_MAX_LENGTH, blank=True, default="", db_default="")
    name = models.CharField(max_length=limits.PRODUCT_NAME_MAX_LENGTH, blank=True, default="", db_default="")
    created_at = models.DateTimeField(db_default=Now())
    # What one unit is worth (null: not known): a count variance's value, ABC classes by value.
    unit_value = models.DecimalField(
        max_digits=limits.UNIT_VALUE_MAX_DIGITS,
        decimal_places=limits.UNIT_VALUE_DECIMAL_PLACES,
        null=True,
        blank=True,
    )

    # Without the sums: for joins and writes that need none of them.
    products = models.Manager()
    objects = InventoryManager()

    class Meta:
        verbose_name = _("inventory item")
        verbose_name_plural = _("inventory")
        ordering = ["product_id"]
        default_manager_name = "objects"
        base_manager_name = "products"
        constraints = [
            models.CheckConstraint(condition=Q(product_id__gt=0), name="inventory_product_id_positive"),
            models.UniqueConstraint(fields=["sku"], condition=~Q(sku=""), name="inventory_sku_unique"),
            models.CheckConstraint(condition=Q(unit_value__gte=0), name="inventory_unit_value_non_negative"),
        ]
        permissions = [
            ("restock_inventory", "Can restock inventory"),
            ("adjust_inventory", "Can adjust inventory (stock-take corrections)"),
            ("change_threshold_inventory", "Can change the low-stock threshold"),
            ("make_hot_inventory", "Can spread a level over hot rows (flash sales)"),
        ]

    def __str__(self) -> str:
        return gettext("product %(product_id)s") % {"product_id": self.product_id}

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        # Django reloads the columns only: the figures, annotations of `objects`, would stay stale.
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        if fields is None:
            figures = Inventory.objects.using(self._state.db).filter(pk=self.pk).values(*FIGURE_NAMES).get()
            self.__dict__.update(figures)


# The product's figures `InventoryQuerySet.with_figures` sums over its levels.
FIGURE_NAMES = (
    "available_stock",
    "reserved_stock",
    "in_transit",
    "low_stock_threshold",
    "version",
    "updated_at",
    "low_stock_since",
    "total_stock",
)


class StockRow(models.Model):
    """One row of a product's stock in one warehouse: the rows every change of stock writes.

    A level (a product in a warehouse, `StockLevel`) is its own row, bucket 0, and
    when it is hot (`services/hot.py`) also rows 1..N-1 that share its available
    stock, so that concurrent reserves of one product do not queue on one row lock.
    Each row keeps the contract's rules by itself (its CHECKs) and its ledger chain;
    the level's settings (threshold, units in transit, N) are row 0's alone.
    `total_stock` is generated by the database.
    """

    product = models.ForeignKey(
        Inventory,
        to_field="product_id",
        db_column="product_id",
        on_delete=models.CASCADE,
        related_name="stock_rows",
        db_index=False,  # the unique (product, warehouse, bucket) leads with it
    )
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stock_rows")
    # 0: the level's own row; 1..N-1: its hot buckets (a bucket past N lingers while it holds reserved stock).
    # Database defaults too, for rows written by hand (bulk loads, the benchmarks).
    bucket = models.PositiveSmallIntegerField(default=0, db_default=0)
    # On row 0: how many rows the level's available stock is spread over (1: not hot).
    buckets = models.PositiveSmallIntegerField(default=1, db_default=1)
    available_stock = models.BigIntegerField(default=0)
    reserved_stock = models.BigIntegerField(default=0)
    total_stock = models.GeneratedField(
        expression=F("available_stock") + F("reserved_stock"),
        output_field=models.BigIntegerField(),
        db_persist=True,
    )
    # Units on their way here from another warehouse: in neither warehouse's available or reserved stock.
    in_transit = models.BigIntegerField(default=0)
    # Of the available stock, the units quotas set aside (`Quota`; row 0's alone): a reserve
    # that names no quota, an adjustment or a transfer out leaves them (`store/counters.py`).
    allotted_stock = models.BigIntegerField(default=0, db_default=0)
    low_stock_threshold = models.BigIntegerField(default=limits.DEFAULT_LOW_STOCK_THRESHOLD)
    # Set by the same UPDATE that takes the row to or below its threshold, and
    # cleared by the one that lifts it above: "low since" for digests and dashboard.
    low_stock_since = models.DateTimeField(null=True, blank=True)
    version = models.BigIntegerField(default=1)
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        # The table of issue 14's levels, whose rows these are.
        db_table = "inventory_stocklevel"
        verbose_name = _("stock row")
        verbose_name_plural = _("stock rows")
        ordering = ["product_id", "warehouse_id", "bucket"]
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["product", "warehouse", "bucket"], name="stocklevel_unique_product_warehouse_bucket"
            ),
            models.CheckConstraint(condition=Q(available_stock__gte=0), name="stocklevel_available_non_negative"),
            models.CheckConstraint(condition=Q(reserved_stock__gte=0), name="stocklevel_reserved_non_negative"),
            models.CheckConstraint(condition=Q(in_transit__gte=0), name="stocklevel_in_transit_non_negative"),
            models.CheckConstraint(
                condition=Q(allotted_stock__gte=0, allotted_stock__lte=F("available_stock")),
                name="stocklevel_allotted_within_available",
            ),
            models.CheckConstraint(condition=Q(low_stock_threshold__gte=0), name="stocklevel_threshold_non_negative"),
            models.CheckConstraint(condition=Q(version__gte=1), name="stocklevel_version_positive"),
            models.CheckConstraint(
                condition=Q(bucket__lt=limits.MAX_BUCKETS, buckets__gte=1, buckets__lte=limits.MAX_BUCKETS),
                name="stocklevel_buckets_in_range",
            ),
            # The level's settings are its own row's; a bucket row carries stock only.
            models.CheckConstraint(
                condition=Q(bucket=0) | Q(buckets=1, in_transit=0, low_stock_threshold=0, allotted_stock=0),
                name="stocklevel_bucket_carries_stock_only",
            ),
        ]
        indexes = [
            models.Index(fields=["warehouse", "product"], name="stocklevel_warehouse_idx"),
            # The few rows of hot levels (the rebalancer, the admin's "hot" filter), whatever the table's size.
            models.Index(fields=["product"], name="stocklevel_hot_idx", condition=Q(bucket__gt=0) | Q(buckets__gt=1)),
            models.Index(
                F("available_stock"),
                F("product_id"),
                name="stocklevel_low_stock_idx",
                condition=Q(available_stock__lte=F("low_stock_threshold")),
            ),
        ]

    def __str__(self) -> str:
        return gettext("product %(product_id)s in %(warehouse)s, row %(bucket)s") % {
            "product_id": self.product_id,
            "warehouse": self.warehouse.code,
            "bucket": self.bucket,
        }


class StockLevel(StockFigures, models.Model):
    """One product's stock in one warehouse, as the contract shows it: its rows summed.

    A database view (migration 0013) over `StockRow`: the id, the settings and
    `created_at` are row 0's; the counters, `version` (the sum, so it grows with every
    change of any row) and `updated_at` are the rows'. `low_stock_since` is row 0's
    while the level is low: row 0 is low whenever the sums are. Read-only: the
    services write rows.
    """

    # A level shows the record's fields, with its warehouse, the units on their way to it and its rows.
    RECORD_FIELDS = (
        *Inventory.RECORD_FIELDS[:3],
        "warehouse",
        *Inventory.RECORD_FIELDS[3:5],
        "in_transit",
        *Inventory.RECORD_FIELDS[5:],
        "buckets",
    )

    product = models.ForeignKey(
        Inventory,
        to_field="product_id",
        db_column="product_id",
        on_delete=models.DO_NOTHING,
        related_name="levels",
        db_constraint=False,
    )
    warehouse = models.ForeignKey(Warehouse, on_delete=models.DO_NOTHING, related_name="levels", db_constraint=False)
    buckets = models.PositiveSmallIntegerField()
    available_stock = models.BigIntegerField()
    reserved_stock = models.BigIntegerField()
    total_stock = models.BigIntegerField()
    in_transit = models.BigIntegerField()
    # Of the available stock, the units quotas set aside (row 0's); not in the contract's record.
    allotted_stock = models.BigIntegerField()
    low_stock_threshold = models.BigIntegerField()
    low_stock_since = models.DateTimeField(null=True)
    version = models.BigIntegerField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "inventory_level"
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        ordering = ["product_id", "warehouse__priority", "warehouse__code"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return gettext("product %(product_id)s in %(warehouse)s") % {
            "product_id": self.product_id,
            "warehouse": self.warehouse.code,
        }

    @property
    def is_hot(self) -> bool:
        return self.buckets > 1


def _level_figure(aggregate: Aggregate, **of_rows) -> Subquery:
    rows = StockRow.objects.filter(product_id=OuterRef("product_id"), **of_rows).order_by().values("product_id")
    return Subquery(rows.annotate(figure=aggregate).values("figure"))


def _level_total(column: str) -> Coalesce:
    return Coalesce(_level_figure(Sum(column)), Value(0), output_field=models.BigIntegerField())


class InventoryRowCount(models.Model):
    """How many rows the inventory table has, in one row kept by the database.

    `COUNT(*)` of a million inventory rows takes 60-100 ms, on every page of the
    unfiltered lists. On PostgreSQL, statement-level triggers on the inventory table
    (migration 0004) add the inserted rows, subtract the deleted ones and reset on
    TRUNCATE, in the transaction that made the change, so reading `row_count` is as
    exact as counting. Nothing else writes it; on other databases it stays empty.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    row_count = models.BigIntegerField()

    class Meta:
        default_permissions = ()
        constraints = [models.CheckConstraint(condition=Q(id=1), name="inventoryrowcount_one_row")]

    def __str__(self) -> str:
        return f"{self.row_count} inventory rows"
