"""The count-sheet screens through the real admin: opening a sheet and proposing a cycle count,
the counting screen (a scanned SKU, Enter, the figure, Enter), the blind rule, approving,
posting (and its refusal on the form), cancelling, the variance report; who may, hostile
input (never a 5xx), and Chinese."""

import csv
import io
from urllib.parse import quote

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.urls import reverse

from inventory import services
from inventory.models import CountSheet, InventoryLog, StockLevel
from tests.admin.test_admin_fuzz import RAW_ESCAPES, TRICKY
from tests.admin.test_quotas_admin import person_with
from tests.admin.test_translations import CHINESE, english_words

SHEETS = reverse("admin:inventory_countsheet_changelist")
ADD = reverse("admin:inventory_countsheet_add")
PROPOSE = reverse("admin:inventory_countsheet_propose")
CABLE, BOX = 720_001, 720_002


def url(name: str, sheet: CountSheet) -> str:
    return reverse(f"admin:inventory_countsheet_{name}", args=[sheet.pk])


@pytest.fixture(autouse=True)
def goods(warehouse_groups):
    """Two products with SKUs, 10 and 50 on the shelf."""
    for product_id, sku, available in ((CABLE, "CNT-A", 10), (BOX, "CNT-B", 50)):
        services.create_inventory(
            product_id=product_id, sku=sku, name=f"item {sku}", available_stock=available, actor="setup"
        )


def sheet_of(*product_ids: int, blind: bool = True, tolerance_units: int | None = None) -> CountSheet:
    return services.create_count_sheet(
        warehouse="default",
        kind=CountSheet.Kind.LIST,
        product_ids=list(product_ids),
        blind=blind,
        tolerance_units=tolerance_units,
        actor="setup",
    )


def counted(sheet: CountSheet) -> dict[int, int | None]:
    return dict(sheet.lines.values_list("product_id", "counted"))


def available(product_id: int) -> int:
    return StockLevel.objects.get(product_id=product_id, warehouse__code="default").available_stock


# --- Opening ---------------------------------------------------------------------------------------


def test_opening_a_sheet_of_products_named_by_sku_and_id(client_for, staff):
    client = client_for(staff)
    assert ADD in client.get(SHEETS).content.decode()

    response = client.post(
        ADD, {"warehouse": "default", "kind": "list", "products": f"CNT-B, {CABLE}\nCNT-B", "blind": "on"}
    )

    assert response.status_code == 302
    sheet = CountSheet.objects.get()
    assert (sheet.kind, sheet.blind, sheet.actor) == ("list", True, "staffer")
    assert counted(sheet) == {CABLE: None, BOX: None}
    assert LogEntry.objects.filter(object_id=str(sheet.pk), action_flag=ADDITION).exists()


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"kind": "list", "products": "CNT-A nope"}, "No product has the SKU or id nope."),
        ({"kind": "list", "products": ""}, "Name the products to count."),
        ({"kind": "full", "products": "CNT-A"}, "leave this empty"),
        ({"kind": "list", "products": "CNT-A", "tolerance_percent": "100.5"}, "100"),
    ],
)
def test_a_sheet_refused_on_the_form_opens_nothing(client_for, staff, body, error):
    response = client_for(staff).post(ADD, {"warehouse": "default", **body})

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not CountSheet.objects.exists()


def test_proposing_todays_cycle_count(client_for, staff):
    client = client_for(staff)

    first = client.post(PROPOSE, {"warehouse": "default", "blind": "on"})
    again = client.post(PROPOSE, {"warehouse": "default", "blind": "on"})

    assert first.status_code == 302
    sheet = CountSheet.objects.get()
    assert sheet.kind == "cycle"
    assert {CABLE, BOX} <= set(counted(sheet))
    assert again.status_code == 200  # everything due is on the open sheet
    assert "Nothing in default is due for a count today." in again.content.decode()


# --- Counting --------------------------------------------------------------------------------------


