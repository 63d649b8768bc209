"""Quotas through the services, on both stores: set aside, kept from free reserves, shrunk, ended, replayed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory import services
from inventory.exceptions import (
    CodeInUse,
    InsufficientStock,
    InvalidInput,
    QuotaNotActive,
    QuotaNotFound,
    StockWouldGoNegative,
)
from inventory.models import InventoryLog, Quota, StockLevel, StockRow
from inventory.selectors import ledger_discrepancies
from inventory.services import ReservationLine
from tests.inventory.helpers import assert_invariants, stock_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("store")]


def quota(item, quantity: int, code: str = "spring", **kwargs) -> Quota:
    now = timezone.now()
    kwargs.setdefault("starts_at", now - timedelta(minutes=1))
    kwargs.setdefault("ends_at", now + timedelta(hours=1))
    return services.create_quota(code=code, product_id=item.product_id, quantity=quantity, actor="lead", **kwargs)


def allotted(item) -> int:
    return StockLevel.objects.get(product_id=item.product_id, warehouse__code="default").allotted_stock


def reserve(item, quantity: int, order_id: str = "O-1"):
    return services.reserve_stock(order_id=order_id, lines=[ReservationLine(item.product_id, quantity)], actor="shop")


class TestSettingAside:
    def test_a_quota_sets_units_aside_that_stay_in_available_stock(self, make_item):
        item = make_item(available_stock=10)

        made = quota(item, 4)

        assert (made.quantity, made.allotted, made.drawn, made.status) == (4, 4, 0, "active")
        assert stock_of(item.product_id) == (10, 0)
        assert allotted(item) == 4
        entry = InventoryLog.objects.filter(product_id=item.product_id).latest("id")
        assert (entry.operation, entry.quantity, entry.allotted_change, entry.quota_id) == ("quota_set", 4, 4, made.pk)
        assert (entry.available_before, entry.available_after) == (10, 10)
        assert_invariants(item.product_id)

    def test_a_free_reserve_cannot_take_the_set_aside_units(self, make_item):
        item = make_item(available_stock=10)
        quota(item, 4)

        reserve(item, 6)
        with pytest.raises(InsufficientStock) as refused:
            reserve(item, 1, order_id="O-2")

        assert refused.value.short_lines[0].available == 0
        assert stock_of(item.product_id) == (4, 6)
        assert allotted(item) == 4
        assert_invariants(item.product_id)

    def test_a_quota_never_promises_more_than_the_free_stock(self, make_item):
        item = make_item(available_stock=10)
        quota(item, 7)

        with pytest.raises(InsufficientStock) as refused:
            quota(item, 4, code="summer")

        assert refused.value.short_lines[0].available == 3
        assert not Quota.objects.filter(code="summer").exists()
        assert allotted(item) == 7
        assert_invariants(item.product_id)

    def test_codes_are_unique_and_terms_are_checked(self, make_item):
        item = make_item(available_stock=10)
        quota(item, 1)

        with pytest.raises(CodeInUse):
            quota(item, 1)
        now = timezone.now()
        with pytest.raises(InvalidInput):
            quota(item, 1, code="late", starts_at=now, ends_at=now - timedelta(seconds=1))
        with pytest.raises(InvalidInput):
            quota(item, 1, code="past", starts_at=now - timedelta(hours=2), ends_at=now - timedelta(hours=1))
        with pytest.raises(InvalidInput):
            quota(item, 1, code="naive", starts_at=now.replace(tzinfo=None))
        with pytest.raises(InvalidInput):
            quota(item, 1, code="Bad Code")
        with pytest.raises(InvalidInput):
            quota(item, 1, code="tier", tier="Gold!")
        with pytest.raises(InvalidInput):
            quota(item, 1, code="prio", priority=-1)
        assert allotted(item) == 1

    def test_a_hot_level_gathers_the_units_into_its_own_row(self, make_item):
        item = make_item(available_stock=12)
        services.make_hot(product_id=item.product_id, buckets=4, actor="lead")

        quota(item, 9)

        own = StockRow.objects.get(product_id=item.product_id, bucket=0)
        assert own.allotted_stock == 9
        assert own.available_stock >= 9
        assert stock_of(item.product_id) == (12, 0)
        reserve(item, 3)
        with pytest.raises(InsufficientStock):
            reserve(item, 1, order_id="O-2")
        assert_invariants(item.product_id)


class TestChangingAndEnding:
    def test_extending_sets_more_aside_and_shrinking_returns_units(self, make_item):
        item = make_item(available_stock=10)
        quota(item, 4)

        extended = services.change_quota(code="spring", quantity=6, actor="lead")
        assert (extended.quantity, extended.allotted) == (6, 6)
        assert allotted(item) == 6
        with pytest.raises(InsufficientStock):
            services.change_quota(code="spring", quantity=11, actor="lead")

        shrunk = services.change_quota(code="spring", quantity=2, actor="lead", reason="campaign cut")
        assert (shrunk.quantity, shrunk.allotted) == (2, 2)
        assert allotted(item) == 2
        operations = list(
            InventoryLog.objects.filter(product_id=item.product_id, quota__isnull=False)
            .order_by("id")
            .values_list("operation", "allotted_change")
        )
        assert operations == [("quota_set", 4), ("quota_set", 2), ("quota_return", -4)]
        assert_invariants(item.product_id)

    def test_a_change_of_terms_is_a_ledger_entry_of_no_units(self, make_item):
        item = make_item(available_stock=10)
        made = quota(item, 4)
        later = made.ends_at + timedelta(days=1)

        changed = services.change_quota(code="spring", ends_at=later, priority=5, actor="lead")

        assert (changed.ends_at, changed.priority) == (later, 5)
        entry = InventoryLog.objects.filter(product_id=item.product_id).latest("id")
        assert (entry.operation, entry.quantity, entry.allotted_change) == ("quota_change", 0, 0)
        assert "priority 5" in entry.reason
        assert_invariants(item.product_id)

    def test_ending_returns_what_is_left_and_an_ended_quota_stays_ended(self, make_item):
        item = make_item(available_stock=10)
        quota(item, 4)

        ended = services.end_quota(code="spring", actor="lead")

        assert (ended.status, ended.allotted) == ("ended", 0)
        assert allotted(item) == 0
        reserve(item, 10)
        with pytest.raises(QuotaNotActive):
            services.change_quota(code="spring", quantity=5, actor="lead")
        with pytest.raises(QuotaNotFound):
            services.end_quota(code="autumn", actor="lead")
        assert_invariants(item.product_id)

    def test_the_beat_task_ends_quotas_past_their_end(self, make_item):
        item = make_item(available_stock=10)
        quota(item, 4)
        Quota.objects.filter(code="spring").update(
            starts_at=timezone.now() - timedelta(hours=2), ends_at=timezone.now() - timedelta(hours=1)
        )

        assert services.end_due_quotas() == 1

        assert Quota.objects.get(code="spring").status == "ended"
        assert allotted(item) == 0
        assert services.end_due_quotas() == 0
        assert_invariants(item.product_id)

    def test_a_short_reserve_ends_a_due_quota_and_tries_again(self, make_item):
        item = make_item(available_stock=10)
        quota(item, 4)
        Quota.objects.filter(code="spring").update(
            starts_at=timezone.now() - timedelta(hours=2), ends_at=timezone.now() - timedelta(hours=1)
        )

        reserve(item, 10)

        assert Quota.objects.get(code="spring").status == "ended"
        assert stock_of(item.product_id) == (0, 10)
        assert_invariants(item.product_id)


class TestCountsThatLoseStock:
    def test_a_loss_free_stock_covers_leaves_the_quotas_alone(self, make_item):
        item = make_item(available_stock=10)
        quota(item, 4)

        services.adjust_stock(product_id=item.product_id, delta=-6, reason="broken", actor="lead")

        assert allotted(item) == 4
        assert_invariants(item.product_id)

    def test_a_larger_loss_shrinks_the_last_served_quota_first(self, make_item):
        item = make_item(available_stock=10)
        quota(item, 3, code="vip", priority=1)
        quota(item, 3, code="campaign", priority=50)

        services.adjust_stock(product_id=item.product_id, counted=4, reason="stock-take", actor="lead")

        # 6 units gone, 4 of them free: the campaign (served after the VIPs) gives the other 2.
        assert Quota.objects.get(code="campaign").allotted == 1
        assert Quota.objects.get(code="vip").allotted == 3
        assert allotted(item) == 4
        assert stock_of(item.product_id) == (4, 0)
        services.adjust_stock(product_id=item.product_id, counted=1, reason="stock-take", actor="lead")
        assert Quota.objects.get(code="campaign").allotted == 0
        assert Quota.objects.get(code="vip").allotted == 1
        returned = InventoryLog.objects.filter(product_id=item.product_id, operation="quota_return")
        assert all("stock lost in a count" in entry.reason for entry in returned)
        assert_invariants(item.product_id)

    def test_a_count_still_cannot_take_stock_below_zero(self, make_item):
        item = make_item(available_stock=5)
        quota(item, 5)

        with pytest.raises(StockWouldGoNegative):
            services.adjust_stock(product_id=item.product_id, delta=-6, reason="typo", actor="lead")

        assert allotted(item) == 5
        assert_invariants(item.product_id)

    def test_a_transfer_out_leaves_the_set_aside_units(self, make_item, warehouse):
        item = make_item(available_stock=10)
        warehouse("north")
        quota(item, 8)

        with pytest.raises(InsufficientStock):
            services.create_transfer(
                source="default",
                destination="north",
                lines=[services.TransferLineInput(item.product_id, 3)],
                actor="lead",
            )
        assert allotted(item) == 8
        assert_invariants(item.product_id)


def test_the_ledger_replay_finds_set_aside_units_that_the_log_does_not_explain(make_item):
    item = make_item(available_stock=10)
    made = quota(item, 4)
    Quota.objects.filter(pk=made.pk).update(allotted=3, quantity=4)

    (found,) = ledger_discrepancies(product_id=item.product_id)
    assert any("sets aside 3, its log entries 4" in problem for problem in found.problems)


def reserve_from(item, quantity: int, order_id: str = "Q-1", *, quota: str = "", tier: str = ""):
    return services.reserve_stock(
        order_id=order_id,
        lines=[ReservationLine(item.product_id, quantity, quota=quota)],
        actor="shop",
        customer_tier=tier,
    )


class TestDraws:
    def test_a_line_that_names_the_quota_draws_on_it_first(self, make_item):
        item = make_item(available_stock=10)
        quota(item, 4)

        (hold,) = reserve_from(item, 3, quota="spring").reservations

        assert (hold.quantity, hold.quota.code, hold.quota_units) == (3, "spring", 3)
        made = Quota.objects.get(code="spring")
        assert (made.allotted, made.drawn) == (1, 3)
        assert allotted(item) == 1
        assert stock_of(item.product_id) == (7, 3)
        entry = InventoryLog.objects.filter(product_id=item.product_id, operation="reserve").latest("id")
        assert (entry.quantity, entry.allotted_change, entry.quota_id) == (3, -3, made.pk)
        assert_invariants(item.product_id)

    def test_what_the_quota_lacks_comes_from_free_stock_with_overflow(self, make_item):
        item = make_item(available_stock=10)
        quota(item, 2)

        (hold,) = reserve_from(item, 5, quota="spring").reservations

        assert (hold.quantity, hold.quota_units) == (5, 2)
        assert Quota.objects.get(code="spring").allotted == 0
        assert stock_of(item.product_id) == (5, 5)
        assert_invariants(item.product_id)

    def test_without_overflow_a_line_larger_than_the_quota_is_refused(self, make_item):
        item = make_item(available_stock=10)
        quota(item, 2, overflow=False)

        with pytest.raises(InsufficientStock) as refused:
            reserve_from(item, 3, quota="spring")

        assert refused.value.short_lines[0].available == 10
        assert Quota.objects.get(code="spring").allotted == 2
        assert_invariants(item.product_id)

    def test_the_order_of_a_customer_tier_draws_on_its_best_quota(self, make_item):
        item = make_item(available_stock=10)
        quota(item, 2, code="gold-b", tier="gold", priority=20)
        quota(item, 2, code="gold-a", tier="gold", priority=10)

        (hold,) = reserve_from(item, 3, tier="gold").reservations

        assert (hold.quota.code, hold.quota_units) == ("gold-a", 2)
        assert Quota.objects.get(code="gold-b").allotted == 2
        assert stock_of(item.product_id) == (7, 3)
        assert_invariants(item.product_id)

    def test_a_hot_level_draws_from_its_own_row_in_one_hold(self, make_item):
        item = make_item(available_stock=16)
        services.make_hot(product_id=item.product_id, buckets=4, actor="lead")
        quota(item, 3)

        (hold,) = reserve_from(item, 8, quota="spring").reservations

        assert (hold.bucket, hold.quantity, hold.quota_units) == (0, 8, 3)
        assert stock_of(item.product_id) == (8, 8)
        services.release_reservations(order_id="Q-1", actor="shop")
        assert stock_of(item.product_id) == (16, 0)
        assert_invariants(item.product_id)

    def test_a_named_quota_must_be_open_and_the_products(self, make_item):
        item, other = make_item(available_stock=10), make_item(available_stock=10)
        later = timezone.now() + timedelta(hours=1)
        quota(item, 2, starts_at=later, ends_at=later + timedelta(hours=1))

        with pytest.raises(QuotaNotActive):
            reserve_from(item, 1, quota="spring")
        with pytest.raises(InvalidInput):
            reserve_from(other, 1, quota="spring")
        with pytest.raises(QuotaNotFound):
            reserve_from(item, 1, quota="winter")
        with pytest.raises(InvalidInput):
            reserve_from(item, 1, tier="Not A Tier")
        assert_invariants(item.product_id)

    def test_a_repeat_of_a_drawn_order_is_a_repeat(self, make_item):
        item = make_item(available_stock=10)
        quota(item, 4)
        reserve_from(item, 3, quota="spring")

        repeated = reserve_from(item, 3, quota="spring")

        assert not repeated.created
        assert Quota.objects.get(code="spring").drawn == 3
        assert_invariants(item.product_id)
