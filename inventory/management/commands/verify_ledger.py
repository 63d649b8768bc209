from django.core.management.base import BaseCommand, CommandError

from inventory.selectors import ledger_discrepancies


class Command(BaseCommand):
    help = (
        "Replay every product's inventory log and compare it with the stock counters and the active "
        "reservations. Prints the products that differ; exits with status 1 if any does."
    )

    def add_arguments(self, parser):
        parser.add_argument("--product", type=int, help="check only this product_id")

    def handle(self, *args, product=None, **options):
        differing = 0
        for discrepancy in ledger_discrepancies(product_id=product):
            differing += 1
            for problem in discrepancy.problems:
                self.stdout.write(f"product {discrepancy.product_id}: {problem}")
        if differing:
            raise CommandError(f"{differing} product(s) differ from their ledger.", returncode=1)
        self.stdout.write(self.style.SUCCESS("The ledger matches every product."))
