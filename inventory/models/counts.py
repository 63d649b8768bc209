"""Count sheets: stock-takes and cycle counts of one warehouse (盘点, 循环盘点), line by line.

A sheet (`CountSheet`) lists products of one warehouse: every level there (`full`), the
ones a person chose (`list`) or the ones due by their class (`cycle`). Each line
(`CountLine`) records what was counted and, frozen at that moment under the level's
lock, what the system expected (on-hand: available + reserved, summed over the level's
rows) and the ledger position that figure is the state at (the level's last entry id).
Orders keep flowing while people count: a movement after the count changes neither
figure, and posting applies the variance (counted - expected) as a delta to the stock as
it then is, so the movement is neither lost nor counted twice.

A line whose variance is over the sheet's tolerance needs a manager's approval before the
sheet can be posted. A posted sheet names, per line with a variance, its `adjust` entry.
On PostgreSQL and SQLite, triggers (migration 0018) keep a posted or cancelled sheet as it
is: its status is final, and its lines take no insert or change.
"""

from django.db import models
from django.db.models import BooleanField, Case, DecimalField, ExpressionWrapper, F, Q, Value, When
from django.db.models.functions import Abs, Coalesce, Greatest, Now
from django.db.models.lookups import LessThanOrEqual
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from inventory import limits
from inventory.models.ledger import InventoryLog
from inventory.models.stock import Inventory
from inventory.models.warehouses import Warehouse


class CountSheetKind(models.TextChoices):
    FULL = "full", _("Full stock-take")
    LIST = "list", _("Chosen products")
    CYCLE = "cycle", _("Cycle count")


class CountSheetStatus(models.TextChoices):
    # "Open" of a purchase order is 待收货 in Chinese; a sheet's is its own word.
    OPEN = "open", pgettext_lazy("count sheet status", "Open")
    POSTED = "posted", _("Posted")
    CANCELLED = "cancelled", _("Cancelled")


class CountSheet(models.Model):
    """One count of products of one warehouse, open until posted (its variances adjusted) or cancelled.

    The tolerance: a line is within it when |variance| is at most `tolerance_units`, or at
    most `tolerance_percent` of its expected figure, whichever allows more (a percent alone
    would make any find of a product expected at 0 need approval; units alone would treat
    1 of 5 and 1 of 5,000 alike). With neither set, only an exact count is within it.
    """

    Kind = CountSheetKind
    Status = CountSheetStatus

    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="count_sheets")
    kind = models.CharField(max_length=16, choices=CountSheetKind.choices)
    status = models.CharField(max_length=16, choices=CountSheetStatus.choices, default=CountSheetStatus.OPEN)
    # Blind counting: a counter is not shown the expected figure while the sheet is open.
    blind = models.BooleanField(default=True)
    tolerance_units = models.BigIntegerField(null=True, blank=True)
    tolerance_percent = models.DecimalField(
        max_digits=limits.TOLERANCE_PERCENT_MAX_DIGITS,
        decimal_places=limits.TOLERANCE_PERCENT_DECIMAL_PLACES,
        null=True,
        blank=True,
    )
    note = models.CharField(max_length=limits.MAX_REASON_LENGTH, blank=True, default="")
    actor = models.CharField(max_length=limits.MAX_ACTOR_LENGTH)
    # Who posted or cancelled it, and when.
    ended_by = models.CharField(max_length=limits.MAX_ACTOR_LENGTH, blank=True, default="")
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = _("count sheet")
        verbose_name_plural = _("count sheets")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=CountSheetKind.values), name="countsheet_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=CountSheetStatus.values), name="countsheet_status_valid"),
            models.CheckConstraint(
                condition=Q(tolerance_units__gte=0, tolerance_units__lte=limits.MAX_QUANTITY),
                name="countsheet_tolerance_units_in_range",
            ),
            models.CheckConstraint(
                condition=Q(tolerance_percent__gte=0, tolerance_percent__lte=limits.MAX_TOLERANCE_PERCENT),
                name="countsheet_tolerance_percent_in_range",
            ),
            # Ended (posted or cancelled) exactly when somebody ended it.
            models.CheckConstraint(
                condition=Q(status=CountSheetStatus.OPEN, ended_at__isnull=True, ended_by="")
                | (~Q(status=CountSheetStatus.OPEN) & Q(ended_at__isnull=False) & ~Q(ended_by="")),
                name="countsheet_ended_when_not_open",
            ),
        ]
        indexes = [models.Index(fields=["warehouse", "status", "-id"], name="countsheet_warehouse_idx")]
        permissions = [
            ("count_countsheet", "Can open count sheets and record counts"),
            ("approve_countsheet", "Can approve count variances and post count sheets"),
        ]

    def __str__(self) -> str:
        return gettext("count sheet %(id)s of %(warehouse)s (%(status)s)") % {
            "id": self.pk,
            "warehouse": self.warehouse.code,
            "status": self.get_status_display(),
        }

    @property
    def is_open(self) -> bool:
        return self.status == CountSheetStatus.OPEN


