"""Hot levels in the back office: the flash sale rows form of a level, the list's marker and filter, the log's rows."""

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory import limits, services
from inventory.models import Inventory, InventoryLog, StockLevel, StockRow
from tests.admin.test_translations import CHINESE, english_words

CHANGELIST = reverse("admin:inventory_inventory_changelist")
LOG_LIST = reverse("admin:inventory_inventorylog_changelist")


@pytest.fixture
def hot_manager(manager):
    """A warehouse manager, whose group migration 0014 gives the permission."""
    return manager


def hot_url(product: Inventory, warehouse: str | None = None) -> str:
    url = reverse("admin:inventory_inventory_hot", args=[product.pk])
    return url if warehouse is None else f"{url}?warehouse={warehouse}"


def item_page(client, product: Inventory) -> str:
    return client.get(reverse("admin:inventory_inventory_change", args=[product.pk])).content.decode()


def rows_of(product: Inventory, code: str = limits.DEFAULT_WAREHOUSE) -> list[tuple[int, int, int]]:
    """Each stock row of the product's level in `code`: bucket, available, N (row 0's)."""
    return list(
        StockRow.objects.filter(product_id=product.product_id, warehouse__code=code)
        .order_by("bucket")
        .values_list("bucket", "available_stock", "buckets")
    )


def level_of(product: Inventory, code: str = limits.DEFAULT_WAREHOUSE) -> StockLevel:
    return StockLevel.objects.get(product_id=product.product_id, warehouse__code=code)


def listed(response) -> list[int]:
    return [item.product_id for item in response.context["cl"].result_list]


# --- Who may --------------------------------------------------------------------------


def test_the_permission_is_the_managers_and_the_hot_form_is_linked_for_them_alone(client_for, hot_manager, staff, item):
    product = item(20)
    managers_page = item_page(client_for(hot_manager), product)
    assert f'href="{hot_url(product, "default")}"' in managers_page  # the level's link
    assert f'href="{hot_url(product)}"' in managers_page  # the item's button
    assert hot_url(product) not in item_page(client_for(staff), product)
    # The list's rows keep their three stock links, so that each stays on one line.
    listing = client_for(hot_manager).get(CHANGELIST).content.decode()
    assert "/hot/" not in listing


@pytest.mark.parametrize("user_fixture", ["staff", "viewer"])
def test_without_the_permission_the_form_page_is_403_and_changes_nothing(request, client_for, item, user_fixture):
    product = item(20)
    client = client_for(request.getfixturevalue(user_fixture))
    assert client.get(hot_url(product)).status_code == 403
    assert client.post(hot_url(product), {"buckets": 8, "warehouse": "default"}).status_code == 403
    assert rows_of(product) == [(0, 20, 1)]


def test_a_post_without_the_csrf_token_is_refused(hot_manager, item):
    product = item(20)
    client = Client(enforce_csrf_checks=True)
    client.force_login(hot_manager)
    page = client.get(hot_url(product))
    assert 'name="csrfmiddlewaretoken"' in page.content.decode()
    assert client.post(hot_url(product), {"buckets": 8, "warehouse": "default"}).status_code == 403
    assert rows_of(product) == [(0, 20, 1)]


# --- The form ---------------------------------------------------------------------------


