"""Units of a product set aside in one warehouse for a campaign or a customer tier."""

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from inventory import limits
from inventory.models.stock import Inventory
from inventory.models.warehouses import Warehouse


class QuotaStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")


class Quota(models.Model):
    """Units of a product set aside in one warehouse's level, for reserves that name the
    quota (or the order's customer tier) between `starts_at` and `ends_at`.

    The set-aside units are part of the level's available stock and also counted on its
    own row as `allotted_stock`, which every other taking of available stock leaves
    alone (`store/counters.py`). `allotted` is what the quota still sets aside,
    `drawn` what reserves took from it; `quantity` what staff granted, so that
    `allotted + drawn <= quantity` (less when stock lost in a count shrank it).
    The units are set aside from the quota's creation, not its start: a promise to a
    campaign is only worth something if the units are there when it begins.
    """

    Status = QuotaStatus

    code = models.CharField(max_length=limits.LOCATION_CODE_MAX_LENGTH, unique=True)
    name = models.CharField(max_length=limits.QUOTA_NAME_MAX_LENGTH, blank=True, default="")
    product = models.ForeignKey(
        Inventory, to_field="product_id", db_column="product_id", on_delete=models.PROTECT, related_name="quotas"
    )
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="quotas")
    # The customer tier whose orders draw on it without naming it ("" none: only lines that name it).
    tier = models.CharField(max_length=limits.LOCATION_CODE_MAX_LENGTH, blank=True, default="")
    # Lower is served first: a tier's orders draw on its best quota, a count that lost stock shrinks the last.
    priority = models.IntegerField(default=100)
    # A line may take what the quota lacks from free stock.
    overflow = models.BooleanField(default=True)
    quantity = models.BigIntegerField()
    allotted = models.BigIntegerField()
    drawn = models.BigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=QuotaStatus.choices, default=QuotaStatus.ACTIVE)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    actor = models.CharField(max_length=limits.MAX_ACTOR_LENGTH)
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = _("quota")
        verbose_name_plural = _("quotas")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=limits.LOCATION_CODE_PATTERN), name="quota_code_valid"),
            models.CheckConstraint(
                condition=Q(tier="") | Q(tier__regex=limits.LOCATION_CODE_PATTERN), name="quota_tier_valid"
            ),
            models.CheckConstraint(
                condition=Q(priority__gte=limits.MIN_QUOTA_PRIORITY, priority__lte=limits.MAX_QUOTA_PRIORITY),
                name="quota_priority_in_range",
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0, quantity__lte=limits.MAX_QUANTITY), name="quota_quantity_in_range"
            ),
            models.CheckConstraint(
                condition=Q(allotted__gte=0, drawn__gte=0, quantity__gte=F("allotted") + F("drawn")),
                name="quota_units_within_quantity",
            ),
            models.CheckConstraint(condition=Q(status__in=QuotaStatus.values), name="quota_status_valid"),
            # An ended quota sets nothing aside.
            models.CheckConstraint(condition=Q(status="active") | Q(allotted=0), name="quota_ended_holds_nothing"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="quota_ends_after_start"),
        ]
        indexes = [
            # A tier's quotas of a product, best first (a reserve); what ends next (the beat task).
            models.Index(
                fields=["product", "tier", "priority"], name="quota_active_tier_idx", condition=Q(status="active")
            ),
            models.Index(fields=["ends_at"], name="quota_active_end_idx", condition=Q(status="active")),
        ]
        permissions = [("manage_quota", "Can create, change and end quotas")]

    def __str__(self) -> str:
        return gettext("quota %(code)s: %(allotted)s of product %(product)s set aside") % {
            "code": self.code,
            "allotted": self.allotted,
            "product": self.product_id,
        }
