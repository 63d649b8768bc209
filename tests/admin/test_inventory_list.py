"""The inventory change list, the item page, bulk threshold, export and adding an item."""

import csv
import io

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory import services
from inventory.admin import paginator as admin_paginator
from inventory.admin.paginator import EstimatedCountPaginator, planner_row_estimate
from inventory.models import Inventory, InventoryLog

CHANGELIST = reverse("admin:inventory_inventory_changelist")
BULK_THRESHOLD = reverse("admin:inventory_inventory_bulk_threshold")


def listed(response) -> list[int]:
    return [item.product_id for item in response.context["cl"].result_list]


@pytest.fixture
def stock(item):
    """One item of each kind: plenty, low, out of stock, and one with an active hold."""
    plenty, low, out, held = item(50), item(3), item(0), item(40)
    services.reserve_stock(order_id="A-1", lines=[services.ReservationLine(held.product_id, 2)], actor="shop")
    return {"plenty": plenty, "low": low, "out": out, "held": held}


def test_the_list_shows_figures_and_badges(client_for, staff, stock):
    response = client_for(staff).get(CHANGELIST)
    page = response.content.decode()
    assert response.status_code == 200
    assert set(listed(response)) >= {item.product_id for item in stock.values()}
    for badge in ("stock-out", "stock-low", "stock-ok"):
        assert f"stock-badge {badge}" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"stock": "low"}, {"low", "out"}),
        ({"stock": "out"}, {"out"}),
        ({"reserved": "yes"}, {"held"}),
        ({"reserved": "no"}, {"plenty", "low", "out"}),
    ],
)
def test_filters(client_for, staff, stock, query, expected):
    response = client_for(staff).get(CHANGELIST, query)
    assert set(listed(response)) == {stock[name].product_id for name in expected}


def test_search_by_product_id_lands_on_the_item(client_for, staff, stock):
    client = client_for(staff)
    response = client.get(CHANGELIST, {"q": str(stock["low"].product_id)})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:inventory_inventory_change", args=[stock["low"].pk])
    assert listed(client.get(CHANGELIST, {"q": "not-a-number"})) == []


def test_columns_sort(client_for, staff, stock):
    # Column 3 of list_display (after product, SKU and name) is available_stock; "-3" sorts it descending.
    response = client_for(staff).get(CHANGELIST, {"o": "-3"})
    available = [item.available_stock for item in response.context["cl"].result_list]
    assert available == sorted(available, reverse=True)


def inventory_counts(queries) -> list[str]:
    sql = [query["sql"].upper() for query in queries]
    return [statement for statement in sql if "COUNT(" in statement and "INVENTORY_INVENTORY" in statement]


def test_the_whole_list_reads_its_exact_size_from_the_row_counter(client_for, staff, stock, monkeypatch):
    monkeypatch.setattr(admin_paginator, "EXACT_COUNT_LIMIT", 0)
    with CaptureQueriesContext(connection) as queries:
        response = client_for(staff).get(CHANGELIST)
    assert response.status_code == 200
    assert not inventory_counts(queries)
    assert not any(query["sql"].startswith("EXPLAIN") for query in queries)
    assert response.context["cl"].result_count == Inventory.objects.count()
    assert f"{Inventory.objects.count()} inventory" in response.content.decode()
    assert "about" not in response.content.decode()


def test_a_filtered_list_does_not_count_all_rows(client_for, staff, stock, monkeypatch):
    monkeypatch.setattr(admin_paginator, "EXACT_COUNT_LIMIT", 0)
    with CaptureQueriesContext(connection) as queries:
        response = client_for(staff).get(CHANGELIST, {"stock": "low"})
    assert response.status_code == 200
    assert not inventory_counts(queries)
    assert any(query["sql"].startswith("EXPLAIN") for query in queries)
    assert f"about {response.context['cl'].result_count} inventory" in response.content.decode()


def test_the_paginator_takes_the_planner_estimate_above_the_limit(stock, monkeypatch):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE inventory_inventory")
    queryset = Inventory.objects.filter(available_stock__gte=0).order_by("product_id")
    estimate = planner_row_estimate(queryset)
    assert estimate >= 1
    monkeypatch.setattr(admin_paginator, "EXACT_COUNT_LIMIT", 0)
    estimated = EstimatedCountPaginator(queryset, 10)
    assert (estimated.count, estimated.is_estimate) == (estimate, True)
    monkeypatch.setattr(admin_paginator, "EXACT_COUNT_LIMIT", 10**9)
    exact = EstimatedCountPaginator(queryset, 10)
    assert (exact.count, exact.is_estimate) == (queryset.count(), False)


