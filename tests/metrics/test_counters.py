"""The counters of /metrics move by exactly what the services and the requests did."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory import services, tasks
from inventory.exceptions import InsufficientStock, VersionConflict
from inventory.models import Reservation, StockLevel
from inventory.services import ReservationLine
from tests.metrics.conftest import moved, value

RESERVES = "inventory_reserves_total"
ENDED = "inventory_holds_ended_total"


def reserve(order_id: str, product_id: int, quantity: int):
    return services.reserve_stock(
        order_id=order_id, lines=[ReservationLine(product_id, quantity)], actor="shop", ttl_seconds=600
    )


# Real commits: the endings of holds are counted once their transaction commits.
pytestmark = pytest.mark.django_db(transaction=True)


def test_a_reserve_a_refusal_and_an_expiry_move_their_counters_by_one_each(scrape, make_item):
    item = make_item(available_stock=5)
    before = scrape()

    reserve("M-1", item.product_id, 2)
    reserve("M-1", item.product_id, 2)
    with pytest.raises(InsufficientStock):
        reserve("M-2", item.product_id, 10)
    Reservation.objects.filter(order_id="M-1").update(expires_at=timezone.now() - timedelta(seconds=5))
    assert tasks.expire_overdue_reservations() == 1
    after = scrape()

    assert moved(before, after, RESERVES, outcome="reserved") == 1
    assert moved(before, after, RESERVES, outcome="repeat") == 1
    assert moved(before, after, RESERVES, outcome="insufficient_stock") == 1
    assert moved(before, after, ENDED, ending="expire") == 1
    assert moved(before, after, ENDED, ending="deduct") == 0
    assert moved(before, after, ENDED, ending="release") == 0


def test_payments_and_cancellations_are_counted_per_hold(scrape, make_item):
    first, second = make_item(available_stock=5), make_item(available_stock=5)
    services.reserve_stock(
        order_id="M-3",
        lines=[ReservationLine(first.product_id, 1), ReservationLine(second.product_id, 1)],
        actor="shop",
    )
    reserve("M-4", first.product_id, 1)
    before = scrape()

    services.deduct_reservations(order_id="M-3", actor="shop")
    services.release_reservations(order_id="M-4", actor="shop")
    # Released already: nothing more ends.
    services.release_reservations(order_id="M-4", actor="shop")
    after = scrape()

    assert moved(before, after, ENDED, ending="deduct") == 2
    assert moved(before, after, ENDED, ending="release") == 1
    assert moved(before, after, ENDED, ending="expire") == 0


def test_a_stale_version_is_a_version_conflict(scrape, make_item):
    item = make_item(available_stock=5)
    version = StockLevel.objects.get(product_id=item.product_id).version
    before = scrape()

    services.adjust_stock(product_id=item.product_id, delta=1, reason="count", actor="lead", expected_version=version)
    with pytest.raises(VersionConflict):
        services.adjust_stock(
            product_id=item.product_id, delta=1, reason="count", actor="lead", expected_version=version
        )
    after = scrape()

    assert moved(before, after, "inventory_version_conflicts_total") == 1


def test_the_sold_out_gate_counts_its_hits_and_misses(scrape, make_item, settings):
    assert settings.REDIS_URL, "the gate needs the tests' Redis"
    item = make_item(available_stock=1)
    reserve("M-5", item.product_id, 1)
    before = scrape()

    # The gate has no flag yet (a reserve never sets one): M-6 is a miss that the database refuses, which
    # flags the product; M-7 is a hit. The release clears the flag: M-8 is a miss, and reserved.
    for order in ("M-6", "M-7"):
        with pytest.raises(InsufficientStock):
            reserve(order, item.product_id, 1)
    services.release_reservations(order_id="M-5", actor="shop")
    reserve("M-8", item.product_id, 1)
    after = scrape()

    assert moved(before, after, "inventory_sold_out_gate_lookups_total", result="hit") == 1
    assert moved(before, after, "inventory_sold_out_gate_lookups_total", result="miss") == 2
    assert moved(before, after, RESERVES, outcome="insufficient_stock") == 2


def test_requests_are_counted_by_route_name_never_by_path(client, scrape):
    before = scrape()
    for product_id in (123456789, 987654321):
        client.get(f"/api/v1/inventory/check/{product_id}")
    client.get("/no/such/page/4242")
    client.get("/healthz")
    after = scrape()

    assert moved(before, after, "inventory_http_requests_total", route="healthz", method="GET", status="2xx") == 1
    assert moved(before, after, "inventory_http_requests_total", route="unresolved", method="GET", status="4xx") == 1
    routes = {labels for (name, labels), _ in after.items() if name == "inventory_http_requests_total"}
    detail = [dict(labels) for labels in routes if dict(labels)["route"] == "inventory-check-detail"]
    assert sum(moved(before, after, "inventory_http_requests_total", **labels) for labels in detail) == 2
    # A route is a URL pattern's name (admin:jsi18n has digits of its own), never a path or an id in one.
    raw = ("/", "123456789", "987654321", "4242")
    assert not [labels for labels in routes if any(part in dict(labels)["route"] for part in raw)]
    latency = "inventory_http_request_duration_seconds_count"
    assert moved(before, after, latency, route="healthz", method="GET") == 1
    assert value(after, "inventory_http_request_duration_seconds_bucket", route="healthz", method="GET", le="+Inf") >= 1
