"""Inputs that made the admin answer 500 (issue 12, finding 4): each now gets a page, a redirect or a form error."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from inventory import services
from inventory.models import Inventory, InventoryLog, Reservation

CHANGELIST = reverse("admin:inventory_inventory_changelist")
LOG = reverse("admin:inventory_inventorylog_changelist")
RESERVATIONS = reverse("admin:inventory_reservation_changelist")
DASHBOARD = reverse("admin:inventory_dashboard")
EXPORT = reverse("admin:inventory_inventory_export")
BULK_THRESHOLD = reverse("admin:inventory_inventory_bulk_threshold")
IMPORT = reverse("admin:inventory_inventory_import")
# The unicode digits that str.isdigit() takes and int() refuses (or reads as another number).
UNICODE_DIGITS = ["²", "\u0661\u0662", "\u07c1", "\U0001d7d9"]


@pytest.fixture
def root(client_for, superuser):
    return client_for(superuser)


def figures(item: Inventory) -> tuple:
    item = Inventory.objects.get(pk=item.pk)
    return item.available_stock, item.reserved_stock, item.low_stock_threshold, item.version


@pytest.mark.parametrize("term", [*UNICODE_DIGITS, "9" * 5000, "\x00", "1\x00"])
@pytest.mark.parametrize("page", [CHANGELIST, LOG, RESERVATIONS, EXPORT])
def test_a_search_term_that_is_not_a_product_id(root, item, page, term):
    item()
    response = root.get(page, {"q": term})
    assert response.status_code in (200, 302, 400)
    if response.status_code == 200 and page == EXPORT:
        assert b"".join(response.streaming_content).startswith(b"product_id,")


@pytest.mark.parametrize("product", [*UNICODE_DIGITS, "9" * 5000, "\x00", "-1", "0"])
def test_the_dashboard_chart_of_a_product_that_cannot_be(root, item, product):
    item()
    assert root.get(DASHBOARD, {"product": product}).status_code == 200


@pytest.mark.parametrize("actor", ["\x00", "a\x00b", "x" * 100_000])
def test_the_log_actor_filter_refuses_what_no_actor_can_be(root, item, actor):
    item()
    response = root.get(LOG, {"actor": actor})
    assert response.status_code in (302, 400)


def test_bulk_threshold_ignores_ids_that_are_not_numbers(root, item):
    product = item()
    before = figures(product)
    response = root.post(BULK_THRESHOLD, {"ids": ["²", "9" * 5000, "\x00"], "low_stock_threshold": "7", "reason": "x"})
    assert response.status_code == 200
    assert figures(product) == before


def test_bulk_threshold_still_sets_the_listed_items(root, item):
    product = item()
    response = root.post(BULK_THRESHOLD, {"ids": [str(product.pk), "²"], "low_stock_threshold": "7", "reason": "x"})
    assert response.status_code == 302
    assert figures(product)[2] == 7


def test_an_export_with_an_unknown_filter_is_not_a_server_error(root, item):
    item()
    response = root.get(EXPORT, {"no_such_field": "1"})
    assert response.status_code in (302, 400)


@pytest.mark.parametrize("delta", [str(2**62), str(-(2**62)), str(2**63), "9" * 5000, "²"])
def test_an_adjust_far_past_the_limit_is_a_form_error(root, item, delta):
    product = item()
    before = figures(product)
    url = reverse("admin:inventory_inventory_adjust", args=[product.pk])
    for _ in range(2):  # two steps of 2^62 would overflow bigint if either went through
        response = root.post(url, {"delta": delta, "reason": "count", "version": str(product.version)})
        assert response.status_code == 200
        assert response.context["form"].errors["delta"]
    assert figures(product) == before
    assert not InventoryLog.objects.filter(product_id=product.product_id, operation="adjust").exists()


def test_the_largest_allowed_adjust_goes_through(root, item):
    product = item(available_stock=0)
    url = reverse("admin:inventory_inventory_adjust", args=[product.pk])
    response = root.post(url, {"delta": "1000000000", "reason": "count", "version": str(product.version)})
    assert response.status_code == 302
    assert figures(product)[0] == 1_000_000_000


@pytest.mark.parametrize(
    "text",
    [
        "product_id,quantity,reason\n{pid},1," + "r" * (200 * 1024) + "\n",  # one field past csv's 128 KiB limit
        'product_id,quantity\n{pid},"1' + "1" * (200 * 1024) + '"\n',
        "product_id,quantity\n{pid},1\n" + "x" * (140 * 1024) + "\n",
        "product_id,quantity\n{pid},1\x00\n",
        "product_id,quantity\n{pid},²\n",
        "product_id,quantity\n{pid}," + "9" * 5000 + "\n",
        "product_id,quantity,reason,reference\n{pid},1,a\x00b,c\x00\n",
    ],
)
def test_a_csv_file_csv_cannot_read_is_a_form_error(root, item, text):
    product = item()
    before = figures(product)
    text = text.replace("{pid}", str(product.product_id))
    upload = SimpleUploadedFile("stock.csv", text.encode(), "text/csv")
    preview = root.post(IMPORT, {"kind": "restock", "reason": "delivery", "file": upload})
    assert preview.status_code == 200
    assert not (preview.context["plan"] and preview.context["plan"].is_valid)
    applied = root.post(IMPORT, {"kind": "restock", "content": text, "reason": "delivery"})
    assert applied.status_code == 200
    assert figures(product) == before


def test_a_reservation_search_with_nul_is_not_a_server_error(root, item):
    product = item()
    services.reserve_stock(
        order_id="A-1", lines=[services.ReservationLine(product.product_id, 1)], ttl_seconds=60, actor="t"
    )
    assert root.get(RESERVATIONS, {"q": "A-1"}).context["cl"].result_count == 1
    assert root.get(RESERVATIONS, {"q": "A\x00"}).status_code in (200, 302)
    assert Reservation.objects.count() == 1