class CountLineQuerySet(models.QuerySet):
    def with_variance(self) -> "CountLineQuerySet":
        """Each counted line's `variance` (counted - expected), `within_tolerance` of its sheet,
        and `variance_value` (variance x unit value: the value frozen at post, else the
        product's; null when unknown). Null figures on lines not counted yet.

        The one place the tolerance rule is written: the post's check and the reports read it.
        """
        variance = F("counted") - F("expected")
        percent_allowance = F("expected") * F("sheet__tolerance_percent") / Value(100)
        allowance = Greatest(
            Coalesce(F("sheet__tolerance_units"), Value(0), output_field=DecimalField()),
            Coalesce(percent_allowance, Value(0), output_field=DecimalField()),
            output_field=DecimalField(),
        )
        unit_value = Coalesce(F("unit_value"), F("product__unit_value"))
        return self.annotate(
            variance=ExpressionWrapper(variance, output_field=models.BigIntegerField()),
            within_tolerance=Case(
                When(counted__isnull=True, then=Value(None)),
                When(LessThanOrEqual(Abs(variance), allowance), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(null=True),
            ),
            variance_value=ExpressionWrapper(variance * unit_value, output_field=DecimalField()),
        )


class CountLine(models.Model):
    """One product of a count sheet: the counted figure, and what the system expected then.

    `expected` and `ledger_position` are frozen with the count, under the level's lock:
    replaying the level's entries up to `ledger_position` gives `expected` (0: the level
    had no entry yet). A recount replaces all three, and any approval.
    """

    sheet = models.ForeignKey(CountSheet, on_delete=models.PROTECT, related_name="lines")
    product = models.ForeignKey(
        Inventory,
        to_field="product_id",
        db_column="product_id",
        on_delete=models.PROTECT,
        related_name="count_lines",
        db_index=False,  # countline_product_counted_idx leads with it
    )
    counted = models.BigIntegerField(null=True, blank=True)
    expected = models.BigIntegerField(null=True, blank=True)
    ledger_position = models.BigIntegerField(null=True, blank=True)
    counted_by = models.CharField(max_length=limits.MAX_ACTOR_LENGTH, blank=True, default="")
    counted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.CharField(max_length=limits.MAX_ACTOR_LENGTH, blank=True, default="")
    approved_at = models.DateTimeField(null=True, blank=True)
    # Frozen at post: what a unit was worth then (null: not known).
    unit_value = models.DecimalField(
        max_digits=limits.UNIT_VALUE_MAX_DIGITS,
        decimal_places=limits.UNIT_VALUE_DECIMAL_PLACES,
        null=True,
        blank=True,
    )
    # The `adjust` entry that posted the line's variance (none: not posted, or no variance).
    adjustment = models.OneToOneField(
        InventoryLog, null=True, blank=True, on_delete=models.PROTECT, related_name="count_line"
    )

    objects = CountLineQuerySet.as_manager()

    class Meta:
        verbose_name = _("count line")
        verbose_name_plural = _("count lines")
        ordering = ["sheet_id", "product_id"]
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["sheet", "product"], name="countline_unique_product"),
            models.CheckConstraint(
                condition=Q(counted__gte=0, counted__lte=limits.MAX_QUANTITY), name="countline_counted_in_range"
            ),
            models.CheckConstraint(condition=Q(expected__gte=0), name="countline_expected_non_negative"),
            models.CheckConstraint(condition=Q(ledger_position__gte=0), name="countline_position_non_negative"),
            # A count freezes its figures together, or the line is not counted yet.
            models.CheckConstraint(
                condition=Q(
                    counted__isnull=False,
                    expected__isnull=False,
                    ledger_position__isnull=False,
                    counted_at__isnull=False,
                )
                & ~Q(counted_by="")
                | Q(
                    counted__isnull=True,
                    expected__isnull=True,
                    ledger_position__isnull=True,
                    counted_at__isnull=True,
                    counted_by="",
                ),
                name="countline_counted_together",
            ),
            # Only a counted line is approved or posted.
            models.CheckConstraint(
                condition=Q(approved_at__isnull=True, approved_by="")
                | Q(approved_at__isnull=False, counted__isnull=False) & ~Q(approved_by=""),
                name="countline_approved_when_counted",
            ),
            models.CheckConstraint(
                condition=Q(adjustment__isnull=True) | Q(counted__isnull=False), name="countline_posted_when_counted"
            ),
        ]
        indexes = [
            # Cycle counting: when each product was last counted.
            models.Index(fields=["product", "counted_at"], name="countline_product_counted_idx"),
        ]

    def __str__(self) -> str:
        return gettext("product %(product)s on count sheet %(sheet)s") % {
            "product": self.product_id,
            "sheet": self.sheet_id,
        }
