"""Count sheets through the services, on both stores: a count freezes what was expected under the
level's lock, movements after it do not change the variance, approvals, and a post that is all or
nothing, idempotent, and leaves a ledger that replays."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from inventory import limits, services
from inventory.exceptions import (
    CountIncomplete,
    CountLineNotFound,
    CountNeedsApproval,
    CountSheetNotFound,
    CountSheetNotOpen,
    CountWouldGoNegative,
    InvalidInput,
    ProductNotFound,
)
from inventory.models import CountLine, CountSheet, Inventory, InventoryLog, ItemPlan
from inventory.selectors import ledger_discrepancies
from inventory.selectors.counts import (
    accuracy_by_day,
    accuracy_by_sheet,
    count_reference,
    due_for_count,
    variance_report,
)
from tests.inventory.helpers import assert_invariants, stock_of
from tests.inventory.test_services_reserve import reserve
from tests.inventory.test_verify_ledger import verify

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("store")]


def sheet_of(*items: Inventory, **options) -> CountSheet:
    return services.create_count_sheet(
        warehouse="default", kind="list", product_ids=[item.product_id for item in items], actor="lead", **options
    )


def count(sheet: CountSheet, item: Inventory, counted: int, actor: str = "counter") -> CountLine:
    return services.record_count(sheet_id=sheet.pk, product_id=item.product_id, counted=counted, actor=actor)


def post(sheet: CountSheet) -> CountSheet:
    return services.post_sheet(sheet_id=sheet.pk, actor="manager")


def level_entries(item: Inventory) -> list[int]:
    return list(InventoryLog.objects.filter(product_id=item.product_id).order_by("id").values_list("id", flat=True))


def replayed_on_hand(item: Inventory, position: int) -> int:
    """On-hand of the item's default level replayed from its entries up to `position`: the last
    entry of each row (bucket) then."""
    last = {}
    for bucket, available, reserved in (
        InventoryLog.objects.filter(product_id=item.product_id, warehouse__code="default", id__lte=position)
        .order_by("id")
        .values_list("bucket", "available_after", "reserved_after")
    ):
        last[bucket] = available + reserved
    return sum(last.values())


class TestRecordCount:
    def test_freezes_on_hand_with_reserved_units_and_the_ledger_position(self, make_item):
        item = make_item(available_stock=10)
        reserve("O-1", (item.product_id, 3))
        sheet = sheet_of(item)

        line = count(sheet, item, 9)

        assert (line.counted, line.expected, line.variance) == (9, 10, -1)
        assert line.ledger_position == level_entries(item)[-1]
        assert replayed_on_hand(item, line.ledger_position) == line.expected
        assert (line.counted_by, line.counted_at is not None) == ("counter", True)

    def test_movements_after_the_count_do_not_change_the_line(self, make_item):
        item = make_item(available_stock=10)
        sheet = sheet_of(item)
        line = count(sheet, item, 8)

        services.restock(product_id=item.product_id, quantity=5, actor="clerk")
        reserve("O-2", (item.product_id, 4))

        again = services.get_count_sheet(sheet.pk).lines.get()
        assert (again.expected, again.variance, again.ledger_position) == (10, -2, line.ledger_position)

    def test_a_hot_level_is_summed_over_its_rows(self, make_item, actor):
        item = make_item(available_stock=40)
        services.make_hot(product_id=item.product_id, buckets=4, actor=actor)
        reserve("O-3", (item.product_id, 6))

        line = count(sheet_of(item), item, 40)

        assert line.expected == 40
        assert replayed_on_hand(item, line.ledger_position) == 40

    def test_a_recount_replaces_the_figures_and_the_approval(self, make_item):
        item = make_item(available_stock=10)
        sheet = sheet_of(item)
        count(sheet, item, 2)
        services.approve_lines(sheet_id=sheet.pk, product_ids=[item.product_id], actor="manager")
        services.restock(product_id=item.product_id, quantity=5, actor="clerk")

        line = count(sheet, item, 14, actor="second")

        assert (line.counted, line.expected, line.counted_by) == (14, 15, "second")
        assert line.approved_at is None
        assert line.approved_by == ""
        assert line.ledger_position == level_entries(item)[-1]

    def test_a_list_sheet_refuses_a_product_it_does_not_list(self, make_item):
        listed, other = make_item(), make_item()
        sheet = sheet_of(listed)

        with pytest.raises(CountLineNotFound):
            count(sheet, other, 1)
        assert sheet.lines.count() == 1

    def test_a_full_sheet_lists_the_levels_and_takes_a_product_found_on_the_shelf(self, make_item, warehouse):
        here, elsewhere = make_item(), make_item()
        far = warehouse("far")
        services.restock(product_id=elsewhere.product_id, quantity=3, actor="clerk", warehouse=far.code)
        sheet = services.create_count_sheet(warehouse="far", kind="full", actor="lead")
        assert [line.product_id for line in sheet.lines.all()] == [elsewhere.product_id]

        line = services.record_count(sheet_id=sheet.pk, product_id=here.product_id, counted=2, actor="counter")

        # No level there: nothing was expected, and no entry of it came before the count.
        assert (line.expected, line.ledger_position, line.variance) == (0, 0, 2)
        with pytest.raises(ProductNotFound):
            services.record_count(sheet_id=sheet.pk, product_id=999_999_999, counted=1, actor="counter")

    def test_refusals(self, make_item):
        item = make_item()
        sheet = sheet_of(item)
        with pytest.raises(InvalidInput):
            count(sheet, item, -1)
        with pytest.raises(CountSheetNotFound):
            services.record_count(sheet_id=sheet.pk + 1000, product_id=item.product_id, counted=1, actor="c")
        services.cancel_sheet(sheet_id=sheet.pk, actor="lead")
        with pytest.raises(CountSheetNotOpen):
            count(sheet, item, 1)
        assert sheet.lines.get().counted is None


class TestCreate:
    def test_blind_by_default_with_no_tolerance(self, make_item):
        sheet = sheet_of(make_item())
        assert (sheet.blind, sheet.tolerance_units, sheet.tolerance_percent, sheet.status) == (True, None, None, "open")

    @pytest.mark.parametrize(
        "options",
        [
            {"kind": "weekly"},
            {"tolerance_units": -1},
            {"tolerance_percent": Decimal("100.01")},
            {"tolerance_percent": Decimal("1.005")},
            {"tolerance_percent": 5},
            {"blind": "yes"},
            {"note": "a\x00b"},
        ],
    )
    def test_refuses_bad_options(self, make_item, options):
        item = make_item()
        with pytest.raises(InvalidInput):
            services.create_count_sheet(
                **{"warehouse": "default", "kind": "list", "product_ids": [item.product_id], "actor": "lead", **options}
            )
        assert not CountSheet.objects.exists()

    def test_a_list_names_known_products_once(self, make_item):
        item = make_item()
        with pytest.raises(InvalidInput):
            services.create_count_sheet(
                warehouse="default", kind="list", product_ids=[item.product_id] * 2, actor="lead"
            )
        with pytest.raises(ProductNotFound):
            services.create_count_sheet(
                warehouse="default", kind="list", product_ids=[item.product_id, 999_999_998], actor="lead"
            )
        assert not CountSheet.objects.exists()


class TestTolerance:
    @pytest.mark.parametrize(
        ("units", "percent", "expected", "counted", "within"),
        [
            (None, None, 10, 10, True),
            (None, None, 10, 11, False),
            (2, None, 10, 8, True),
            (2, None, 10, 7, False),
            (None, Decimal("10"), 50, 55, True),
            (None, Decimal("10"), 50, 56, False),
            # Whichever allows more: 10 % of 50 beats 2 units; 2 units beat 10 % of 5.
            (2, Decimal("10"), 50, 45, True),
            (2, Decimal("10"), 5, 3, True),
            (2, Decimal("10"), 5, 2, False),
            # A find of a product expected at 0 is within the units alone.
            (None, Decimal("50"), 0, 1, False),
        ],
    )
    def test_within_the_larger_allowance(self, make_item, units, percent, expected, counted, within):
        item = make_item(available_stock=expected)
        sheet = sheet_of(item, tolerance_units=units, tolerance_percent=percent)

        line = count(sheet, item, counted)

        assert line.within_tolerance is within


class TestPost:
    def test_applies_the_variance_as_a_delta_to_the_stock_as_it_is_now(self, make_item):
        item = make_item(available_stock=20)
        reserve("O-1", (item.product_id, 5))
        sheet = sheet_of(item, tolerance_units=5)
        count(sheet, item, 17)  # 3 missing of 20 on the shelf
        services.restock(product_id=item.product_id, quantity=10, actor="clerk")
        reserve("O-2", (item.product_id, 2))

        posted = post(sheet)

        # On hand: 20 counted as 17, then 10 came: 27, of them 7 held by the two orders.
        assert stock_of(item.product_id) == (20, 7)
        entry = posted.lines.get().adjustment
        assert (entry.operation, entry.quantity, entry.reference) == ("adjust", -3, count_reference(sheet.pk))
        assert (posted.status, posted.ended_by) == ("posted", "manager")
        assert "matches every product" in verify()
        assert_invariants(item.product_id)

    def test_a_gain_and_a_confirmed_count(self, make_item):
        gained, exact = make_item(available_stock=4), make_item(available_stock=6)
        sheet = sheet_of(gained, exact, tolerance_units=10)
        count(sheet, gained, 9)
        count(sheet, exact, 6)
        before = InventoryLog.objects.count()

        posted = post(sheet)

        assert stock_of(gained.product_id) == (9, 0)
        assert stock_of(exact.product_id) == (6, 0)
        # One adjustment per line with a variance, none for the exact count.
        assert InventoryLog.objects.count() == before + 1
        adjusted = {line.product_id: line.adjustment_id is not None for line in posted.lines.all()}
        assert adjusted == {gained.product_id: True, exact.product_id: False}

    def test_a_loss_on_a_hot_level_keeps_the_holds(self, make_item, actor):
        item = make_item(available_stock=40)
        services.make_hot(product_id=item.product_id, buckets=4, actor=actor)
        reserve("O-1", (item.product_id, 10))
        sheet = sheet_of(item, tolerance_units=100)
        count(sheet, item, 25)

        post(sheet)

        assert stock_of(item.product_id) == (15, 10)
        assert list(ledger_discrepancies(product_id=item.product_id)) == []

    def test_posting_twice_changes_nothing_the_second_time(self, make_item):
        item = make_item(available_stock=10)
        sheet = sheet_of(item, tolerance_units=5)
        count(sheet, item, 7)
        first = post(sheet)
        entries, stock = InventoryLog.objects.count(), stock_of(item.product_id)
        ended_at = first.ended_at

        second = post(sheet)

        assert (InventoryLog.objects.count(), stock_of(item.product_id)) == (entries, stock)
        assert second.ended_at == ended_at
        assert [line.adjustment_id for line in second.lines.all()] == [line.adjustment_id for line in first.lines.all()]

    def test_a_line_that_would_go_negative_refuses_the_whole_post(self, make_item):
        fine, short = make_item(available_stock=10), make_item(available_stock=10)
        sheet = sheet_of(fine, short, tolerance_units=100)
        count(sheet, fine, 12)
        count(sheet, short, 2)
        # After the count 8 of the short item's units are held: only 2 are available for a loss of 8.
        reserve("O-1", (short.product_id, 8))
        entries = InventoryLog.objects.count()

        with pytest.raises(CountWouldGoNegative) as refused:
            post(sheet)

        assert refused.value.details["product_ids"] == [short.product_id]
        assert refused.value.details["lines"] == [{"product_id": short.product_id, "available_stock": 2, "delta": -8}]
        assert InventoryLog.objects.count() == entries
        assert stock_of(fine.product_id) == (10, 0)
        assert stock_of(short.product_id) == (2, 8)
        sheet.refresh_from_db()
        assert sheet.status == "open"
        assert not sheet.lines.filter(adjustment__isnull=False).exists()

    def test_a_sheet_with_a_line_not_counted_is_not_posted(self, make_item):
        counted, missing = make_item(), make_item()
        sheet = sheet_of(counted, missing, tolerance_units=100)
        count(sheet, counted, 1)

        with pytest.raises(CountIncomplete) as refused:
            post(sheet)

        assert refused.value.details["product_ids"] == [missing.product_id]
        assert stock_of(counted.product_id) == (10, 0)

    def test_a_variance_over_the_tolerance_needs_approval(self, make_item):
        small, large = make_item(available_stock=10), make_item(available_stock=10)
        sheet = sheet_of(small, large, tolerance_units=1)
        count(sheet, small, 9)
        count(sheet, large, 4)

        with pytest.raises(CountNeedsApproval) as refused:
            post(sheet)
        assert refused.value.details["product_ids"] == [large.product_id]
        assert stock_of(small.product_id) == (10, 0)

        services.approve_lines(sheet_id=sheet.pk, product_ids=[large.product_id], actor="manager")
        post(sheet)
        assert stock_of(small.product_id) == (9, 0)
        assert stock_of(large.product_id) == (4, 0)

    def test_approval_names_counted_lines_of_the_sheet(self, make_item):
        item, other = make_item(), make_item()
        sheet = sheet_of(item)
        with pytest.raises(CountIncomplete):
            services.approve_lines(sheet_id=sheet.pk, product_ids=[item.product_id], actor="manager")
        with pytest.raises(CountLineNotFound):
            services.approve_lines(sheet_id=sheet.pk, product_ids=[other.product_id], actor="manager")

    def test_a_reason_with_nul_is_refused(self, make_item):
        item = make_item()
        sheet = sheet_of(item, tolerance_units=100)
        count(sheet, item, 3)
        with pytest.raises(InvalidInput):
            services.post_sheet(sheet_id=sheet.pk, actor="manager", reason="a\x00b")
        assert services.get_count_sheet(sheet.pk).status == "open"

    def test_a_cancelled_sheet_is_not_posted(self, make_item):
        item = make_item()
        sheet = sheet_of(item)
        count(sheet, item, 3)
        services.cancel_sheet(sheet_id=sheet.pk, actor="lead")

        with pytest.raises(CountSheetNotOpen):
            post(sheet)
        assert stock_of(item.product_id) == (10, 0)


class TestDatabaseRules:
    """What the database refuses whoever asks (triggers of migration 0018, and CHECKs)."""

    def test_a_posted_sheet_and_its_lines_are_final(self, make_item):
        item = make_item()
        sheet = sheet_of(item, tolerance_units=100)
        count(sheet, item, 3)
        post(sheet)

        for change in (
            lambda: CountLine.objects.filter(sheet=sheet).update(counted=4),
            lambda: CountSheet.objects.filter(pk=sheet.pk).update(status="open", ended_by="", ended_at=None),
            lambda: CountLine.objects.create(sheet=sheet, product=make_item()),
        ):
            with pytest.raises(DatabaseError), transaction.atomic():
                change()
        assert sheet.lines.get().counted == 3

    def test_a_sheet_with_a_line_not_counted_cannot_be_marked_posted(self, make_item):
        sheet = sheet_of(make_item())
        with pytest.raises(DatabaseError), transaction.atomic():
            CountSheet.objects.filter(pk=sheet.pk).update(status="posted", ended_by="x", ended_at=timezone.now())

    def test_a_count_freezes_its_figures_together(self, make_item):
        sheet = sheet_of(make_item())
        with pytest.raises(DatabaseError), transaction.atomic():
            sheet.lines.update(counted=3)

    def test_a_unit_value_is_never_negative(self, make_item):
        item = make_item()
        with pytest.raises(DatabaseError), transaction.atomic():
            Inventory.products.filter(pk=item.pk).update(unit_value=Decimal("-0.01"))


class TestReports:
    def test_the_variance_report_in_units_and_value(self, make_item):
        valued, unvalued, exact = make_item(available_stock=10), make_item(available_stock=10), make_item()
        Inventory.products.filter(pk=valued.pk).update(unit_value=Decimal("2.50"))
        sheet = sheet_of(valued, unvalued, exact, tolerance_units=1)
        count(sheet, valued, 6)
        count(sheet, unvalued, 13)
        count(sheet, exact, 10)

        report = variance_report(services.get_count_sheet(sheet.pk))

        assert (report.counted, report.not_counted) == (3, 0)
        assert (report.gained, report.lost, report.net) == (3, 4, -1)
        assert (report.value, report.lines_without_value) == (Decimal("-10.00"), 1)
        assert (report.over_tolerance, report.awaiting_approval) == (2, 2)

    def test_the_value_is_frozen_at_post(self, make_item):
        item = make_item(available_stock=10)
        Inventory.products.filter(pk=item.pk).update(unit_value=Decimal("3"))
        sheet = sheet_of(item, tolerance_units=5)
        count(sheet, item, 8)
        post(sheet)

        Inventory.products.filter(pk=item.pk).update(unit_value=Decimal("100"))

        assert variance_report(services.get_count_sheet(sheet.pk)).value == Decimal("-6")

    def test_accuracy_per_sheet_and_per_day(self, make_item):
        items = [make_item(available_stock=10) for _ in range(4)]
        sheet = sheet_of(*items, tolerance_units=1)
        for item, counted in zip(items, (10, 11, 7, 10), strict=True):
            count(sheet, item, counted)
        services.approve_lines(sheet_id=sheet.pk, product_ids=[items[2].product_id], actor="manager")
        open_sheet = sheet_of(make_item())
        count(open_sheet, Inventory.objects.get(product_id=open_sheet.lines.get().product_id), 0)
        post(sheet)

        by_sheet = accuracy_by_sheet()
        assert [(a.key, a.lines, a.within, a.share) for a in by_sheet] == [(sheet.pk, 4, 3, Decimal("0.75"))]
        by_day = accuracy_by_day()
        assert [(a.key, a.lines, a.within) for a in by_day] == [(timezone.localdate(), 4, 3)]


class TestCycle:
    def test_proposes_what_is_due_by_class(self, make_item):
        a, b, c, fresh = (make_item() for _ in range(4))
        classes = {a.product_id: "A", b.product_id: "B", fresh.product_id: "A"}
        counted_on_sheet([a, b, c, fresh], days_ago=40)
        counted_on_sheet([fresh], days_ago=1)
        today = timezone.localdate()

        proposed = services.propose_cycle_sheet(warehouse="default", today=today, actor="beat", classes=classes)

        # A (every 30 days) is due; B (91), C (365) and `fresh` (counted yesterday) are not.
        assert proposed.kind == "cycle"
        assert [line.product_id for line in proposed.lines.all()] == [a.product_id]
        # Editable intervals: B every 30 days too. `a` is on the open sheet already.
        again = services.propose_cycle_sheet(
            warehouse="default", today=today, actor="beat", classes=classes, intervals={"B": 30}
        )
        assert [line.product_id for line in again.lines.all()] == [b.product_id]
        assert services.propose_cycle_sheet(warehouse="default", today=today, actor="beat", classes=classes) is None

    def test_the_most_urgent_first(self, make_item):
        never_c, never_a, late_a, late_c = (make_item() for _ in range(4))
        classes = {never_a.product_id: "A", late_a.product_id: "A"}
        counted_on_sheet([late_a], days_ago=60)  # one interval late
        counted_on_sheet([late_c], days_ago=400)  # a tenth of one late

        due = due_for_count(
            warehouse_id=never_c.levels.get().warehouse_id,
            today=timezone.localdate(),
            classes=classes,
            intervals=limits.CYCLE_COUNT_INTERVAL_DAYS,
            most=3,
        )

        assert [item.product_id for item in due] == [never_a.product_id, never_c.product_id, late_a.product_id]
        assert [item.overdue_days for item in due] == [None, None, 30]

    def test_refuses_unknown_classes_and_bad_intervals(self, make_item):
        item = make_item()
        today = timezone.localdate()
        with pytest.raises(InvalidInput):
            services.propose_cycle_sheet(warehouse="default", today=today, actor="b", classes={item.product_id: "D"})
        with pytest.raises(InvalidInput):
            services.propose_cycle_sheet(warehouse="default", today=today, actor="b", intervals={"A": 0})
        assert not CountSheet.objects.exists()


class TestTodaysCycleSheets:
    def test_every_warehouse_by_the_planning_runs_classes_and_the_settings_intervals(self, make_item, warehouse):
        other = warehouse("north-1")
        fast, slow, unclassed = (make_item() for _ in range(3))
        default = fast.levels.get().warehouse_id
        counted_on_sheet([fast, slow, unclassed], days_ago=40)
        services.restock(product_id=slow.product_id, quantity=5, warehouse="north-1", actor="setup")
        ItemPlan.objects.create(product_id=fast.product_id, warehouse_id=default, abc_class="A")
        ItemPlan.objects.create(product_id=slow.product_id, warehouse_id=default, abc_class="C")
        ItemPlan.objects.create(product_id=slow.product_id, warehouse_id=other.pk, abc_class="A")
        services.set_planning_settings(c_count_days=30, actor="lead")
        today = timezone.localdate()

        sheets = services.propose_todays_cycle_sheets(today=today)

        # default: A due after 30 days, and C now too (every 30 days); north-1: its level never counted.
        assert {(s.warehouse.code, tuple(sorted(line.product_id for line in s.lines.all()))) for s in sheets} == {
            ("default", tuple(sorted((fast.product_id, slow.product_id, unclassed.product_id)))),
            ("north-1", (slow.product_id,)),
        }
        assert {s.actor for s in sheets} == {"cycle-count"}
        assert services.propose_todays_cycle_sheets(today=today) == []  # all on open sheets now

    def test_the_settings_intervals_decide(self, make_item):
        item = make_item()
        ItemPlan.objects.create(product_id=item.product_id, warehouse_id=item.levels.get().warehouse_id, abc_class="B")
        counted_on_sheet([item], days_ago=40)

        assert services.propose_todays_cycle_sheets(today=timezone.localdate()) == []  # B: every 91 days


def counted_on_sheet(items: list[Inventory], *, days_ago: int) -> CountSheet:
    """A posted sheet that counted the items exactly, dated `days_ago` (while it was open: then its lines are final)."""
    sheet = sheet_of(*items)
    for item in items:
        count(sheet, item, Inventory.objects.get(pk=item.pk).total_stock)
    sheet.lines.update(counted_at=timezone.now() - timedelta(days=days_ago))
    return post(sheet)