def test_item_page_is_read_only_and_shows_log_and_reservations(client_for, manager, stock):
    held = stock["held"]
    held.refresh_from_db()
    for number in range(30):
        services.restock(product_id=held.product_id, quantity=1, actor="receiver", reason=f"box {number}")
    client = client_for(manager)
    change_url = reverse("admin:inventory_inventory_change", args=[held.pk])

    response = client.get(change_url)

    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="available_stock"' not in page  # a read-only figure, not an input
    entries = list(response.context["log_page"])
    assert [entry.reason for entry in entries[:2]] == ["box 29", "box 28"]
    assert len(entries) == 25
    assert [reservation.order_id for reservation in response.context["active_reservations"]] == ["A-1"]
    assert "<svg" in page
    older = client.get(change_url, {"log_page": 2})
    assert [entry.operation for entry in older.context["log_page"]][-2:] == ["reserve", "create"]
    before = held.available_stock
    assert client.post(change_url, {"available_stock": 999}).status_code == 403
    held.refresh_from_db()
    assert held.available_stock == before + 30


def test_nobody_deletes_an_item(client_for, superuser, stock):
    response = client_for(superuser).post(reverse("admin:inventory_inventory_delete", args=[stock["plenty"].pk]))
    assert response.status_code == 403
    assert Inventory.objects.filter(pk=stock["plenty"].pk).exists()


def test_adding_an_item_goes_through_the_service(client_for, manager):
    response = client_for(manager).post(
        reverse("admin:inventory_inventory_add"),
        {"product_id": 777_001, "available_stock": 4, "low_stock_threshold": 2},
    )
    assert response.status_code == 302
    entry = InventoryLog.objects.get(product_id=777_001)
    assert (entry.operation, entry.available_after, entry.actor) == ("create", 4, "manager")


def test_adding_an_existing_product_is_a_form_error(client_for, manager, stock):
    product_id = stock["plenty"].product_id
    response = client_for(manager).post(
        reverse("admin:inventory_inventory_add"),
        {"product_id": product_id, "available_stock": 4, "low_stock_threshold": 2},
    )
    assert response.status_code == 200
    assert "product_id" in response.context["adminform"].form.errors


def test_one_threshold_for_many_items(client_for, manager, stock):
    client = client_for(manager)
    chosen = sorted([stock["plenty"], stock["low"]], key=lambda item: item.product_id)
    form_page = client.post(
        CHANGELIST, {"action": "set_threshold_of_selected", "_selected_action": [item.pk for item in chosen]}
    )
    assert form_page.status_code == 200
    assert list(form_page.context["items"]) == chosen

    done = client.post(
        BULK_THRESHOLD, {"ids": [item.pk for item in chosen], "low_stock_threshold": 45, "reason": "season"}
    )

    assert done.status_code == 302
    thresholds = dict(Inventory.objects.values_list("product_id", "low_stock_threshold"))
    assert thresholds[stock["plenty"].product_id] == thresholds[stock["low"].product_id] == 45
    assert thresholds[stock["out"].product_id] == 5
    assert InventoryLog.objects.filter(operation="threshold", actor="manager").count() == 2


def test_bulk_threshold_form_errors_change_nothing(client_for, manager, stock):
    response = client_for(manager).post(BULK_THRESHOLD, {"ids": [stock["plenty"].pk], "low_stock_threshold": -1})
    assert response.status_code == 200
    assert "low_stock_threshold" in response.context["form"].errors
    assert not InventoryLog.objects.filter(operation="threshold").exists()


def test_staff_cannot_set_thresholds_in_bulk(client_for, staff, stock):
    client = client_for(staff)
    changelist = client.get(CHANGELIST).content.decode()
    assert "set_threshold_of_selected" not in changelist
    assert client.post(BULK_THRESHOLD, {"ids": [stock["plenty"].pk], "low_stock_threshold": 1}).status_code == 403
    stock["plenty"].refresh_from_db()
    assert stock["plenty"].low_stock_threshold == 5


def test_export_follows_the_filters_of_the_list(client_for, staff, stock):
    response = client_for(staff).get(reverse("admin:inventory_inventory_export"), {"stock": "low"})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {int(row["product_id"]) for row in rows} == {stock["low"].product_id, stock["out"].product_id}
    out = next(row for row in rows if int(row["product_id"]) == stock["out"].product_id)
    assert (out["available_stock"], out["is_low_stock"]) == ("0", "True")


def test_the_migration_creates_the_two_groups(db, create_warehouse_groups):
    Group.objects.all().delete()
    create_warehouse_groups()
    perms = {
        group.name: set(group.permissions.values_list("codename", flat=True))
        for group in Group.objects.prefetch_related("permissions")
    }
    # 0003's, then 0012's for stock per warehouse (tests/admin/test_transfers_admin.py checks those),
    # 0015's to 0019's to see quotas, purchase orders and pre-sales, to count, and to see plans.
    assert perms["Warehouse staff"] == {
        *("view_inventory", "restock_inventory", "view_inventorylog", "view_reservation"),
        *("view_warehouse", "view_pool", "view_transfer", "view_stocklevel"),
        *("view_quota", "view_purchaseorder", "view_receipt", "view_presale", "view_itemplan"),
        *("view_countsheet", "count_countsheet"),
    }
    assert {"adjust_inventory", "change_threshold_inventory", "add_inventory", "change_reservation"} <= perms[
        "Warehouse managers"
    ]
    assert not any(codename.startswith("delete_") for codename in perms["Warehouse managers"])
