"""The dashboard's figures and chart."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from inventory import selectors, services
from inventory.admin.charts import axis_label, stock_chart
from inventory.models import Reservation

DASHBOARD = reverse("admin:inventory_dashboard")


def hold(order_id: str, product_id: int, quantity: int = 1, ttl_seconds: int = 1800):
    services.reserve_stock(
        order_id=order_id, lines=[services.ReservationLine(product_id, quantity)], actor="shop", ttl_seconds=ttl_seconds
    )


def test_dashboard_figures(client_for, staff, item):
    busy, low, _out = item(100, 5), item(4, 5), item(0, 5)
    hold("SOON", busy.product_id, 2, ttl_seconds=60)
    hold("LATER", busy.product_id, 3)
    hold("PAID", busy.product_id)
    hold("GONE", busy.product_id)
    services.deduct_reservations(order_id="PAID", actor="shop")
    Reservation.objects.filter(order_id="GONE").update(expires_at=timezone.now() - timedelta(seconds=1))
    services.expire_overdue_reservations()
    services.restock(product_id=low.product_id, quantity=1, actor="alice")

    response = client_for(staff).get(DASHBOARD)

    assert response.status_code == 200
    figures = response.context["figures"]
    assert (figures.low_stock, figures.out_of_stock) == (2, 1)
    assert (figures.active_reservations, figures.expiring_soon) == (2, 1)
    assert (figures.holds_expired, figures.holds_ended, figures.timeout_rate) == (1, 2, 0.5)
    page = response.content.decode()
    assert '<strong id="timeout-rate">50 %</strong>' in page
    moved = response.context["most_moved"]
    assert moved[0] == {"product_id": busy.product_id, "units": 2 + 3 + 1 + 1 + 1 + 1, "movements": 6}
    assert moved[1]["product_id"] == low.product_id
    # With no product asked for, the chart shows the most moved item.
    assert response.context["chart_product"] == busy.product_id
    assert "<polyline" in page


def test_dashboard_chart_of_a_chosen_product(client_for, staff, item):
    product = item(7)
    response = client_for(staff).get(DASHBOARD, {"product": str(product.product_id)})
    assert response.context["chart"].product_id == product.product_id
    assert "no internet" not in response.content.decode()
    nothing = client_for(staff).get(DASHBOARD, {"product": "123456789"})
    assert nothing.context["chart"] is None
    assert "No log entries for product 123456789" in nothing.content.decode()


def test_dashboard_needs_the_view_permission(client, db):
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_user("bare", is_staff=True))
    assert client.get(DASHBOARD).status_code == 403


def test_no_timeout_rate_without_ended_holds(item):
    item(3)
    figures = selectors.dashboard_figures(
        now=timezone.now(), expiring_within=timedelta(minutes=5), rate_window=timedelta(hours=24)
    )
    assert figures.timeout_rate is None


def test_the_chart_steps_through_the_log(item):
    product = item(10)
    services.restock(product_id=product.product_id, quantity=30, actor="alice")
    entries = selectors.stock_history(product.product_id)
    now = entries[-1].created_at + timedelta(hours=1)

    chart = stock_chart(product.product_id, entries, now=now)

    points = [tuple(map(float, point.split(","))) for point in chart.available_points.split()]
    # create (10), a step across to the restock, the restock (40), then flat to now.
    assert len(points) == 4
    assert points[0][1] > points[2][1]  # 40 is drawn higher (a smaller y) than 10
    assert points[1][1] == points[0][1]
    assert points[3][1] == points[2][1]
    assert points[-1][0] == chart.plot_right
    assert [label for _, label in chart.y_ticks] == ["0", "10", "20", "30", "40"]
    assert stock_chart(product.product_id, [], now=now) is None


@pytest.mark.parametrize(
    ("value", "label"),
    [(0, "0"), (99_999, "99,999"), (100_000, "100k"), (927_725, "928k"), (1_236_967, "1.2M"), (10**9, "1.0G")],
)
def test_axis_labels_fit_the_chart_margin(value, label):
    assert axis_label(value) == label
    assert len(label) <= 6


# --- One warehouse ---------------------------------------------------------------------


@pytest.fixture
def north_and_default(item, warehouse):
    """default: one product low (3 of 5), one out; north: the first product out, the second low."""
    warehouse("north")
    first, second = item(3, 5), item(0, 5)
    services.restock(product_id=first.product_id, quantity=20, warehouse="north", actor="setup")
    services.adjust_stock(product_id=first.product_id, delta=-20, reason="moved", warehouse="north", actor="setup")
    services.restock(product_id=second.product_id, quantity=4, warehouse="north", actor="setup")
    services.reserve_stock(
        order_id="N-1",
        lines=[services.ReservationLine(second.product_id, 1)],
        actor="shop",
        ttl_seconds=60,
        routing=services.Routing(pool="all"),
    )
    return first, second


def test_the_dashboard_of_one_warehouse_counts_its_levels(client_for, staff, north_and_default):
    first, second = north_and_default
    client = client_for(staff)

    everywhere = client.get(DASHBOARD).context["figures"]
    north = client.get(DASHBOARD, {"warehouse": "north"})
    default = client.get(DASHBOARD, {"warehouse": "default"}).context["figures"]

    figures = north.context["figures"]
    # north: first has 0 of 10 (low and out), second 3 of 10 after its hold (low).
    assert (figures.low_stock, figures.out_of_stock) == (2, 1)
    assert (figures.active_reservations, figures.expiring_soon) == (1, 1)
    # default: first 3 of 5 (low), second 0 of 5 (low and out); its hold is north's.
    assert (default.low_stock, default.out_of_stock, default.active_reservations) == (2, 1, 0)
    # Every warehouse: the products' sums (first 3 of 15, second 3 of 15), both low, none out.
    assert (everywhere.low_stock, everywhere.out_of_stock, everywhere.active_reservations) == (2, 0, 1)
    assert {row["product_id"] for row in north.context["most_moved"]} == {first.product_id, second.product_id}
    assert north.context["most_moved"][0] == {"product_id": first.product_id, "units": 40, "movements": 2}
    html = north.content.decode()
    assert "Now, in north" in html
    assert '<option value="north" selected>north</option>' in html
    warehouse_id = north.context["warehouse"].pk
    assert "?stock=low&amp;warehouse=north" in html
    assert f"?status__exact=active&amp;warehouse__id__exact={warehouse_id}" in html
    assert f"?product={first.product_id}&amp;warehouse=north#stock-chart" in html


def test_the_dashboard_links_lead_to_lists_of_as_many(client_for, staff, north_and_default):
    client = client_for(staff)
    figures = client.get(DASHBOARD, {"warehouse": "north"}).context["figures"]
    inventory = reverse("admin:inventory_inventory_changelist")
    for condition, count in (("low", figures.low_stock), ("out", figures.out_of_stock)):
        listed = client.get(inventory, {"stock": condition, "warehouse": "north"}).context["cl"].result_list
        assert len(listed) == count


def test_the_chart_of_one_warehouse_is_its_level(client_for, staff, north_and_default):
    first, _ = north_and_default
    response = client_for(staff).get(DASHBOARD, {"warehouse": "default", "product": str(first.product_id)})
    chart = response.context["chart"]
    assert chart.entries == 1  # default's create; north's two entries are not drawn
    assert [label for _, label in chart.y_ticks][-1] == "3"


def test_an_unknown_warehouse_shows_every_warehouse_and_says_so(client_for, staff, north_and_default):
    for code in ("nowhere", "a\x00", "x" * 300):
        response = client_for(staff).get(DASHBOARD, {"warehouse": code})
        assert response.status_code == 200
        assert response.context["warehouse"] is None
        assert "No warehouse" in response.content.decode()
    assert client_for(staff).get(DASHBOARD, {"warehouse": ""}).context["warehouse"] is None