def test_counting_by_scanning_a_sku_then_the_figure(client_for, staff):
    sheet = sheet_of(CABLE, BOX)
    client = client_for(staff)
    count = url("count", sheet)

    start = client.get(count).content.decode()
    asked = client.get(count, {"product": "CNT-B"}).content.decode()
    asking_first = client.get(count, {"product": "CNT-A"}).content.decode()
    recorded = client.post(count, {"product": str(BOX), "counted": "48"})
    after = client.get(recorded["Location"]).content.decode()

    assert 'name="product"' in start
    assert "autofocus" in start
    assert "0 of 2 lines counted" in start
    assert 'name="counted"' in asked
    assert f'type="hidden" name="product" value="{BOX}"' in asked
    assert "CNT-B · item CNT-B" in asked
    assert f'?product={BOX}"' in asking_first  # the next uncounted line is another one
    assert f'?product={CABLE}"' not in asking_first
    assert recorded.status_code == 302
    assert recorded["Location"].endswith(f"?last={BOX}")
    assert counted(sheet) == {CABLE: None, BOX: 48}
    assert "1 of 2 lines counted" in after
    assert "48 counted" in after
    assert f'?product={CABLE}"' in after  # the next uncounted line
    assert 'type="text" name="product"' in after  # the product box again, with the focus
    assert LogEntry.objects.filter(object_id=str(sheet.pk), action_flag=CHANGE).exists()


def test_a_product_the_sheet_does_not_list_is_refused_on_the_form(client_for, staff, item):
    other = item(5)
    sheet = sheet_of(CABLE)
    client = client_for(staff)

    unknown = client.get(url("count", sheet), {"product": "NO-SUCH"}).content.decode()
    refused = client.post(url("count", sheet), {"product": str(other.product_id), "counted": "5"})

    assert "No product has the SKU or id NO-SUCH." in unknown
    assert refused.status_code == 200
    assert f"This count sheet does not list product {other.product_id}" in refused.content.decode()
    assert counted(sheet) == {CABLE: None}


@pytest.mark.parametrize("figure", ["-1", "1000000001", "x", "1.5"])
def test_a_bad_figure_asks_again_for_the_same_product(client_for, staff, figure):
    sheet = sheet_of(CABLE)

    response = client_for(staff).post(url("count", sheet), {"product": "CNT-A", "counted": figure})

    page = response.content.decode()
    assert response.status_code == 200
    assert 'class="errorlist' in page
    assert 'name="counted"' in page
    assert counted(sheet) == {CABLE: None}


def test_a_blind_counter_never_sees_the_expected_figure(client_for, staff, manager):
    sheet = sheet_of(CABLE, tolerance_units=0)
    client = client_for(staff)
    client.post(url("count", sheet), {"product": "CNT-A", "counted": "7"})

    confirmation = client.get(f"{url('count', sheet)}?last={CABLE}").content.decode()
    page = client.get(url("change", sheet)).content.decode()
    listed = client.get(SHEETS).content.decode()
    report = client.get(url("report", sheet))
    as_manager = client_for(manager).get(url("change", sheet)).content.decode()

    for shown in (confirmation, page):
        assert "expected 10" not in shown
        assert ">10<" not in shown
        assert "over-tolerance" not in shown
    assert "0 / 1" not in listed  # nor how many are within the tolerance
    assert report.status_code == 403
    assert ">10<" in as_manager
    assert "over-tolerance" in as_manager


def test_a_sheet_that_is_not_blind_shows_the_counter_what_was_expected(client_for, staff):
    sheet = sheet_of(CABLE, blind=False)
    client = client_for(staff)
    client.post(url("count", sheet), {"product": "CNT-A", "counted": "7"})

    assert "expected 10, variance -3" in client.get(f"{url('count', sheet)}?last={CABLE}").content.decode()


# --- Approving, posting, cancelling ---------------------------------------------------------------


