"""Read queries of quotas: the list, one quota by its code, its ledger entries, what reserves drew on it."""

from dataclasses import dataclass

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import Coalesce

from inventory.models import InventoryLog, Quota, Reservation


def quotas() -> QuerySet[Quota]:
    """Quotas newest first, with their warehouses (the admin's list names them)."""
    return Quota.objects.select_related("warehouse").order_by("-id")


def quota_by_code(code: str) -> Quota | None:
    return quotas().filter(code=code).first()


def quota_entries(quota: Quota) -> QuerySet[InventoryLog]:
    """The ledger entries that name the quota (set aside, returned, changed, and each draw's
    `reserve`), oldest first; by the product's index first, as a transfer's are."""
    return (
        InventoryLog.objects.filter(product_id=quota.product_id, quota=quota).select_related("warehouse").order_by("id")
    )


@dataclass(frozen=True)
class QuotaDraws:
    """What reserves took from a quota: the holds that drew on it and their units from it."""

    holds: int
    units: int


def quota_draws(quota: Quota) -> QuotaDraws:
    figures = Reservation.objects.filter(product_id=quota.product_id, quota=quota).aggregate(
        holds=Count("id"), units=Coalesce(Sum("quota_units"), 0)
    )
    return QuotaDraws(holds=figures["holds"], units=figures["units"])
