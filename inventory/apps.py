from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = _("Inventory")

    def ready(self) -> None:
        post_migrate.connect(_ensure_default_locations, sender=self)


def _ensure_default_locations(using: str, **kwargs) -> None:
    """The warehouse `default` and the pool `all` exist on every install.

    Migration 0011 creates them; this makes them again after a flush (which empties
    every table and then sends post_migrate, as the tests' transactional cases do).
    """
    from inventory import limits
    from inventory.models import Pool, Warehouse

    Warehouse.objects.using(using).get_or_create(
        code=limits.DEFAULT_WAREHOUSE, defaults={"name": "Default warehouse", "priority": 0}
    )
    Pool.objects.using(using).get_or_create(
        code=limits.EVERY_WAREHOUSE_POOL,
        defaults={"name": "Every warehouse", "strategy": Pool.Strategy.PRIORITY, "every_warehouse": True},
    )