def test_approving_then_posting(client_for, manager):
    sheet = sheet_of(CABLE, BOX, tolerance_units=1)
    services.record_count(sheet_id=sheet.pk, product_id=CABLE, counted=7, actor="counter")
    services.record_count(sheet_id=sheet.pk, product_id=BOX, counted=51, actor="counter")
    client = client_for(manager)

    refused = client.post(url("post", sheet), {})
    form = client.get(url("approve", sheet)).content.decode()
    approved = client.post(url("approve", sheet), {"product_ids": [str(CABLE)]})
    page = client.get(url("change", sheet)).content.decode()
    posted = client.post(url("post", sheet), {"reason": "stock-take"})

    assert refused.status_code == 200
    assert f"need a manager&#x27;s approval first: product {CABLE}." in refused.content.decode()
    assert f'value="{CABLE}"' in form
    assert f'value="{BOX}"' not in form
    assert approved.status_code == 302
    assert url("approve", sheet) not in page
    assert posted.status_code == 302
    sheet.refresh_from_db()
    assert sheet.status == "posted"
    assert (available(CABLE), available(BOX)) == (7, 51)
    entry = InventoryLog.objects.filter(product_id=CABLE, operation=InventoryLog.Operation.ADJUST).latest("id")
    assert (entry.actor, entry.reference, entry.reason) == (
        "manager",
        f"count:{sheet.pk}",
        f"count sheet {sheet.pk}: stock-take",
    )


def test_posting_a_sheet_with_lines_not_counted_is_refused_on_the_form(client_for, manager):
    sheet = sheet_of(CABLE, BOX)
    services.record_count(sheet_id=sheet.pk, product_id=CABLE, counted=10, actor="counter")

    response = client_for(manager).post(url("post", sheet), {})

    assert response.status_code == 200
    assert f"Not every line is counted yet: product {BOX}." in response.content.decode()
    sheet.refresh_from_db()
    assert sheet.status == "open"


def test_approving_nothing_chosen_or_a_line_not_offered_is_refused(client_for, manager):
    sheet = sheet_of(CABLE, BOX, tolerance_units=0)
    services.record_count(sheet_id=sheet.pk, product_id=CABLE, counted=7, actor="counter")
    client = client_for(manager)

    for body in ({}, {"product_ids": [str(BOX)]}, {"product_ids": ["x"]}):
        assert client.post(url("approve", sheet), body).status_code == 200, body
    assert not sheet.lines.filter(approved_at__isnull=False).exists()


def test_cancelling_a_sheet_ends_it_and_the_counting_screen(client_for, manager):
    sheet = sheet_of(CABLE)
    client = client_for(manager)

    response = client.post(url("cancel", sheet), {})
    counting = client.get(url("count", sheet))

    assert response.status_code == 302
    sheet.refresh_from_db()
    assert sheet.status == "cancelled"
    assert available(CABLE) == 10
    assert counting.status_code == 302  # a cancelled sheet takes no count
    assert client.post(url("cancel", sheet), {}).status_code == 302


def test_the_variance_report_and_its_csv(client_for, manager):
    sheet = sheet_of(CABLE, BOX, tolerance_units=1)
    services.record_count(sheet_id=sheet.pk, product_id=CABLE, counted=7, actor="counter")
    client = client_for(manager)

    page = client.get(url("report", sheet)).content.decode()
    response = client.get(url("report_csv", sheet))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))

    assert 'id="variance-report"' in page
    assert url("report_csv", sheet) in page
    assert [(row["product_id"], row["counted"], row["expected"], row["variance"]) for row in rows] == [
        (str(CABLE), "7", "10", "-3"),
        (str(BOX), "", "", ""),
    ]
    assert rows[0]["within_tolerance"] == "False"


def test_the_accuracy_of_the_last_days_on_the_list(client_for, manager):
    sheet = sheet_of(CABLE, BOX, tolerance_units=1)
    services.record_count(sheet_id=sheet.pk, product_id=CABLE, counted=10, actor="counter")
    services.record_count(sheet_id=sheet.pk, product_id=BOX, counted=40, actor="counter")
    services.approve_lines(sheet_id=sheet.pk, product_ids=[BOX], actor="manager")
    services.post_sheet(sheet_id=sheet.pk, actor="manager")

    listed = client_for(manager).get(SHEETS).content.decode()

    assert listed.count('class="accuracy-day"') == 1
    assert ">50 %<" in listed
    assert "1 / 2" in listed


# --- Who may --------------------------------------------------------------------------------------


