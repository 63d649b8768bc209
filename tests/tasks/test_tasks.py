import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, OperationalError, connection
from django.db.models.functions import Now

from inventory import tasks
from inventory.models import CountSheet, IdempotencyKey, InventoryLog, ItemPlan, Reservation
from tests.inventory.helpers import assert_invariants, stock_of
from tests.inventory.test_services_reserve import make_overdue, reserve

pytestmark = pytest.mark.django_db

EXPIRY_LOCK = "inventory.expire_overdue_reservations"


def overdue_hold(item, order_id, quantity=2) -> Reservation:
    (hold,) = reserve(order_id, (item.product_id, quantity)).reservations
    make_overdue(hold)
    return hold


class TestExpireOverdueReservations:
    def test_expires_overdue_holds_only_and_returns_their_units(self, make_item):
        item = make_item(available_stock=10)
        overdue = overdue_hold(item, "T-1", 2)
        (live,) = reserve("T-2", (item.product_id, 3)).reservations

        assert tasks.expire_overdue_reservations.apply().get() == 1

        assert Reservation.objects.get(pk=overdue.pk).status == Reservation.Status.EXPIRED
        assert Reservation.objects.get(pk=live.pk).status == Reservation.Status.ACTIVE
        assert stock_of(item.product_id) == (7, 3)
        assert InventoryLog.objects.filter(order_id="T-1", operation="expire", actor="system").count() == 1
        assert_invariants(item.product_id)

    def test_a_second_run_finds_nothing_left_to_do(self, make_item):
        item = make_item(available_stock=10)
        overdue_hold(item, "T-1")

        assert tasks.expire_overdue_reservations.apply().get() == 1
        assert tasks.expire_overdue_reservations.apply().get() == 0
        assert InventoryLog.objects.filter(order_id="T-1", operation="expire").count() == 1

    def test_skips_while_another_run_holds_the_lock(self, make_item):
        item = make_item(available_stock=10)
        hold = overdue_hold(item, "T-1")
        locked, done = threading.Event(), threading.Event()

        def other_run():
            try:
                with tasks.advisory_lock(EXPIRY_LOCK) as acquired:
                    assert acquired
                    locked.set()
                    done.wait(timeout=30)
            finally:
                connection.close()

        other = threading.Thread(target=other_run)
        other.start()
        try:
            assert locked.wait(timeout=30)
            assert tasks.expire_overdue_reservations.apply().get() is None
            assert Reservation.objects.get(pk=hold.pk).status == Reservation.Status.ACTIVE
        finally:
            done.set()
            other.join()
        assert tasks.expire_overdue_reservations.apply().get() == 1

    def test_releases_its_lock_when_the_work_fails(self, monkeypatch):
        monkeypatch.setattr(tasks.services, "expire_overdue_reservations", _raise(IntegrityError("boom")))

        with pytest.raises(IntegrityError):
            tasks.expire_overdue_reservations.apply().get()
        with tasks.advisory_lock(EXPIRY_LOCK) as acquired:
            assert acquired

    def test_retries_after_a_transient_database_error(self, monkeypatch):
        calls = []

        def fail_once(**kwargs):
            calls.append(kwargs)
            if len(calls) == 1:
                raise OperationalError("connection lost")
            return 4

        monkeypatch.setattr(tasks.services, "expire_overdue_reservations", fail_once)

        assert tasks.expire_overdue_reservations.apply().get() == 4
        assert len(calls) == 2

    def test_does_not_retry_an_error_that_would_happen_again(self, monkeypatch):
        calls = []

        def fail(**kwargs):
            calls.append(kwargs)
            raise IntegrityError("a bug")

        monkeypatch.setattr(tasks.services, "expire_overdue_reservations", fail)

        with pytest.raises(IntegrityError):
            tasks.expire_overdue_reservations.apply().get()
        assert len(calls) == 1


def test_the_tasks_are_acknowledged_after_they_run():
    for task in (
        tasks.expire_overdue_reservations,
        tasks.send_low_stock_digest,
        tasks.purge_idempotency_keys,
        tasks.refresh_plans,
        tasks.propose_cycle_counts,
    ):
        assert task.acks_late


class TestSendLowStockDigest:
    @pytest.fixture(autouse=True)
    def _unclaimed_today(self, settings):
        settings.INVENTORY_LOW_STOCK_RECIPIENTS = ["ops@example.com"]
        cache.delete(tasks.digest_claim_key())
        yield
        cache.delete(tasks.digest_claim_key())

    def test_sends_one_digest_a_day_however_often_it_runs(self, make_item):
        make_item(available_stock=1, low_stock_threshold=5)
        make_item(available_stock=0, low_stock_threshold=5)

        assert tasks.send_low_stock_digest.apply().get() == 2
        assert tasks.send_low_stock_digest.apply().get() == 0

        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == ["ops@example.com"]

    def test_sends_nothing_and_claims_nothing_when_no_item_is_low(self, make_item):
        item = make_item(available_stock=50, low_stock_threshold=5)

        assert tasks.send_low_stock_digest.apply().get() == 0
        assert mail.outbox == []

        tasks.services.adjust_stock(product_id=item.product_id, counted=5, reason="recount", actor="tester")
        assert tasks.send_low_stock_digest.apply().get() == 1
        assert len(mail.outbox) == 1

    def test_fails_loudly_and_claims_nothing_when_nobody_is_to_be_told(self, settings, make_item):
        settings.INVENTORY_LOW_STOCK_RECIPIENTS = []
        make_item(available_stock=0, low_stock_threshold=5)

        with pytest.raises(ImproperlyConfigured):
            tasks.send_low_stock_digest.apply().get()

        assert mail.outbox == []
        assert cache.get(tasks.digest_claim_key()) is None


def test_purge_deletes_the_idempotency_keys_older_than_a_day():
    old, _recent = (
        IdempotencyKey.objects.create(
            scope="client", key=key, fingerprint="f", response_status=200, response_body={"ok": True}
        )
        for key in ("old", "recent")
    )
    IdempotencyKey.objects.filter(pk=old.pk).update(created_at=Now() - timedelta(hours=25))

    assert tasks.purge_idempotency_keys.apply().get() == 1

    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["recent"]


def test_the_cycle_count_proposes_todays_sheet_once(make_item):
    products = {make_item(available_stock=3).product_id for _ in range(2)}

    assert tasks.propose_cycle_counts.apply().get() == 1
    assert tasks.propose_cycle_counts.apply().get() == 0

    (sheet,) = CountSheet.objects.all()
    assert (sheet.kind, set(sheet.lines.values_list("product_id", flat=True))) == ("cycle", products)


def test_the_planning_run_plans_every_level(make_item):
    products = [make_item(available_stock=3).product_id for _ in range(3)]

    assert tasks.refresh_plans.apply().get() == 3

    assert ItemPlan.objects.filter(product_id__in=products, computed_at__isnull=False).count() == 3


def _raise(error):
    def fail(**kwargs):
        raise error

    return fail
