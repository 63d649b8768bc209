from django.core.management.base import BaseCommand, CommandError

from inventory.models import Inventory
from inventory.selectors import ledger_discrepancies


class Command(BaseCommand):
    help = (
        "Replay every product's inventory log and compare it with the stock counters and the active "
        "reservations. Prints the products that differ; exits with status 1 if any does."
    )

    def add_arguments(self, parser):
        parser.add_argument("--product", type=int, help="check only this product_id")
        parser.add_argument(
            "--quiet", action="store_true", help="print only the products that differ (the exit status says the rest)"
        )

    def handle(self, *args, product=None, quiet=False, **options):
        if product is not None and not Inventory.objects.filter(product_id=product).exists():
            # Checking nothing is not a match: a typo in --product must not pass.
            raise CommandError(f"Product {product} has no inventory record.", returncode=2)
        differing = 0
        for discrepancy in ledger_discrepancies(product_id=product):
            differing += 1
            for problem in discrepancy.problems:
                self.stdout.write(f"product {discrepancy.product_id}: {problem}")
        if differing:
            raise CommandError(f"{differing} product(s) differ from their ledger.", returncode=1)
        if not quiet:
            self.stdout.write(self.style.SUCCESS("The ledger matches every product."))
