"""The warehouse screens as a person sees them at 1366 x 768, in English and in Chinese.

Each screen is saved to var/screenshots/ and checked for what would get in the way on a
laptop: a horizontal scrollbar, a badge broken over two lines, figures not lined up.
"""

import importlib
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.utils import timezone
from playwright.sync_api import expect

from inventory import services
from inventory.services.planning import refresh_plans
from tests.browser.conftest import VIEWPORT
from tests.inventory.planning.test_plans import opened, sold

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-browser-password"
BIG = 424_242  # 1,234,567 available: the widest figure a row shows
LOW = 424_243
OUT = 424_244
# Each item: product id, SKU, name, available, threshold.
ITEMS = [
    (BIG, "PAPER-A4-80", "Copy paper A4 80 g, white, pallet of 240 reams", 1_234_567, 10_000),
    (LOW, "CABLE-USBC-1M", "数据线 USB-C 1 米", 5, 10),
    (OUT, "TONER-K-650", "Toner cartridge, black, 6,500 pages", 0, 3),
    *((430_000 + n, f"BOX-{n:03d}", f"Shipping box size {n}", 100 * n + 7, 50) for n in range(1, 13)),
]
LANGUAGES = {"en": "en-US", "zh": "zh-CN"}  # the browser's Accept-Language for each run


def manager_permissions() -> list[Permission]:
    """The permissions the migration gives "Warehouse managers" (this test's flush removed the group)."""
    groups = importlib.import_module("inventory.migrations.0003_warehouse_groups").GROUPS
    codenames = [codename for codename, _model in groups["Warehouse managers"]]
    return list(Permission.objects.filter(content_type__app_label="inventory", codename__in=codenames))


@pytest.fixture
def warehouse():
    for product_id, sku, name, available, threshold in ITEMS:
        services.create_inventory(
            product_id=product_id,
            sku=sku,
            name=name,
            available_stock=available,
            low_stock_threshold=threshold,
            actor="setup",
        )
    services.restock(product_id=BIG, quantity=2_400, actor="lead", reason="received", reference="PO-2041")
    services.adjust_stock(product_id=LOW, delta=-1, actor="lead", reason="damaged")
    services.reserve_stock(
        order_id="ORD-1001",
        lines=[services.ReservationLine(BIG, 1_200), services.ReservationLine(LOW, 2)],
        actor="shop",
    )
    group, _created = Group.objects.get_or_create(name="Warehouse managers")
    group.permissions.add(*manager_permissions())
    user = User.objects.create_user("lead", password=PASSWORD, is_staff=True)
    user.groups.add(group)


@pytest.fixture(params=sorted(LANGUAGES))
def language(request) -> str:
    return request.param


@pytest.fixture
def browser_locale(language) -> str:
    return LANGUAGES[language]


@pytest.fixture
def signed_in(page, live_server, warehouse):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "lead")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text("lead")
    return page


# Boxes that scroll sideways: the change list's table sits in one, so a page can be 1366 px
# wide and still hide columns behind a scrollbar of its own.
SCROLLING_BOXES = """[...document.querySelectorAll('#content *')]
    .filter(box => ['auto', 'scroll'].includes(getComputedStyle(box).overflowX))
    .filter(box => box.scrollWidth > box.clientWidth + 1)
    .map(box => box.id || box.className)"""


