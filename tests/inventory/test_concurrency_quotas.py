"""Quotas under real threads against PostgreSQL: free reserves racing a quota's creation,
its extension, a count that shrinks it and its end. The set-aside units are never sold to
free reserves, nothing oversells, nothing deadlocks, and the ledger replays."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory import services
from inventory.exceptions import InsufficientStock
from inventory.models import Quota, StockLevel
from tests.inventory.helpers import assert_invariants, stock_of
from tests.inventory.test_concurrency import run_concurrently
from tests.inventory.test_services_reserve import reserve

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.mark.usefixtures("store")
@pytest.mark.parametrize("buckets", [1, 4], ids=["one-row", "hot-level"])
def test_free_reserves_racing_quota_changes_never_take_the_set_aside_units(make_item, actor, buckets):
    item = make_item(available_stock=100)
    if buckets > 1:
        services.make_hot(product_id=item.product_id, buckets=buckets, actor=actor)
    now = timezone.now()
    window = {"starts_at": now, "ends_at": now + timedelta(hours=1)}

    def create():
        return services.create_quota(code="launch", product_id=item.product_id, quantity=30, actor=actor, **window)

    def extend():
        if Quota.objects.filter(code="launch").exists():
            return services.change_quota(code="launch", quantity=40, actor=actor)
        return None

    def count():
        return services.adjust_stock(product_id=item.product_id, delta=-5, reason="broken", actor=actor)

    # 60 buyers of 1 and a count of 5 leave 35 of 100: the quota of 30 is always made.
    buyers = [lambda n=n: reserve(f"Q-{n}", (item.product_id, 1)) for n in range(60)]
    results = run_concurrently([create, *buyers[:30], extend, count, *buyers[30:]])

    assert isinstance(results[0], Quota)
    sold = sum(isinstance(result, services.ReserveResult) for result in results)
    refused = sum(isinstance(result, InsufficientStock) for result in results[1:31] + results[33:])
    assert sold + refused == 60
    level = StockLevel.objects.get(product_id=item.product_id)
    made = Quota.objects.get(code="launch")
    assert level.allotted_stock == made.allotted
    assert level.allotted_stock <= level.available_stock
    available, held = stock_of(item.product_id)
    assert held == sold
    # 100 units, 5 lost: what buyers took plus what is left (the quota's part included) is 95.
    assert available + held == 95
    if refused:
        # A refused buyer found every free unit gone: the rest is the quota's.
        assert available == made.allotted
    assert_invariants(item.product_id)


@pytest.mark.usefixtures("store")
def test_a_quota_ending_while_buyers_queue_frees_its_units_for_them(make_item, actor):
    item = make_item(available_stock=20)
    now = timezone.now()
    services.create_quota(
        code="flash",
        product_id=item.product_id,
        quantity=10,
        actor=actor,
        starts_at=now,
        ends_at=now + timedelta(hours=1),
    )

    results = run_concurrently(
        [lambda: services.end_quota(code="flash", actor=actor)]
        + [lambda n=n: reserve(f"E-{n}", (item.product_id, 1)) for n in range(30)]
    )

    sold = sum(isinstance(result, services.ReserveResult) for result in results)
    assert 10 <= sold <= 20
    assert Quota.objects.get(code="flash").status == "ended"
    available, held = stock_of(item.product_id)
    assert (available + held, held) == (20, sold)
    assert_invariants(item.product_id)


@pytest.mark.usefixtures("store")
@pytest.mark.parametrize("buckets", [1, 4], ids=["one-row", "hot-level"])
def test_quota_draws_racing_free_reserves_and_the_quotas_end(make_item, actor, buckets):
    item = make_item(available_stock=30)
    if buckets > 1:
        services.make_hot(product_id=item.product_id, buckets=buckets, actor=actor)
    now = timezone.now()
    window = {"starts_at": now, "ends_at": now + timedelta(hours=1)}
    services.create_quota(
        code="members", product_id=item.product_id, quantity=10, actor=actor, overflow=False, **window
    )

    def member(n: int):
        return services.reserve_stock(
            order_id=f"M-{n}", lines=[services.ReservationLine(item.product_id, 1, quota="members")], actor=actor
        )

    calls = [lambda n=n: member(n) for n in range(25)] + [
        lambda n=n: reserve(f"F-{n}", (item.product_id, 1)) for n in range(25)
    ]
    calls.insert(30, lambda: services.end_quota(code="members", actor=actor))
    results = run_concurrently(calls)

    members = [r for r in results[:25] if isinstance(r, services.ReserveResult)]
    drawn = sum(hold.quota_units for r in members for hold in r.reservations)
    made = Quota.objects.get(code="members")
    assert made.status == "ended"
    assert made.allotted == 0
    assert made.drawn == drawn <= 10
    available, held = stock_of(item.product_id)
    sold = sum(isinstance(r, services.ReserveResult) for r in results)
    assert (available + held, held) == (30, sold)
    assert_invariants(item.product_id)
