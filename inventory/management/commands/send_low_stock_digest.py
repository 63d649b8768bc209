from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from inventory.digests import build_low_stock_digest


class Command(BaseCommand):
    help = (
        "Email one digest of every item at or below its low-stock threshold to INVENTORY_LOW_STOCK_RECIPIENTS. "
        "Sends nothing when no item is low."
    )

    def handle(self, *args, **options):
        try:
            digest = build_low_stock_digest()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error
        if digest is None:
            self.stdout.write("No item is low on stock: nothing sent.")
            return
        digest.message.send()
        self.stdout.write(f"Listed {len(digest.items)} low-stock item(s) to {', '.join(digest.recipients)}.")