def fits_the_screen(page) -> None:
    """No horizontal scrollbar at 1366 px, on the page or inside it."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= VIEWPORT["width"], f"{page.url} is {width} px wide"
    assert page.evaluate(SCROLLING_BOXES) == [], f"{page.url} hides columns behind a scrollbar"


def badges_on_one_line(page) -> None:
    lines = page.evaluate("[...document.querySelectorAll('.stock-badge')].map(badge => badge.getClientRects().length)")
    assert lines, "no badge on the page"
    assert set(lines) == {1}


def right_aligned(page, selector: str) -> None:
    aligned = page.evaluate(
        f"[...document.querySelectorAll({selector!r})].map(cell => getComputedStyle(cell).textAlign)"
    )
    assert aligned, f"nothing matches {selector}"
    assert set(aligned) == {"right"}, aligned


def test_the_inventory_list(signed_in, live_server, language, screenshot):
    page = signed_in
    page.goto(f"{live_server.url}/admin/inventory/inventory/")
    expect(page.locator("#result_list tbody tr")).to_have_count(len(ITEMS))
    row = page.locator("#result_list tbody tr", has_text="PAPER-A4-80")
    expect(row).to_contain_text("1,235,767")  # 1,234,567 + 2,400 received - 1,200 reserved
    expect(row).to_contain_text("Copy paper A4 80 g")
    screenshot(f"list-{language}")
    fits_the_screen(page)
    badges_on_one_line(page)
    right_aligned(page, "#result_list td:has(> .num)")
    if language == "zh":
        expect(page.locator("#site-name")).to_have_text("库存后台")
        expect(page.locator("#result_list thead")).to_contain_text("可用")
        expect(page.locator(".stock-out")).to_have_text("缺货")


def test_an_item_page(signed_in, live_server, language, screenshot):
    page = signed_in
    page.goto(f"{live_server.url}/admin/inventory/inventory/product/{BIG}/")  # by product id
    expect(page.locator("#item-log")).to_be_visible()
    expect(page.locator("#content")).to_contain_text("PAPER-A4-80")
    expect(page.locator("#active-reservations")).to_contain_text("ORD-1001")
    screenshot(f"item-{language}")
    fits_the_screen(page)
    right_aligned(page, "#item-log td.num")
    if language == "zh":
        expect(page.locator("#item-log h2")).to_have_text(
            "日志\N{FULLWIDTH LEFT PARENTHESIS}最新在前\N{FULLWIDTH RIGHT PARENTHESIS}"
        )


def test_the_adjust_form(signed_in, live_server, language, screenshot):
    page = signed_in
    page.goto(f"{live_server.url}/admin/inventory/inventory/product/{LOW}/")
    page.click("#content .object-tools a >> nth=1")  # Restock, Adjustment, Threshold change
    expect(page.locator("#id_delta")).to_be_focused()
    expect(page.locator("#figure-available")).to_have_text("2")
    page.fill("#id_delta", "-9")
    page.fill("#id_reason", "damaged")
    page.click("input[type=submit].default")
    expect(page.locator(".errorlist")).to_be_visible()
    screenshot(f"adjust-{language}")
    fits_the_screen(page)
    if language == "zh":
        expect(page.locator("label[for=id_delta]")).to_contain_text("变动")
        expect(page.locator(".submit-row .closelink")).to_have_text("取消")


def test_the_dashboard(signed_in, live_server, language, screenshot):
    page = signed_in
    page.click("#user-tools a >> nth=0")  # "View site" is the dashboard
    expect(page.locator("#most-moved")).to_contain_text("PAPER-A4-80")
    expect(page.locator("svg.stock-chart polyline.available")).to_be_visible()
    screenshot(f"dashboard-{language}")
    fits_the_screen(page)
    right_aligned(page, "#most-moved td.num")
    page.click(f"#most-moved a:text-is('{BIG}')")
    expect(page.locator("#item-log")).to_be_visible()
    assert re.search(r"/admin/inventory/inventory/\d+/change/$", page.url)


def test_the_log_and_the_reservations(signed_in, live_server, language, screenshot):
    page = signed_in
    page.goto(f"{live_server.url}/admin/inventory/inventorylog/")
    expect(page.locator("#result_list")).to_contain_text("CABLE-USBC-1M")
    screenshot(f"log-{language}")
    fits_the_screen(page)
    right_aligned(page, "#result_list td:has(> .num)")
    page.goto(f"{live_server.url}/admin/inventory/reservation/")
    expect(page.locator("#result_list")).to_contain_text("数据线 USB-C 1 米")
    screenshot(f"reservations-{language}")
    fits_the_screen(page)


@pytest.mark.parametrize("language", ["en"])
def test_a_barcode_scanner_lands_on_the_item(signed_in, live_server, language):
    page = signed_in
    page.goto(f"{live_server.url}/admin/inventory/inventory/")
    page.locator("#searchbar").press_sequentially("CABLE-USBC-1M")
    page.keyboard.press("Enter")
    expect(page.locator("#item-log")).to_be_visible()
    expect(page.locator("#content")).to_contain_text("数据线 USB-C 1 米")


@pytest.mark.parametrize("language", ["en"])
def test_the_language_switch_keeps_the_choice(signed_in, live_server, language, screenshot):
    page = signed_in
    page.goto(f"{live_server.url}/admin/inventory/inventory/")
    page.click("#language-switch button[lang=zh-hans]")
    expect(page.locator("#site-name")).to_have_text("库存后台")
    assert page.url.endswith("/admin/inventory/inventory/")  # back on the same page
    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("#site-name")).to_have_text("库存后台")
    screenshot("index-zh")
    page.click("#language-switch button[lang=en]")
    expect(page.locator("#site-name")).to_have_text("Inventory back office")


def test_a_hot_item_page(signed_in, live_server, language, screenshot):
    """An item whose default level is spread over 16 rows for a flash sale, seen by a manager who may change it."""
    services.make_hot(product_id=BIG, buckets=16, actor="lead")
    Group.objects.get(name="Warehouse managers").permissions.add(Permission.objects.get(codename="make_hot_inventory"))
    page = signed_in
    page.goto(f"{live_server.url}/admin/inventory/inventory/product/{BIG}/")
    level = page.locator("#stock-levels tr.stock-level", has_text="default")
    expect(level.locator("td.hot-rows")).to_have_text("16 rows" if language == "en" else "16 行")
    expect(page.locator("#item-log")).to_contain_text("default #15")
    screenshot(f"hot-item-{language}")
    fits_the_screen(page)
    level.locator("a.stock-form-link").last.click()  # the level's flash sale rows
    expect(page.locator("#id_buckets")).to_be_focused()
    expect(page.locator("#id_buckets")).to_have_value("16")
    expect(page.locator("#figure-rows")).to_have_text("16")
    screenshot(f"hot-form-{language}")
    fits_the_screen(page)
    page.goto(f"{live_server.url}/admin/inventory/inventory/?hot=yes")  # the list's marker, beside the badge
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list td.field-status_column")).to_contain_text("hot" if language == "en" else "热点")
    screenshot(f"hot-list-{language}")
    fits_the_screen(page)
    badges_on_one_line(page)


def test_a_purchase_order_and_a_quota(signed_in, live_server, language, screenshot):
    """A purchase order partly received (the receive step's form too) and a quota partly drawn, as a
    manager sees them: each fits the laptop's screen and lines its figures up."""
    Group.objects.get(name="Warehouse managers").permissions.add(
        *Permission.objects.filter(
            codename__in=["view_purchaseorder", "receive_purchaseorder", "view_quota", "manage_quota"]
        )
    )
    due = timezone.now().date() + timedelta(days=3)
    order = services.create_purchase_order(
        supplier="Acme Paper Ltd",
        supplier_reference="SO-4471",
        warehouse="default",
        lines=[services.PurchaseOrderLineInput(BIG, 2_400, due), services.PurchaseOrderLineInput(LOW, 50, due)],
        actor="lead",
    )
    services.receive_purchase_order(
        purchase_order_id=order.pk, lines=[services.ReceiptLineInput(BIG, 1_000)], reference="DN-881", actor="lead"
    )
    now = timezone.now()
    services.create_quota(
        code="spring-sale",
        product_id=BIG,
        quantity=500,
        tier="gold",
        starts_at=now,
        ends_at=now + timedelta(days=7),
        actor="lead",
        name="Spring sale",
    )
    services.reserve_stock(
        order_id="ORD-2001", lines=[services.ReservationLine(BIG, 120, quota="spring-sale")], actor="shop"
    )
    page = signed_in
    page.goto(f"{live_server.url}/admin/inventory/purchaseorder/{order.pk}/change/")
    expect(page.locator("#content")).to_contain_text("SO-4471")
    screenshot(f"purchase-order-{language}")
    fits_the_screen(page)
    page.goto(f"{live_server.url}/admin/inventory/purchaseorder/{order.pk}/receive/")
    expect(page.locator("#receive-lines tbody tr")).to_have_count(2)
    screenshot(f"purchase-order-receive-{language}")
    fits_the_screen(page)
    right_aligned(page, "#receive-lines td.num")
    page.goto(f"{live_server.url}/admin/inventory/quota/")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    screenshot(f"quotas-{language}")
    fits_the_screen(page)
    page.locator("#result_list tbody a").first.click()
    expect(page.locator("#content")).to_contain_text("spring-sale")
    screenshot(f"quota-{language}")
    fits_the_screen(page)


def test_a_pre_sale_and_its_backorders(signed_in, live_server, language, screenshot):
    """The pre-sale list, a pre-sale against a purchase order with backorders filled, partly filled
    and waiting, a backorder with its batch and its cancel step, and the create form, as a manager
    sees them: each fits the laptop's screen and lines its figures up."""
    Group.objects.get(name="Warehouse managers").permissions.add(
        *Permission.objects.filter(codename__in=["view_purchaseorder", "view_presale", "manage_presale"])
    )
    due = timezone.now().date() + timedelta(days=10)
    order = services.create_purchase_order(
        supplier="Acme Paper Ltd",
        warehouse="default",
        lines=[services.PurchaseOrderLineInput(OUT, 5_000, due)],
        actor="lead",
    )
    now = timezone.now()
    services.create_presale(
        code="toner-launch",
        product_id=OUT,
        limit=1_000_000,
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(days=14),
        purchase_order_id=order.pk,
        actor="lead",
    )
    for number, units in enumerate((3, 250_000, 12, 1), start=1):
        services.reserve_stock(
            order_id=f"ORD-30{number:02d}", lines=[services.ReservationLine(OUT, units, backorder=True)], actor="shop"
        )
    services.restock(product_id=OUT, quantity=1_000, actor="lead", reason="received", reference="DN-990")
    page = signed_in
    page.goto(f"{live_server.url}/admin/inventory/presale/")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).to_contain_text("250,016")  # sold
    screenshot(f"presales-{language}")
    fits_the_screen(page)
    right_aligned(page, "#result_list td:has(> .num)")
    page.locator("#result_list tbody a").first.click()
    expect(page.locator("#presale-backorders tbody tr.backorder")).to_have_count(4)
    screenshot(f"presale-{language}")
    fits_the_screen(page)
    right_aligned(page, "#presale-backorders td.num")
    page.locator("#presale-backorders a", has_text="ORD-3002").click()
    expect(page.locator("#backorder-batches tbody tr.batch")).to_have_count(1)
    screenshot(f"backorder-{language}")
    fits_the_screen(page)
    if language == "zh":
        expect(page.locator("#backorder-batches h2")).to_have_text("分批发货")
    page.click("#content .object-tools a >> nth=0")  # Cancel the backorder, History
    expect(page.locator("#cancelled-backorders tbody tr")).to_have_count(1)
    screenshot(f"backorder-cancel-{language}")
    fits_the_screen(page)
    right_aligned(page, "#cancelled-backorders td.num")
    page.goto(f"{live_server.url}/admin/inventory/presale/add/")
    expect(page.locator("#id_code")).to_be_visible()
    screenshot(f"presale-add-{language}")
    fits_the_screen(page)


