"""A warehouse manager's day in the back office, in a real browser."""

import re

import pytest
from django.contrib.auth.models import Permission, User
from playwright.sync_api import expect

from inventory import services
from inventory.models import InventoryLog

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PRODUCT_ID = 424_242
MANAGER_PERMISSIONS = ("view_inventory", "restock_inventory", "adjust_inventory", "view_inventorylog")


@pytest.fixture
def signed_in(page, live_server, screenshot):
    user = User.objects.create_user("lead", password="a-long-browser-password", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=MANAGER_PERMISSIONS))
    services.create_inventory(product_id=PRODUCT_ID, available_stock=5, low_stock_threshold=10, actor="setup")
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "lead")
    page.fill("#id_password", "a-long-browser-password")
    screenshot("01-login")
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text("lead")
    return page


def open_item(page, live_server, screenshot):
    page.goto(f"{live_server.url}/admin/inventory/inventory/?stock=low")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).to_contain_text("Low stock")
    screenshot("02-found")
    # The product id typed (or scanned) into the search box lands on the item.
    page.fill("#searchbar", str(PRODUCT_ID))
    page.press("#searchbar", "Enter")
    expect(page.locator("h2", has_text="Log, newest first")).to_be_visible()


def test_restock_through_the_form_and_see_the_log_line(signed_in, live_server, screenshot):
    page = signed_in
    open_item(page, live_server, screenshot)
    page.click("a:text-is('Restock')")
    page.fill("#id_quantity", "12")
    page.fill("#id_reason", "pallet from supplier")
    page.fill("#id_reference", "PO-77")
    screenshot("03-restock-form")
    page.click("input[type=submit][value=Save]")

    expect(page.locator(".messagelist")).to_contain_text(f"Restock of product {PRODUCT_ID} saved: 17 available.")
    newest = page.locator("#item-log tr.log-entry").first
    expect(newest).to_contain_text("Restock")
    expect(newest).to_contain_text("5 → 17")
    expect(newest).to_contain_text("PO-77")
    expect(newest).to_contain_text("lead")
    screenshot("04-restocked")
    assert InventoryLog.objects.filter(product_id=PRODUCT_ID, operation="restock", actor="lead").count() == 1


def test_adjust_below_zero_shows_the_error(signed_in, live_server, screenshot):
    page = signed_in
    open_item(page, live_server, screenshot)
    page.click("a:text-is('Adjustment')")
    page.fill("#id_delta", "-9")
    page.fill("#id_reason", "damaged")
    page.click("input[type=submit][value=Save]")

    expect(page.locator(".errorlist")).to_contain_text(re.compile(r"would leave -4 available"))
    expect(page.locator("#figure-available")).to_have_text("5")
    screenshot("03-adjust-refused")
    assert not InventoryLog.objects.filter(product_id=PRODUCT_ID, operation="adjust").exists()


def test_open_the_dashboard(signed_in, live_server, screenshot):
    page = signed_in
    services.restock(product_id=PRODUCT_ID, quantity=3, actor="lead")
    page.goto(f"{live_server.url}/admin/")
    page.click("a:text-is('Stock dashboard')")
    expect(page.locator("#dashboard-figures")).to_contain_text("Low-stock items")
    expect(page.locator("#most-moved")).to_contain_text(str(PRODUCT_ID))
    expect(page.locator("svg.stock-chart polyline.available")).to_be_visible()
    screenshot("02-dashboard")


def test_import_a_restock_file_with_a_preview(signed_in, live_server, screenshot, tmp_path):
    page = signed_in
    delivery = tmp_path / "delivery.csv"
    delivery.write_text(f"product_id,quantity,reference\n{PRODUCT_ID},20,DN-5\n")
    page.goto(f"{live_server.url}/admin/inventory/inventory/")
    page.click("a:text-is('Import CSV')")
    page.check("input[name=kind][value=restock]")
    page.set_input_files("#id_file", str(delivery))
    page.fill("#id_reason", "weekly delivery")
    page.click("input[type=submit][value=Preview]")

    preview = page.locator("#import-preview tbody tr")
    expect(preview).to_have_count(1)
    expect(preview).to_contain_text("25")  # available after: 5 + 20
    screenshot("02-preview")
    page.click("input[type=submit][value^=Apply]")

    expect(page.locator(".messagelist")).to_contain_text("Applied 1 row.")
    screenshot("03-applied")
    entry = InventoryLog.objects.get(product_id=PRODUCT_ID, operation="restock")
    assert (entry.quantity, entry.actor, entry.reason, entry.reference) == (20, "lead", "weekly delivery", "DN-5")
