import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from inventory.models import Inventory, Quota, Reservation
from tests.inventory.helpers import assert_invariants

FIRST_PRODUCT = 5_000_001
PRODUCTS = 4


def simulate(live_server, token, **options):
    out = StringIO()
    call_command(
        "simulate_orders",
        base_url=live_server.url,
        token=token,
        first_product=FIRST_PRODUCT,
        products=PRODUCTS,
        no_progress=True,
        stdout=out,
        **options,
    )
    return out.getvalue()


def figure(summary, label):
    return int(re.search(rf"{label} (\d+)", summary).group(1))


@pytest.mark.slow
def test_a_small_run_adds_up_and_keeps_the_ledger(live_server, internal_token):
    summary = simulate(live_server, internal_token, orders=60, concurrency=4, seed=7, stock=12, abandon_ttl=1)

    placed, rejected = figure(summary, "placed"), figure(summary, "rejected for insufficient stock")
    paid, cancelled, abandoned = figure(summary, "paid"), figure(summary, "cancelled"), figure(summary, "abandoned")
    assert "Errors by code: none" in summary
    assert placed + rejected == 60
    assert paid + cancelled + abandoned == placed
    assert rejected > 0  # 12 units of each of 4 products cannot serve 60 orders
    orders = Reservation.objects.filter(product_id__gte=FIRST_PRODUCT).values("order_id").distinct()
    assert orders.count() == placed
    confirmed_orders = orders.filter(status="confirmed").count()
    assert confirmed_orders == paid + figure(summary, "paid late")
    assert "The ledger matches every product." in summary
    assert re.search(r"all\s+\d+\s+[\d.]+\s+[\d.]+", summary)
    for product_id in range(FIRST_PRODUCT, FIRST_PRODUCT + PRODUCTS):
        assert_invariants(product_id)


def test_creates_the_products_it_needs(live_server, internal_token):
    summary = simulate(live_server, internal_token, orders=1, concurrency=1, seed=1, stock=30)

    assert f"Products: {PRODUCTS} ({PRODUCTS} created here with 30 units each)." in summary
    assert Inventory.objects.filter(product_id__gte=FIRST_PRODUCT).count() == PRODUCTS


def test_a_campaign_draws_on_its_quota_and_says_how_often(live_server, internal_token):
    summary = simulate(
        live_server, internal_token, orders=24, concurrency=2, seed=3, stock=60, campaign_share=0.5, campaign_units=9
    )

    quota = Quota.objects.get(code__startswith="campaign-")
    assert f"Campaign: quota {quota.code} sets aside 9 units of product {FIRST_PRODUCT} in sh-1" in summary
    assert (quota.tier, quota.status, quota.allotted) == (quota.code, "ended", 0)
    holds = Reservation.objects.filter(quota=quota)
    assert holds.exists()  # half of 24 orders, most of them of the most popular product
    reported = re.search(
        rf"Campaign {quota.code}: orders of the tier (\d+), draws served from the quota (\d+) \((\d+) units\), "
        r"left and returned to free stock (\d+)",
        summary,
    )
    tier_orders, draws, units, left = map(int, reported.groups())
    assert 0 < tier_orders < 24
    assert (draws, units) == (holds.count(), quota.drawn)
    assert units + left == 9
    assert {hold.product_id for hold in holds} == {FIRST_PRODUCT}
    assert "Errors by code: none" in summary
    assert "The ledger matches every product." in summary
    for product_id in range(FIRST_PRODUCT, FIRST_PRODUCT + PRODUCTS):
        assert_invariants(product_id)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"token": "t", "concurrency": 0}, "--concurrency must be at least 1"),
        ({"token": "t", "orders": 0}, "--orders must be at least 1"),
        ({"token": ""}, "Give --token or set INVENTORY_API_TOKEN"),
        ({"token": "t", "campaign_share": 1.5}, "--campaign-share must be from 0 to 1"),
        ({"token": "t", "campaign_share": 0.5, "campaign_units": 0}, "--campaign-units must be from 1 to 1000000000"),
    ],
)
def test_refuses_nonsense_options(options, message):
    with pytest.raises(CommandError, match=message):
        call_command("simulate_orders", base_url="http://127.0.0.1:9", **options)