def test_the_planning_screens(signed_in, live_server, language, screenshot):
    """The plans, a level's page with its demand bars and forecast line, and the reorder report,
    as a manager sees them: each fits the laptop's screen and lines its figures up."""
    Group.objects.get(name="Warehouse managers").permissions.add(
        *Permission.objects.filter(codename__in=["view_itemplan", "manage_planning"])
    )
    opened(BIG, 60)
    opened(LOW, 60)
    for days_ago, units in enumerate([300, 800, 500, 900, 200, 600, 700, 400] * 7, start=1):
        sold(BIG, units, days_ago)
    for days_ago in range(2, 60, 9):
        sold(LOW, 2, days_ago)
    refresh_plans()
    page = signed_in
    page.goto(f"{live_server.url}/admin/inventory/itemplan/")
    expect(page.locator("#result_list tbody tr")).to_have_count(len(ITEMS))
    screenshot(f"plans-{language}")
    fits_the_screen(page)
    right_aligned(page, "#result_list td:has(> .num)")
    page.goto(f"{live_server.url}/admin/inventory/itemplan/?q={BIG}")
    page.locator("#result_list tbody a").first.click()
    expect(page.locator("svg.stock-chart rect.demand")).to_have_count(56)
    expect(page.locator("svg.stock-chart polyline.forecast")).to_have_count(1)
    screenshot(f"plan-{language}")
    fits_the_screen(page)
    page.goto(f"{live_server.url}/admin/inventory/itemplan/reorder/")
    expect(page.locator("#reorder-report tr.reorder-line").first).to_be_visible()
    screenshot(f"reorder-{language}")
    fits_the_screen(page)
    right_aligned(page, "#reorder-report td.num")


