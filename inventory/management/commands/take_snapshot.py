"""Take the daily snapshot of one day by hand: a day the beat missed, or the first one (docs/snapshots.md)."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from inventory.exceptions import InvalidInput
from inventory.services.snapshots import take_snapshot


def _day(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError as error:
        raise CommandError(f"--day is YYYY-MM-DD, not {raw!r}.") from error


class Command(BaseCommand):
    help = (
        "Snapshot the stock rows a day changed (every row, the first time): yesterday (UTC) unless --day says "
        "which. Safe to run again: a day already taken adds nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--day", type=_day, help="The UTC day, YYYY-MM-DD (default: yesterday).")

    def handle(self, *args, day=None, **options):
        try:
            added = take_snapshot(day)
        except InvalidInput as error:
            raise CommandError(error.message) from error
        self.stdout.write(f"Snapshot of {day or 'yesterday'}: {added} row(s) added.")
