"""Where stock is kept and how warehouses sell together: warehouses and pools."""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from inventory import limits


def _code_is_valid(field: str) -> Q:
    return Q(**{f"{field}__regex": limits.LOCATION_CODE_PATTERN})


class Warehouse(models.Model):
    """A place that holds stock. Its code names it everywhere and never changes."""

    FIELDS = ("code", "name", "region", "latitude", "longitude", "priority", "accepts_orders", "created_at")

    code = models.CharField(max_length=limits.LOCATION_CODE_MAX_LENGTH, unique=True)
    name = models.CharField(max_length=limits.WAREHOUSE_NAME_MAX_LENGTH, blank=True, default="")
    region = models.CharField(max_length=limits.REGION_MAX_LENGTH, blank=True, default="")
    # Degrees (WGS 84), for `nearest` routing: both or neither.
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    # Lower is preferred by the `priority` strategy, and breaks the other strategies' ties.
    priority = models.IntegerField(default=0)
    # False takes the warehouse out of allocation; its stock stays where it is.
    accepts_orders = models.BooleanField(default=True)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")
        ordering = ["priority", "code"]
        constraints = [
            models.CheckConstraint(condition=_code_is_valid("code"), name="warehouse_code_valid"),
            models.CheckConstraint(
                condition=Q(priority__gte=limits.MIN_PRIORITY, priority__lte=limits.MAX_PRIORITY),
                name="warehouse_priority_in_range",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(
                    latitude__gte=-limits.MAX_LATITUDE,
                    latitude__lte=limits.MAX_LATITUDE,
                    longitude__gte=-limits.MAX_LONGITUDE,
                    longitude__lte=limits.MAX_LONGITUDE,
                ),
                name="warehouse_coordinates_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def coordinates(self) -> tuple[float, float] | None:
        if self.latitude is None or self.longitude is None:
            return None
        return self.latitude, self.longitude


class PoolStrategy(models.TextChoices):
    PRIORITY = "priority", _("Warehouse priority")
    MOST_STOCK = "most_stock", _("Most stock first")
    NEAREST = "nearest", _("Nearest to the destination")


class Pool(models.Model):
    """Warehouses that sell together, and the order in which a line tries them.

    The pool `all` (created by migration 0011) has every warehouse that accepts
    orders, whatever its members say (`every_warehouse`), with the priority strategy.
    """

    Strategy = PoolStrategy

    code = models.CharField(max_length=limits.LOCATION_CODE_MAX_LENGTH, unique=True)
    name = models.CharField(max_length=limits.WAREHOUSE_NAME_MAX_LENGTH, blank=True, default="")
    strategy = models.CharField(max_length=16, choices=PoolStrategy.choices, default=PoolStrategy.PRIORITY)
    warehouses = models.ManyToManyField(Warehouse, related_name="pools", blank=True)
    every_warehouse = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = _("pool")
        verbose_name_plural = _("pools")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=_code_is_valid("code"), name="pool_code_valid"),
            models.CheckConstraint(condition=Q(strategy__in=PoolStrategy.values), name="pool_strategy_valid"),
            # Only `all` stands for every warehouse, and it always does.
            models.CheckConstraint(
                condition=Q(code=limits.EVERY_WAREHOUSE_POOL, every_warehouse=True)
                | (~Q(code=limits.EVERY_WAREHOUSE_POOL) & Q(every_warehouse=False)),
                name="pool_every_warehouse_is_all",
            ),
        ]

    def __str__(self) -> str:
        return self.code