# The counting screen's sizes: a laptop's, and a tablet held upright.
COUNTING_SIZES = {"laptop": VIEWPORT, "tablet": {"width": 800, "height": 1280}}
# Every box and button a counter touches on the counting screen, and its height.
TOUCH_TARGETS = """[...document.querySelectorAll('.counting input:not([type=hidden]), .counting .button')]
    .map(box => box.getBoundingClientRect().height)"""


def fits_the_device(page) -> None:
    """No horizontal scrollbar at the device's width (a tablet's is narrower than the laptop's)."""
    width, device = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= device, f"{page.url} is {width} px wide on a screen of {device}"


def press_tab_until(page, selector: str) -> None:
    """Tab through the page until the element `selector` names has the focus (keyboard only)."""
    for _press in range(10):
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


@pytest.mark.parametrize("size", sorted(COUNTING_SIZES))
def test_counting_with_the_keyboard_only(signed_in, live_server, language, size, screenshot):
    """A counter with a scanner: the SKU and Enter, the figure and Enter, then the next uncounted
    line; the product box has the focus again after each count, every touch target is at least
    44 px high, the blind sheet never shows what was expected, and the screen fits the device."""
    Group.objects.get(name="Warehouse managers").permissions.add(
        *Permission.objects.filter(codename__in=["view_countsheet", "count_countsheet"])
    )
    sheet = services.create_count_sheet(
        warehouse="default", kind="list", product_ids=[BIG, LOW, OUT], tolerance_units=0, actor="lead"
    )
    page = signed_in
    page.set_viewport_size(COUNTING_SIZES[size])
    page.goto(f"{live_server.url}/admin/inventory/countsheet/{sheet.pk}/count/")
    expect(page.locator("input[name=product]")).to_be_focused()
    screenshot(f"{size}-start-{language}")
    page.keyboard.type("CABLE-USBC-1M")  # as a scanner types it
    page.keyboard.press("Enter")
    expect(page.locator("input[name=counted]")).to_be_focused()
    expect(page.locator(".count-product")).to_contain_text("数据线 USB-C 1 米")
    screenshot(f"{size}-figure-{language}")
    assert min(page.evaluate(TOUCH_TARGETS)) >= 44
    page.keyboard.type("3")
    page.keyboard.press("Enter")
    expect(page.locator(".count-last")).to_contain_text(str(LOW))
    expect(page.locator("input[name=product]")).to_be_focused()
    expect(page.locator(".count-progress")).to_contain_text("1")
    screenshot(f"{size}-recorded-{language}")
    assert min(page.evaluate(TOUCH_TARGETS)) >= 44
    fits_the_device(page)
    press_tab_until(page, ".count-next a")
    page.keyboard.press("Enter")
    expect(page.locator(".count-product")).to_contain_text(str(OUT))
    expect(page.locator("input[name=counted]")).to_be_focused()
    page.keyboard.type("0")
    page.keyboard.press("Enter")
    expect(page.locator(".count-last")).to_contain_text(str(OUT))
    assert dict(sheet.lines.values_list("product_id", "counted")) == {BIG: None, LOW: 3, OUT: 0}
    assert "1,234,567" not in page.content()  # blind: nothing expected is shown
    screenshot(f"{size}-next-{language}")
    fits_the_device(page)


