"""The demo data of `make run`: products stocked in three warehouses, and the demo admin.

The stock is on the demo network's warehouses (`inventory/management/demo_network.py`),
not on `default`: `default` stays what a fresh install has, the warehouse of every
call that names none, with no coordinates; stock there would never be the nearest
and would only blur what routing by distance shows. Run again, it adds only what is
missing: a product that exists is left as it is.
"""

import os
import random

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from inventory import services
from inventory.management.demo_network import SITES, ensure_demo_network
from inventory.models import Inventory

DEMO_USERNAME = "admin"
DEMO_PASSWORD = "admin"  # noqa: S105 - a development login, refused unless DJANGO_DEBUG is on
DEMO_PRODUCTS = 40
DEMO_ACTOR = "demo-data"
LOW_STOCK_THRESHOLD = 10


class Command(BaseCommand):
    help = "Load a small demo data set (some items low on stock) and a demo admin user. Development only."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Demo data is for development: set DJANGO_DEBUG=1.")
        rng = random.Random(42)  # noqa: S311 - reproducible demo figures, not secrets
        ensure_demo_network(DEMO_ACTOR)
        created = 0
        for product_id in range(1001, 1001 + DEMO_PRODUCTS):
            if Inventory.objects.filter(product_id=product_id).exists():
                continue
            with transaction.atomic():  # a product with all its levels, or not at all
                _create_product(product_id, rng)
            created += 1
        user_model = get_user_model()
        if not user_model.objects.filter(username=DEMO_USERNAME).exists():
            user_model.objects.create_superuser(DEMO_USERNAME, "admin@example.com", DEMO_PASSWORD)
        warehouses = ", ".join(site.code for site in SITES)
        self.stdout.write(f"Demo data: {created} new product(s), {DEMO_PRODUCTS} in all, in {warehouses}.")
        # `make run PORT=...` serves on that port.
        port = os.environ.get("PORT", "8000")
        self.stdout.write(f"Admin: http://127.0.0.1:{port}/admin/  user {DEMO_USERNAME!r}  password {DEMO_PASSWORD!r}")


def _create_product(product_id: int, rng: random.Random) -> None:
    """One demo product: most of it in its home warehouse, some in the next, every third one in all three.

    One item in four is low on stock (at or below its threshold, a few at zero) and kept
    at home only, so that its one level is low too.
    """
    home = product_id % len(SITES)
    low = product_id % 4 == 0
    services.create_inventory(
        product_id=product_id,
        available_stock=rng.randint(0, 8) if low else rng.randint(20, 500),
        low_stock_threshold=LOW_STOCK_THRESHOLD,
        warehouse=SITES[home].code,
        actor=DEMO_ACTOR,
        reason="demo data",
    )
    if low:
        return
    others = len(SITES) - 1 if product_id % 3 == 0 else 1
    for step in range(1, others + 1):
        # Restocking a warehouse opens the product's level there (with the default threshold).
        services.restock(
            product_id=product_id,
            quantity=rng.randint(20, 200),
            warehouse=SITES[(home + step) % len(SITES)].code,
            actor=DEMO_ACTOR,
            reason="demo data",
        )