def test_who_may_do_what(client_for, staff):
    sheet = sheet_of(CABLE)
    viewer = person_with("looker", "view_countsheet", "add_countsheet", "change_countsheet", "delete_countsheet")
    client = client_for(viewer)

    assert client.get(SHEETS).status_code == 200
    assert client.get(url("change", sheet)).status_code == 200
    for page in (ADD, PROPOSE, url("count", sheet), url("approve", sheet), url("post", sheet), url("cancel", sheet)):
        assert client.get(page).status_code == 403, page
    assert client.post(url("count", sheet), {"product": "CNT-A", "counted": "1"}).status_code == 403
    assert client.get(url("delete", sheet)).status_code == 403
    nobody = person_with("nobody", "add_countsheet", "change_countsheet")
    assert client_for(nobody).get(SHEETS).status_code == 403
    counter = client_for(staff)
    for page in (url("approve", sheet), url("post", sheet), url("cancel", sheet), url("report", sheet)):
        assert counter.get(page).status_code == 403, page
    assert counted(sheet) == {CABLE: None}


# --- Hostile input ---------------------------------------------------------------------------------


def test_hostile_input_is_never_a_server_error(client_for, manager):
    sheet = sheet_of(CABLE, BOX)
    client = client_for(manager)
    values = [*(quote(text, safe="") for text in TRICKY), *RAW_ESCAPES]
    parameters = {
        SHEETS: ["q", "o", "p", "status__exact", "kind__exact", "warehouse__id__exact", "_to_field"],
        url("count", sheet): ["product", "last"],
        url("change", sheet): ["_to_field", "_changelist_filters"],
    }
    for address, names in parameters.items():
        for name in names:
            for value in values:
                assert client.get(f"{address}?{name}={value}").status_code < 500, (address, name, value)
    for text in TRICKY:
        bodies = [
            (url("count", sheet), {"product": text, "counted": "1"}),
            (url("count", sheet), {"product": "CNT-A", "counted": text}),
            (url("approve", sheet), {"product_ids": [text]}),
            (url("post", sheet), {"reason": text}),
            (ADD, {"warehouse": "default", "kind": "list", "products": text, "note": text}),
            (ADD, {"warehouse": text, "kind": text, "tolerance_units": text, "tolerance_percent": text}),
            (PROPOSE, {"warehouse": text}),
        ]
        for address, body in bodies:
            assert client.post(address, body).status_code < 500, (address, body)
        for page in ("change/", "count/", "report/", "report.csv", "post/", "history/"):
            assert client.get(f"{SHEETS}{quote(text, safe='')}/{page}").status_code < 500, (page, text)


# --- In Chinese ------------------------------------------------------------------------------------


def test_no_english_is_left_on_the_count_screens_in_chinese(client, chinese_warehouse):
    sheet = services.create_count_sheet(
        warehouse="default", kind="list", product_ids=[710_001, 710_002], tolerance_units=0, actor="张经理"
    )
    services.record_count(sheet_id=sheet.pk, product_id=710_001, counted=5, actor="张经理")
    posted = services.create_count_sheet(warehouse="default", kind="list", product_ids=[710_002], actor="张经理")
    services.record_count(sheet_id=posted.pk, product_id=710_002, counted=0, actor="张经理")
    services.post_sheet(sheet_id=posted.pk, actor="张经理")
    client.force_login(chinese_warehouse)
    screens = {
        "list": (SHEETS, None),
        "sheet": (url("change", sheet), None),
        "posted sheet": (url("change", posted), None),
        "open": (ADD, None),
        "open, refused": (ADD, {"warehouse": "default", "kind": "list", "products": "x-1"}),
        "propose": (PROPOSE, None),
        "counting": (url("count", sheet), None),
        "counting, the figure": (f"{url('count', sheet)}?product=7100-02", None),
        "counting, recorded": (f"{url('count', sheet)}?last=710001", None),
        "counting, refused": (url("count", sheet), {"product": "7100-02", "counted": "-1"}),
        "approve": (url("approve", sheet), None),
        "post, refused": (url("post", sheet), {"reason": ""}),
        "cancel": (url("cancel", sheet), None),
        "report": (url("report", sheet), None),
    }
    left = {}
    for name, (address, body) in screens.items():
        response = client.post(address, body, **CHINESE) if body else client.get(address, **CHINESE)
        assert response.status_code == 200, name
        if words := english_words(response.content.decode()):
            left[name] = sorted(words)
    assert left == {}, repr(left)