def test_the_count_sheet_pages(signed_in, live_server, language, screenshot):
    """The list with its accuracy, a sheet's lines with one over the tolerance, its approve step
    and its variance report, as a manager sees them: each fits the laptop's screen, figures aligned."""
    Group.objects.get(name="Warehouse managers").permissions.add(
        *Permission.objects.filter(codename__in=["view_countsheet", "count_countsheet", "approve_countsheet"])
    )
    posted = services.create_count_sheet(
        warehouse="default", kind="list", product_ids=[LOW], tolerance_units=2, actor="lead"
    )
    services.record_count(sheet_id=posted.pk, product_id=LOW, counted=2, actor="lead")
    services.post_sheet(sheet_id=posted.pk, actor="lead")
    sheet = services.create_count_sheet(warehouse="default", kind="full", tolerance_units=5, actor="lead")
    services.record_count(sheet_id=sheet.pk, product_id=BIG, counted=1_233_000, actor="lead")
    services.record_count(sheet_id=sheet.pk, product_id=OUT, counted=2, actor="lead")
    page = signed_in
    page.goto(f"{live_server.url}/admin/inventory/countsheet/")
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    expect(page.locator("#count-accuracy tr.accuracy-day")).to_have_count(1)
    screenshot(f"sheets-{language}")
    fits_the_screen(page)
    right_aligned(page, "#count-accuracy td.num")
    page.goto(f"{live_server.url}/admin/inventory/countsheet/{sheet.pk}/change/")
    expect(page.locator("#count-lines tr.over-tolerance")).to_have_count(1)
    screenshot(f"sheet-{language}")
    fits_the_screen(page)
    right_aligned(page, "#count-lines td.num")
    page.goto(f"{live_server.url}/admin/inventory/countsheet/{sheet.pk}/approve/")
    expect(page.locator("input[name=product_ids]")).to_have_count(1)
    screenshot(f"approve-{language}")
    fits_the_screen(page)
    page.goto(f"{live_server.url}/admin/inventory/countsheet/{sheet.pk}/report/")
    expect(page.locator("#variance-report tr.variance-line")).to_have_count(len(ITEMS))
    screenshot(f"report-{language}")
    fits_the_screen(page)
    right_aligned(page, "#variance-report td.num")
