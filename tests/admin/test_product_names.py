"""Products by name on every screen, the item by product id, the barcode scanner, and who sees which screens."""

import re

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.urls import reverse

from inventory import services
from inventory.digests import build_low_stock_digest
from inventory.models import Inventory

LIST = reverse("admin:inventory_inventory_changelist")


@pytest.fixture
def named(db):
    """Two named items (one low on stock, with a log entry and a hold) and one without a name."""
    cable = services.create_inventory(
        product_id=610_001, sku="CABLE-1M", name="USB-C cable, 1 m", available_stock=1_234_567, actor="setup"
    )
    toner = services.create_inventory(
        product_id=610_002, sku="TONER-K", name="Toner, black", available_stock=2, low_stock_threshold=5, actor="setup"
    )
    services.create_inventory(product_id=610_003, available_stock=9, actor="setup")
    services.reserve_stock(order_id="ORD-55", lines=[services.ReservationLine(cable.product_id, 3)], actor="shop")
    return cable, toner


def item_url(item: Inventory) -> str:
    return reverse("admin:inventory_inventory_change", args=[item.pk])


def test_the_list_shows_sku_name_and_grouped_figures(client_for, staff, named):
    html = client_for(staff).get(LIST).content.decode()
    assert "CABLE-1M" in html
    assert "USB-C cable, 1 m" in html
    assert '<span class="num">1,234,564</span>' in html  # 1,234,567 less the 3 held
    assert f'<a href="{item_url(named[0])}">610001</a>' in html


@pytest.mark.parametrize("page", ["admin:inventory_inventorylog_changelist", "admin:inventory_reservation_changelist"])
def test_the_log_and_the_reservations_name_the_product_and_link_to_it(client_for, staff, named, page):
    html = client_for(staff).get(reverse(page)).content.decode()
    cable = named[0]
    assert (
        f'<a href="{item_url(cable)}">610001</a> <span class="product-label" title="CABLE-1M · USB-C cable, 1 m">'
        in html
    )


def test_the_dashboard_names_the_most_moved_and_links_them(client_for, staff, named):
    html = client_for(staff).get(reverse("admin:inventory_dashboard")).content.decode()
    moved = html[html.index('id="most-moved"') :]
    product_page = reverse("admin:inventory_inventory_product", args=[610_001])
    assert f'<a href="{product_page}">610001</a>' in moved
    assert "CABLE-1M · USB-C cable, 1 m" in moved


def test_the_item_page_names_the_product(client_for, staff, named):
    html = client_for(staff).get(item_url(named[0])).content.decode()
    assert "CABLE-1M" in html
    assert "USB-C cable, 1 m" in html
    assert "1,234,564" in html


@pytest.mark.parametrize(
    ("product_id", "found"), [("610001", True), ("999999", False), ("abc", False), ("0", False), ("9" * 30, False)]
)
def test_the_item_by_product_id(client_for, staff, named, product_id, found):
    response = client_for(staff).get(f"/admin/inventory/inventory/product/{product_id}/")
    assert response.status_code == 302
    if found:
        assert response["Location"] == item_url(named[0])
    else:
        assert response["Location"] == reverse("admin:index")  # with "… doesn't exist" as a message


def test_the_item_by_product_id_needs_the_view_permission(client_for, named):
    nobody = User.objects.create_user("nobody", password="pw", is_staff=True)
    assert client_for(nobody).get("/admin/inventory/inventory/product/610001/").status_code == 403


@pytest.mark.parametrize("term", ["CABLE-1M", " CABLE-1M ", "610001"])
def test_a_scanned_sku_or_id_lands_on_the_item(client_for, staff, named, term):
    response = client_for(staff).get(LIST, {"q": term})
    assert response.status_code == 302
    assert response["Location"] == item_url(named[0])


@pytest.mark.parametrize("term", ["cable-1m", "USB", "Toner", "CABLE", "61000", "x\x00y", "é" * 70])
def test_a_search_that_is_no_exact_sku_or_id_lists(client_for, staff, named, term):
    assert client_for(staff).get(LIST, {"q": term}).status_code == 200


def test_a_term_that_is_one_items_id_and_anothers_sku_lists_both(client_for, staff, named):
    services.create_inventory(product_id=620_000, sku="610001", actor="setup")
    response = client_for(staff).get(LIST, {"q": "610001"})
    assert response.status_code == 200
    assert {item.product_id for item in response.context["cl"].result_list} == {610_001, 620_000}


def test_view_site_is_the_dashboard(client_for, staff, named):
    html = client_for(staff).get(reverse("admin:index")).content.decode()
    dashboard = reverse("admin:inventory_dashboard")
    user_tools = html[html.index('id="user-tools"') :]
    assert re.search(rf'<a href="{dashboard}">Stock dashboard</a>', user_tools)
    assert "View site" not in html


def test_warehouse_staff_see_only_their_screens(client_for, staff, manager):
    for person in (staff, manager):
        html = client_for(person).get(reverse("admin:index")).content.decode()
        models = set(re.findall(r'<tr class="model-(\w+)', html))
        # Stock levels have no screen of their own: an item's page shows them.
        assert models == {
            "inventory",
            "inventorylog",
            "reservation",
            "warehouse",
            "pool",
            "transfer",
            "quota",
            "purchaseorder",
            "presale",
            "backorder",
            "itemplan",
            "countsheet",
        }, person
        for other in ("periodictask", "crontabschedule", "user", "group", "apiclient", "accessattempt"):
            assert f"model-{other}" not in html


def test_a_superuser_sees_the_schedules(client_for, superuser):
    html = client_for(superuser).get(reverse("admin:index")).content.decode()
    assert "model-periodictask" in html


def test_the_digest_names_each_product(settings, named):
    settings.INVENTORY_LOW_STOCK_RECIPIENTS = ["ops@example.com"]
    digest = build_low_stock_digest()
    assert "Product 610002 (TONER-K · Toner, black): 2 available" in digest.message.body
    html, _mimetype = digest.message.alternatives[0]
    assert "<td>TONER-K · Toner, black</td>" in html
    assert mail.outbox == []  # built, not sent
