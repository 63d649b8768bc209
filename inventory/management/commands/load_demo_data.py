import os
import random

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from inventory import services
from inventory.models import Inventory

DEMO_USERNAME = "admin"
DEMO_PASSWORD = "admin"  # noqa: S105 - a development login, refused unless DJANGO_DEBUG is on
DEMO_PRODUCTS = 40
DEMO_ACTOR = "demo-data"


class Command(BaseCommand):
    help = "Load a small demo data set (some items low on stock) and a demo admin user. Development only."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Demo data is for development: set DJANGO_DEBUG=1.")
        rng = random.Random(42)  # noqa: S311 - reproducible demo figures, not secrets
        created = 0
        for product_id in range(1001, 1001 + DEMO_PRODUCTS):
            if Inventory.objects.filter(product_id=product_id).exists():
                continue
            # One item in four starts at or below its threshold, a few at zero.
            low = product_id % 4 == 0
            services.create_inventory(
                product_id=product_id,
                available_stock=rng.randint(0, 8) if low else rng.randint(20, 500),
                low_stock_threshold=10,
                actor=DEMO_ACTOR,
                reason="demo data",
            )
            created += 1
        user_model = get_user_model()
        if not user_model.objects.filter(username=DEMO_USERNAME).exists():
            user_model.objects.create_superuser(DEMO_USERNAME, "admin@example.com", DEMO_PASSWORD)
        self.stdout.write(f"Demo data: {created} new product(s), {DEMO_PRODUCTS} in all.")
        # `make run PORT=...` serves on that port.
        port = os.environ.get("PORT", "8000")
        self.stdout.write(f"Admin: http://127.0.0.1:{port}/admin/  user {DEMO_USERNAME!r}  password {DEMO_PASSWORD!r}")