def test_the_form_page_shows_the_level_and_its_current_rows(client_for, hot_manager, item):
    product = item(20)
    services.make_hot(product_id=product.product_id, buckets=4, actor="setup")
    page = client_for(hot_manager).get(hot_url(product, "default"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Flash sale rows: product" in html
    assert re.search(r'id="figure-available">20<', html)
    assert re.search(r'id="figure-rows">4<', html)
    assert re.search(r'<input type="number" name="buckets" value="4"[^>]*min="1"[^>]*max="64"', html)
    assert "1 to 64. 1 turns it off." in html


def test_spreading_a_level_over_rows_and_back(client_for, hot_manager, item):
    product = item(20)
    client = client_for(hot_manager)

    response = client.post(hot_url(product, "default"), {"warehouse": "default", "buckets": 8}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("admin:inventory_inventory_change", args=[product.pk])
    assert f"Product {product.product_id} in default is hot: its stock is spread over 8 rows." in (
        response.content.decode()
    )
    rows = rows_of(product)
    assert [bucket for bucket, _, _ in rows] == list(range(8))
    assert sum(available for _, available, _ in rows) == 20
    assert max(available for _, available, _ in rows) - min(available for _, available, _ in rows) <= 1
    assert (level_of(product).buckets, level_of(product).available_stock) == (8, 20)
    rebalanced = InventoryLog.objects.filter(product_id=product.product_id, operation="rebalance")
    assert set(rebalanced.values_list("actor", flat=True)) == {"manager"}
    assert sum(rebalanced.values_list("quantity", flat=True)) == 0  # units moved, none made
    assert LogEntry.objects.filter(object_id=str(product.pk), user=hot_manager).exists()

    off = client.post(hot_url(product, "default"), {"warehouse": "default", "buckets": 1}, follow=True)

    assert f"Product {product.product_id} in default is not hot: its stock is on one row." in off.content.decode()
    assert rows_of(product) == [(0, 20, 1)]


@pytest.mark.parametrize("buckets", ["0", "65", "x", "", "-1", "2.5"])
def test_a_number_of_rows_out_of_range_is_a_form_error_and_changes_nothing(client_for, hot_manager, item, buckets):
    product = item(20)
    services.make_hot(product_id=product.product_id, buckets=4, actor="setup")
    before = rows_of(product)
    entries = InventoryLog.objects.filter(product_id=product.product_id).count()

    response = client_for(hot_manager).post(hot_url(product), {"warehouse": "default", "buckets": buckets})

    assert response.status_code == 200
    assert response.context["form"].errors["buckets"]
    assert 'class="errorlist' in response.content.decode()
    assert rows_of(product) == before
    assert InventoryLog.objects.filter(product_id=product.product_id).count() == entries


def test_the_form_acts_on_the_level_of_the_warehouse_chosen(client_for, hot_manager, item, warehouse):
    warehouse("north")
    product = item(20)
    services.restock(product_id=product.product_id, quantity=9, warehouse="north", actor="setup")

    response = client_for(hot_manager).post(hot_url(product, "north"), {"warehouse": "north", "buckets": 3})

    assert response.status_code == 302
    assert [(bucket, buckets) for bucket, _, buckets in rows_of(product, "north")] == [(0, 3), (1, 1), (2, 1)]
    assert rows_of(product) == [(0, 20, 1)]


def test_an_unknown_warehouse_is_a_form_error(client_for, hot_manager, item):
    product = item(20)
    response = client_for(hot_manager).post(hot_url(product), {"warehouse": "nowhere", "buckets": 4})
    assert response.status_code == 200
    assert response.context["form"].errors["warehouse"]
    assert rows_of(product) == [(0, 20, 1)]


# --- The item's page ----------------------------------------------------------------------


def test_the_levels_table_shows_each_levels_rows_when_hot(client_for, hot_manager, item, warehouse):
    warehouse("north")
    product = item(20)
    services.restock(product_id=product.product_id, quantity=9, warehouse="north", actor="setup")
    services.make_hot(product_id=product.product_id, buckets=16, actor="setup")

    html = item_page(client_for(hot_manager), product)

    rows = re.findall(r'<tr class="stock-level">(.*?)</tr>', html, re.S)
    hot_cells = [re.search(r'<td class="nowrap hot-rows">(.*?)</td>', row, re.S).group(1) for row in rows]
    assert hot_cells == ["16 rows", ""]  # default, then north
    assert f'href="{hot_url(product, "north")}"' in html
    # The log names the row of each entry on another row than the level's own.
    assert re.search(r"<td[^>]*>default #15</td>\s*<td>Rebalance</td>", html)


def test_the_chart_of_a_hot_level_sums_its_rows(client_for, staff, item):
    """Spreading moves units between rows, all at one moment: the line stays at the level's figure."""
    product = item(20)
    services.make_hot(product_id=product.product_id, buckets=4, actor="setup")
    services.restock(product_id=product.product_id, quantity=5, actor="setup")
    response = client_for(staff).get(reverse("admin:inventory_inventory_change", args=[product.pk]))

    chart = response.context["chart"]
    heights = {point.split(",")[1] for point in chart.available_points.split()}
    assert chart.y_ticks[-1][1] == "25"
    assert len(heights) == 2  # 20 from the start, then 25: no dip to one row's share


# --- The list -------------------------------------------------------------------------


@pytest.fixture
def hot_and_not(item, warehouse):
    """A product hot in `default`, one hot in `north` only, and one that is not hot anywhere."""
    warehouse("north")
    hot, hot_north, plain = item(20), item(20), item(20)
    services.make_hot(product_id=hot.product_id, buckets=4, actor="setup")
    services.restock(product_id=hot_north.product_id, quantity=6, warehouse="north", actor="setup")
    services.make_hot(product_id=hot_north.product_id, buckets=2, actor="setup", warehouse="north")
    return hot, hot_north, plain


def test_the_list_filters_hot_items(client_for, staff, hot_and_not):
    hot, hot_north, plain = hot_and_not
    client = client_for(staff)
    everything = {item.product_id for item in hot_and_not}

    assert set(listed(client.get(CHANGELIST, {"hot": "yes"}))) & everything == {hot.product_id, hot_north.product_id}
    assert set(listed(client.get(CHANGELIST, {"hot": "no"}))) & everything == {plain.product_id}
    # Narrowed to a warehouse, hot means that warehouse's level, as low and out of stock do.
    north = {"hot": "yes", "warehouse": "north"}
    assert set(listed(client.get(CHANGELIST, north))) & everything == {hot_north.product_id}
    html = client.get(CHANGELIST).content.decode()
    assert "Hot (spread over several rows)" in html


def test_the_list_marks_hot_items_in_their_status(client_for, staff, hot_and_not):
    hot, _, plain = hot_and_not
    html = client_for(staff).get(CHANGELIST).content.decode()
    statuses = dict(re.findall(r'<a href="[^"]+">(\d+)</a>.*?<td class="field-status_column">(.*?)</td>', html, re.S))
    assert (
        'title="A level of this item is spread over several rows for a flash sale.">hot</span>'
        in (statuses[str(hot.product_id)])
    )
    assert "hot" not in statuses[str(plain.product_id)]


def test_the_marker_adds_no_query_per_row(client_for, staff, item):
    """A page of 10 hot items takes the queries of a page of one: the marker is in the page's own query."""
    client = client_for(staff)
    first = item(20)
    services.make_hot(product_id=first.product_id, buckets=2, actor="setup")
    with CaptureQueriesContext(connection) as one:
        client.get(CHANGELIST)
    for _ in range(9):
        services.make_hot(product_id=item(20).product_id, buckets=2, actor="setup")
    with CaptureQueriesContext(connection) as ten:
        response = client.get(CHANGELIST)
    assert response.content.decode().count(">hot</span>") == 10
    assert len(ten.captured_queries) == len(one.captured_queries)


# --- The log ----------------------------------------------------------------------------


def test_the_log_shows_the_row_of_an_entry_and_filters_rebalances(client_for, staff, item):
    product = item(20)
    services.make_hot(product_id=product.product_id, buckets=4, actor="setup")
    client = client_for(staff)

    page = client.get(LOG_LIST, {"q": product.product_id, "operation__exact": "rebalance"})

    entries = page.context["cl"].result_list
    assert {entry.operation for entry in entries} == {"rebalance"}
    assert {entry.bucket for entry in entries} == {0, 1, 2, 3}
    html = page.content.decode()
    assert '<span class="product-label">@ default #3</span>' in html
    assert '<span class="product-label">@ default</span>' in html  # the level's own row
    assert "?operation__exact=rebalance" in client.get(LOG_LIST).content.decode()


# --- In Chinese ----------------------------------------------------------------------------


def test_the_hot_screens_leave_no_english_in_chinese(client, chinese_warehouse):
    services.make_hot(product_id=710_001, buckets=4, actor="张经理")
    hot = Inventory.objects.get(product_id=710_001)
    client.force_login(chinese_warehouse)
    pages = {
        "item": (reverse("admin:inventory_inventory_change", args=[hot.pk]), None),
        "form": (hot_url(hot), None),
        "form, refused": (hot_url(hot), {"warehouse": "default", "buckets": "65"}),
        "list, hot": (f"{CHANGELIST}?hot=yes", None),
        "log, rebalances": (f"{LOG_LIST}?operation__exact=rebalance", None),
    }
    left = {}
    for name, (url, data) in pages.items():
        response = client.post(url, data, **CHINESE) if data else client.get(url, **CHINESE)
        assert response.status_code == 200, name
        if words := english_words(response.content.decode()):
            left[name] = sorted(words)
    assert left == {}, repr(left)
    form = client.get(hot_url(hot), **CHINESE).content.decode()
    assert "秒杀行数" in form
    assert "填 1 即关闭" in form
