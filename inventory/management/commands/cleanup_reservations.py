from django.core.management.base import BaseCommand, CommandError

from inventory import limits, selectors, services
from inventory.exceptions import InvalidInput
from inventory.management.progress import add_quiet_argument, progress_bar


class Command(BaseCommand):
    help = (
        "Expire the active reservations past their expires_at and return their units to available stock, "
        "in short batches that skip holds other transactions have locked. Prints how many it expired."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="only count the overdue reservations")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=limits.DEFAULT_EXPIRY_BATCH_SIZE,
            help=f"reservations per transaction (default {limits.DEFAULT_EXPIRY_BATCH_SIZE})",
        )
        add_quiet_argument(parser)

    def handle(self, *args, dry_run=False, batch_size=limits.DEFAULT_EXPIRY_BATCH_SIZE, quiet=False, **options):
        overdue = selectors.count_overdue_reservations()
        if dry_run:
            self.stdout.write(f"Would expire {overdue} overdue reservation(s).")
            return
        with progress_bar(total=overdue, unit=" reservations", quiet=quiet) as progress:
            try:
                expired = services.expire_overdue_reservations(batch_size=batch_size, on_batch=progress.update)
            except InvalidInput as error:
                raise CommandError(error.message) from error
        self.stdout.write(f"Expired {expired} overdue reservation(s).")
