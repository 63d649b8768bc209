"""Stock planning per level: its terms (lead time, service level, whether suggestions apply)
and what the daily planning run last computed (ABC class, demand forecast, safety stock,
reorder point and quantity).

Nothing here is stock. The run (`services.planning.refresh_plans`) rewrites the computed
figures; a threshold changes only through `services.set_low_stock_threshold`, logged like
any threshold edit, and only for the levels whose `apply_suggestions` staff turned on.
"""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from inventory import limits
from inventory.models.stock import Inventory
from inventory.models.warehouses import Warehouse
from inventory.planning.abc import DEFAULT_A_PERCENT, DEFAULT_B_PERCENT, AbcClass

ABC_CLASSES = [(abc_class.value, abc_class.value) for abc_class in AbcClass]
ABC_CLASS_VALUES = [value for value, _label in ABC_CLASSES]


class AbcBasis(models.TextChoices):
    UNITS = "units", _("Units")
    VALUE = "value", _("Value")


class PlanningSettings(models.Model):
    """The planning run's terms for every level: one row (id 1).

    ABC classes rank the levels by their deductions over the last `window_days`, by units
    or by value (units x the product's unit value): A while the share of demand before a
    level is below `a_percent`, B below `b_percent`, C after (inventory/planning/abc.py).
    The daily cycle count proposes a level of class X when it was not counted within
    `x_count_days`.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    window_days = models.PositiveSmallIntegerField(default=limits.DEFAULT_DEMAND_WINDOW_DAYS)
    abc_basis = models.CharField(max_length=8, choices=AbcBasis.choices, default=AbcBasis.UNITS)
    a_percent = models.DecimalField(max_digits=5, decimal_places=2, default=DEFAULT_A_PERCENT)
    b_percent = models.DecimalField(max_digits=5, decimal_places=2, default=DEFAULT_B_PERCENT)
    # How often a level of each class is cycle-counted, in days (A monthly, B quarterly, C yearly).
    a_count_days = models.PositiveSmallIntegerField(default=limits.CYCLE_COUNT_INTERVAL_DAYS["A"])
    b_count_days = models.PositiveSmallIntegerField(default=limits.CYCLE_COUNT_INTERVAL_DAYS["B"])
    c_count_days = models.PositiveSmallIntegerField(default=limits.CYCLE_COUNT_INTERVAL_DAYS["C"])
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = _("planning settings")
        verbose_name_plural = _("planning settings")
        default_permissions = ()  # changed by those who may manage planning (ItemPlan's manage_planning)
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="planningsettings_one_row"),
            models.CheckConstraint(
                condition=Q(window_days__gte=limits.MIN_DEMAND_WINDOW_DAYS, window_days__lte=limits.MAX_PLANNING_DAYS),
                name="planningsettings_window_in_range",
            ),
            models.CheckConstraint(
                condition=Q(a_percent__gt=0, b_percent__gt=models.F("a_percent"), b_percent__lte=100),
                name="planningsettings_thresholds_ordered",
            ),
            models.CheckConstraint(condition=Q(abc_basis__in=AbcBasis.values), name="planningsettings_basis_known"),
        ]

    def __str__(self) -> str:
        return str(_("Planning settings"))

    @classmethod
    def current(cls) -> "PlanningSettings":
        """The stored settings, or the defaults (not stored) while nobody has changed them."""
        return cls.objects.filter(pk=1).first() or cls(updated_at=None)

    def count_intervals(self) -> dict[str, int]:
        """Days between cycle counts of a level, by its class."""
        return {"A": self.a_count_days, "B": self.b_count_days, "C": self.c_count_days}


class ItemPlan(models.Model):
    """A level's (product x warehouse) planning terms and latest computed figures.

    `forecast` is the daily demand forecast, tomorrow first; `error_sd` the standard
    deviation of its one-step-ahead daily error; `safety_stock`, `reorder_point` and
    `reorder_quantity` are whole units from them, the lead time and the service level.
    """

    product = models.ForeignKey(
        Inventory, to_field="product_id", db_column="product_id", on_delete=models.PROTECT, related_name="plans"
    )
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="plans")
    # Terms staff set.
    lead_time_days = models.PositiveSmallIntegerField(default=limits.DEFAULT_LEAD_TIME_DAYS)
    service_level = models.DecimalField(max_digits=4, decimal_places=3, default=limits.DEFAULT_SERVICE_LEVEL)
    apply_suggestions = models.BooleanField(default=False)
    # What the last run computed ("" and nulls: not computed yet).
    abc_class = models.CharField(max_length=1, choices=ABC_CLASSES, blank=True, default="")
    demand_units = models.BigIntegerField(default=0)
    method = models.CharField(max_length=32, blank=True, default="")
    forecast = models.JSONField(default=list, blank=True)
    error_sd = models.FloatField(null=True, blank=True)
    history_days = models.PositiveSmallIntegerField(default=0)
    safety_stock = models.BigIntegerField(null=True, blank=True)
    reorder_point = models.BigIntegerField(null=True, blank=True)
    reorder_quantity = models.BigIntegerField(null=True, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    actor = models.CharField(max_length=limits.MAX_ACTOR_LENGTH, blank=True, default="")
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = _("item plan")
        verbose_name_plural = _("item plans")
        default_permissions = ("view",)
        permissions = [("manage_planning", "Can change planning terms and settings")]
        ordering = ["product_id", "warehouse_id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "warehouse"], name="itemplan_one_per_level"),
            models.CheckConstraint(
                condition=Q(lead_time_days__lte=limits.MAX_PLANNING_DAYS), name="itemplan_lead_time_in_range"
            ),
            models.CheckConstraint(
                condition=Q(service_level__gte=limits.MIN_SERVICE_LEVEL, service_level__lt=1),
                name="itemplan_service_level_in_range",
            ),
            models.CheckConstraint(condition=Q(abc_class__in=["", *ABC_CLASS_VALUES]), name="itemplan_abc_class_known"),
            models.CheckConstraint(
                condition=Q(demand_units__gte=0)
                & (Q(error_sd__isnull=True) | Q(error_sd__gte=0))
                & (Q(safety_stock__isnull=True) | Q(safety_stock__gte=0))
                & (Q(reorder_point__isnull=True) | Q(reorder_point__gte=0, reorder_point__lte=limits.MAX_QUANTITY))
                & (Q(reorder_quantity__isnull=True) | Q(reorder_quantity__gte=0)),
                name="itemplan_figures_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return gettext("product %(product_id)s in %(warehouse)s") % {
            "product_id": self.product_id,
            "warehouse": self.warehouse.code,
        }
