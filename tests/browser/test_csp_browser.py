"""The Content-Security-Policy in a real browser: the admin and Swagger UI work under it, and
Chromium reports no violation (it logs each one it blocks to the console)."""

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from inventory import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PRODUCT_ID = 434_343
PASSWORD = "a-long-browser-password"


@pytest.fixture
def violations(page) -> list[str]:
    """Every console message of the page that reports a blocked resource or inline code."""
    found: list[str] = []
    page.on(
        "console", lambda message: found.append(message.text) if "Content Security Policy" in message.text else None
    )
    return found


def visit(page, url: str) -> None:
    response = page.goto(url)
    assert response.status == 200, url
    assert "script-src 'self'" in response.headers["content-security-policy"], url


def test_the_admin_works_under_the_policy(page, live_server, violations, screenshot):
    User.objects.create_superuser("root", password=PASSWORD)
    services.create_inventory(product_id=PRODUCT_ID, available_stock=3, low_stock_threshold=5, actor="setup")
    services.restock(product_id=PRODUCT_ID, quantity=4, actor="setup")
    visit(page, f"{live_server.url}/admin/login/")
    page.fill("#id_username", "root")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text("root")

    for path in ("/admin/inventory/inventory/", "/admin/inventory/inventorylog/", "/admin/inventory/reservation/"):
        visit(page, live_server.url + path)
    visit(page, f"{live_server.url}/admin/inventory/inventory/dashboard/?product={PRODUCT_ID}")
    expect(page.locator("svg.stock-chart")).to_be_visible()
    page.goto(f"{live_server.url}/admin/inventory/inventory/")
    page.click(f"#result_list a:text-is('{PRODUCT_ID}')")
    expect(page.locator("#stock-chart svg")).to_be_visible()
    # The admin's stylesheet applied: the header is a flex bar, not a plain block.
    assert page.evaluate("getComputedStyle(document.querySelector('#header')).display") == "flex"
    screenshot("item")

    assert violations == []


def test_swagger_ui_works_under_the_policy(page, live_server, violations, screenshot):
    visit(page, f"{live_server.url}/api/docs/")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Inventory API")
    expect(page.locator(".opblock").first).to_be_visible()
    screenshot("docs")
    assert violations == []
