"""The stock log of a batch job: a line per entry ("each") or one per committed batch ("summary").

Whichever is chosen the ledger keeps every entry, and a single change keeps its own line.
"""

import logging

import pytest
from django.db import transaction

from inventory import services
from inventory.models import InventoryLog
from inventory.services.store.ledger import announce
from tests.inventory.test_services_reserve import make_overdue, reserve
from tests.test_settings import run_django

pytestmark = pytest.mark.django_db

PRINT_BATCH_LOG_LINES = "from django.conf import settings; print(settings.INVENTORY_BATCH_LOG_LINES)"


@pytest.fixture
def stock_lines(caplog):
    """The `inventory.stock` records written so far, as (message, record)."""
    caplog.set_level(logging.INFO, logger="inventory.stock")
    return lambda: [(record.getMessage(), record) for record in caplog.records if record.name == "inventory.stock"]


def overdue_holds(item, count: int, prefix: str) -> None:
    make_overdue(*[reserve(f"{prefix}-{n}", (item.product_id, 1)).reservations[0] for n in range(count)])


def expire_all(django_capture_on_commit_callbacks, **options) -> int:
    with django_capture_on_commit_callbacks(execute=True):
        return services.expire_overdue_reservations(**options)


@pytest.mark.usefixtures("store")
class TestExpiryJob:
    def test_summary_writes_one_line_per_batch_and_the_ledger_every_entry(
        self, make_item, settings, stock_lines, django_capture_on_commit_callbacks
    ):
        settings.INVENTORY_BATCH_LOG_LINES = "summary"
        first, second = make_item(available_stock=5), make_item(available_stock=5)
        overdue_holds(first, 3, "S1")
        overdue_holds(second, 2, "S2")
        written_before = len(stock_lines())

        assert expire_all(django_capture_on_commit_callbacks, batch_size=4) == 5

        lines = stock_lines()[written_before:]
        assert [message for message, _ in lines] == ["stock_batch", "stock_batch"]
        log_id_of = dict(InventoryLog.objects.filter(operation="expire").values_list("order_id", "id"))
        assert sorted(log_id_of) == ["S1-0", "S1-1", "S1-2", "S2-0", "S2-1"]
        summaries = [
            (line.operation, line.actor, line.entries, line.quantity, line.products, line.warehouses)
            for _, line in lines
        ]
        assert summaries == [("expire", "system", 4, 4, 2, 1), ("expire", "system", 1, 1, 1, 1)]
        # The batches take the holds in product order: the first product's three, then the second's.
        first_batch = [log_id_of[order] for order in ("S1-0", "S1-1", "S1-2", "S2-0")]
        assert [(line.first_log_id, line.last_log_id) for _, line in lines] == [
            (min(first_batch), max(first_batch)),
            (log_id_of["S2-1"], log_id_of["S2-1"]),
        ]

    def test_each_writes_one_line_per_entry(self, make_item, settings, stock_lines, django_capture_on_commit_callbacks):
        settings.INVENTORY_BATCH_LOG_LINES = "each"
        item = make_item(available_stock=5)
        overdue_holds(item, 3, "E")
        written_before = len(stock_lines())

        assert expire_all(django_capture_on_commit_callbacks, batch_size=2) == 3

        lines = stock_lines()[written_before:]
        assert [(message, line.operation, line.order_id) for message, line in lines] == [
            ("stock_change", "expire", "E-0"),
            ("stock_change", "expire", "E-1"),
            ("stock_change", "expire", "E-2"),
        ]

    def test_a_single_change_keeps_its_line_under_summary(
        self, make_item, settings, stock_lines, django_capture_on_commit_callbacks
    ):
        settings.INVENTORY_BATCH_LOG_LINES = "summary"
        item = make_item(available_stock=5)
        reserve("R-1", (item.product_id, 2))
        written_before = len(stock_lines())

        with django_capture_on_commit_callbacks(execute=True):
            services.release_reservations(order_id="R-1", actor="order-app")

        [(message, line)] = stock_lines()[written_before:]
        assert (message, line.operation, line.order_id, line.quantity) == ("stock_change", "release", "R-1", 2)


class TestAnnounce:
    """`announce` on entries of the ledger, as a store passes them once their transaction wrote them."""

    def test_a_batch_of_several_operations_has_a_line_for_each(
        self, make_item, settings, stock_lines, django_capture_on_commit_callbacks
    ):
        settings.INVENTORY_BATCH_LOG_LINES = "summary"
        item = make_item(available_stock=5)
        reserve("A-1", (item.product_id, 2))
        reserve("A-2", (item.product_id, 1))
        entries = list(InventoryLog.objects.filter(product_id=item.product_id).order_by("id"))
        written_before = len(stock_lines())

        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            announce(entries, batch_job=True)

        lines = stock_lines()[written_before:]
        assert [(line.operation, line.actor, line.entries, line.quantity) for _, line in lines] == [
            ("create", "tester", 1, 5),
            ("reserve", "order-app", 2, 3),
        ]
        assert (lines[1][1].first_log_id, lines[1][1].last_log_id) == (entries[1].id, entries[2].id)

    def test_the_line_waits_for_the_commit(self, make_item, settings, stock_lines, django_capture_on_commit_callbacks):
        settings.INVENTORY_BATCH_LOG_LINES = "summary"
        entries = list(InventoryLog.objects.filter(product_id=make_item(available_stock=5).product_id))
        written_before = len(stock_lines())

        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            announce(entries, batch_job=True)
            assert stock_lines()[written_before:] == []

        assert [message for message, _ in stock_lines()[written_before:]] == ["stock_batch"]


# --- the setting, read at start-up in a fresh process --------------------------------------


def test_the_default_is_summary():
    result = run_django(PRINT_BATCH_LOG_LINES, DJANGO_SECRET_KEY="k")

    assert result.stdout.strip() == "summary", result.stderr


def test_each_is_read_from_the_environment():
    result = run_django(PRINT_BATCH_LOG_LINES, DJANGO_SECRET_KEY="k", INVENTORY_BATCH_LOG_LINES="each")

    assert result.stdout.strip() == "each", result.stderr


def test_any_other_value_stops_the_start():
    result = run_django(PRINT_BATCH_LOG_LINES, DJANGO_SECRET_KEY="k", INVENTORY_BATCH_LOG_LINES="every")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert 'INVENTORY_BATCH_LOG_LINES must be "each" or "summary", not \'every\'.' in result.stderr
