"""Stock per warehouse in the back office: an item's levels, the forms of one level, the lists by warehouse."""

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from inventory import services
from inventory.admin.charts import stock_chart
from inventory.models import Inventory, InventoryLog, Reservation, StockLevel
from tests.admin.test_admin_fuzz import RAW_ESCAPES, TRICKY

CHANGELIST = reverse("admin:inventory_inventory_changelist")
LOG_LIST = reverse("admin:inventory_inventorylog_changelist")
RESERVATION_LIST = reverse("admin:inventory_reservation_changelist")


def form_url(name: str, product: Inventory, warehouse: str | None = None) -> str:
    url = reverse(f"admin:inventory_inventory_{name}", args=[product.pk])
    return url if warehouse is None else f"{url}?warehouse={warehouse}"


def level(product: Inventory, code: str) -> StockLevel | None:
    return StockLevel.objects.filter(product_id=product.product_id, warehouse__code=code).first()


def figures(product: Inventory, code: str) -> tuple[int, int, int] | None:
    """A level's available stock, threshold and version; None when the product has no level there."""
    found = level(product, code)
    return None if found is None else (found.available_stock, found.low_stock_threshold, found.version)


def entries(product: Inventory) -> list[tuple[str, str, int]]:
    return list(
        InventoryLog.objects.filter(product_id=product.product_id)
        .order_by("id")
        .values_list("warehouse__code", "operation", "quantity")
    )


@pytest.fixture
def two_places(item, warehouse):
    """A product with 20 units in `default` and 7 in `north`, and another with none in `north`."""
    warehouse("north")
    product, elsewhere = item(20, 5), item(4, 5)
    services.restock(product_id=product.product_id, quantity=7, warehouse="north", actor="setup")
    return product, elsewhere


# --- The item's page --------------------------------------------------------------


def test_the_item_page_shows_one_row_per_level_with_its_version(client_for, manager, two_places):
    product, _ = two_places
    services.adjust_stock(product_id=product.product_id, delta=-7, reason="lost", warehouse="north", actor="setup")
    response = client_for(manager).get(reverse("admin:inventory_inventory_change", args=[product.pk]))

    html = response.content.decode()
    rows = re.findall(r'<tr class="stock-level">(.*?)</tr>', html, re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows]
    assert [row[0] for row in cells] == ["default", "north"]  # by priority
    assert [row[1:5] for row in cells] == [["20", "0", "0", "5"], ["0", "0", "0", "10"]]
    assert cells[0][5] == ""
    assert "Out of stock" in cells[1][5]
    assert [row[6] for row in cells] == ["1", "3"]  # each level's own version
    # Each row links to the forms of its own level.
    for code in ("default", "north"):
        for name in ("restock", "adjust", "threshold"):
            assert f'href="{form_url(name, product, code)}"' in html


def test_a_clerk_sees_only_the_restock_link_of_each_level(client_for, staff, two_places):
    product, _ = two_places
    html = client_for(staff).get(reverse("admin:inventory_inventory_change", args=[product.pk])).content.decode()
    assert f'href="{form_url("restock", product, "north")}"' in html
    assert form_url("adjust", product, "north") not in html
    assert form_url("threshold", product, "north") not in html


# --- The forms of one level ---------------------------------------------------------


def test_a_form_page_shows_the_level_it_acts_on(client_for, manager, two_places):
    product, elsewhere = two_places
    client = client_for(manager)
    north = level(product, "north")

    html = client.get(form_url("adjust", product, "north")).content.decode()

    assert "In warehouse north" in html
    assert re.search(r'id="figure-available">7<', html)
    assert f'<input type="hidden" name="version" value="{north.version}"' in html
    assert '<input type="hidden" name="version_of" value="north"' in html
    assert re.search(r'<option value="north" selected>north</option>', html)
    # Without a warehouse, the default level; a product with no level there starts from zeros.
    assert re.search(r'id="figure-available">20<', client.get(form_url("adjust", product)).content.decode())
    empty = client.get(form_url("threshold", elsewhere, "north")).content.decode()
    assert re.search(r'id="figure-available">0<', empty)
    assert '<input type="hidden" name="version" value="1"' in empty


def test_restock_in_another_warehouse(client_for, staff, two_places):
    product, _ = two_places
    response = client_for(staff).post(
        form_url("restock", product, "north"), {"warehouse": "north", "quantity": 5, "reason": "truck"}, follow=True
    )
    assert "Restock of product" in response.content.decode()
    assert "in north saved: 12 available there." in response.content.decode()
    assert figures(product, "north")[0] == 12
    assert figures(product, "default")[0] == 20
    assert entries(product)[-1] == ("north", "restock", 5)
    assert Inventory.objects.get(pk=product.pk).available_stock == 32


def test_restock_opens_the_level_of_a_first_delivery(client_for, staff, two_places):
    _, elsewhere = two_places
    response = client_for(staff).post(form_url("restock", elsewhere), {"warehouse": "north", "quantity": 3})
    assert response.status_code == 302
    assert figures(elsewhere, "north") == (3, 10, 2)
    assert entries(elsewhere)[-2:] == [("north", "create", 0), ("north", "restock", 3)]


def test_a_post_without_a_warehouse_acts_on_default(client_for, staff, two_places):
    product, _ = two_places
    assert client_for(staff).post(form_url("restock", product), {"quantity": 1}).status_code == 302
    assert (figures(product, "default")[0], figures(product, "north")[0]) == (21, 7)


def test_adjust_and_threshold_of_a_level_carry_its_version(client_for, manager, two_places):
    product, _ = two_places
    client = client_for(manager)
    version = level(product, "north").version

    adjusted = client.post(
        form_url("adjust", product, "north"),
        {"warehouse": "north", "version_of": "north", "version": version, "counted": 4, "reason": "count"},
    )
    threshold = client.post(
        form_url("threshold", product, "north"),
        {"warehouse": "north", "version_of": "north", "version": version + 1, "low_stock_threshold": 2},
    )

    assert (adjusted.status_code, threshold.status_code) == (302, 302)
    assert figures(product, "north") == (4, 2, version + 2)
    assert figures(product, "default") == (20, 5, 1)
    assert entries(product)[-2:] == [("north", "adjust", -3), ("north", "threshold", 2)]


def test_a_stale_version_of_the_level_changes_nothing(client_for, manager, two_places):
    product, _ = two_places
    seen = level(product, "north").version
    services.restock(product_id=product.product_id, quantity=1, warehouse="north", actor="someone-else")
    client = client_for(manager)
    data = {"warehouse": "north", "version_of": "north", "version": seen, "delta": -2, "reason": "broken"}

    response = client.post(form_url("adjust", product, "north"), data)

    assert response.status_code == 200
    assert "changed this item while you were looking" in response.content.decode()
    assert figures(product, "north") == (8, 10, seen + 1)
    assert re.search(r'id="figure-available">8<', response.content.decode())
    assert response.context["form"]["version"].value() == str(seen + 1)
    assert client.post(form_url("adjust", product, "north"), {**data, "version": seen + 1}).status_code == 302
    assert figures(product, "north")[0] == 6


def test_choosing_another_warehouse_than_the_one_shown_is_refused_first(client_for, manager, two_places):
    """The version carried is the shown level's: the other level's figures are shown before anything is saved."""
    product, _ = two_places
    client = client_for(manager)
    shown = level(product, "default")
    data = {"warehouse": "north", "version_of": "default", "version": shown.version, "counted": 0, "reason": "gone"}

    response = client.post(form_url("adjust", product), data)

    assert response.status_code == 200
    assert "You chose another warehouse than the one shown" in response.content.decode()
    assert (figures(product, "default"), figures(product, "north")) == ((20, 5, 1), (7, 10, 2))
    assert "In warehouse north" in response.content.decode()
    form = response.context["form"]
    assert (form["version"].value(), form["version_of"].value()) == ("2", "north")
    resubmitted = {**data, "version": form["version"].value(), "version_of": form["version_of"].value()}
    assert client.post(form_url("adjust", product), resubmitted).status_code == 302
    assert figures(product, "north")[0] == 0
    assert figures(product, "default")[0] == 20


@pytest.mark.parametrize("code", ["nowhere", "North", "a\x00", "x" * 40, ""])
def test_an_unknown_or_malformed_warehouse_is_a_form_error(client_for, manager, two_places, code):
    product, _ = two_places
    client = client_for(manager)
    for name, data in (("restock", {"quantity": 2}), ("threshold", {"low_stock_threshold": 3})):
        version = level(product, "default").version
        response = client.post(form_url(name, product), {**data, "version": version, "warehouse": code})
        if code == "":
            assert response.status_code == 302  # an empty choice is the default warehouse
            continue
        assert response.status_code == 200
        assert response.context["form"].errors["warehouse"]
    assert figures(product, "north") == (7, 10, 2)
    assert figures(product, "default")[0] == (22 if code == "" else 20)


def test_an_unknown_warehouse_in_the_address_shows_the_default_level_and_says_so(client_for, staff, two_places):
    product, _ = two_places
    response = client_for(staff).get(form_url("restock", product, "nowhere"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "No warehouse nowhere." in html
    assert "In warehouse default" in html


def test_a_level_form_without_the_permission_is_refused(client_for, staff, two_places):
    product, _ = two_places
    client = client_for(staff)
    data = {"warehouse": "north", "version_of": "north", "version": 2, "delta": -1, "reason": "r"}
    assert client.get(form_url("adjust", product, "north")).status_code == 403
    assert client.post(form_url("adjust", product, "north"), data).status_code == 403
    assert figures(product, "north") == (7, 10, 2)
    assert not LogEntry.objects.exists()


def test_a_change_of_a_level_is_in_the_admin_history(client_for, manager, two_places):
    product, _ = two_places
    client_for(manager).post(
        form_url("threshold", product, "north"),
        {"warehouse": "north", "version_of": "north", "version": 2, "low_stock_threshold": 9},
    )
    assert LogEntry.objects.get().get_change_message() == (
        f"The low-stock threshold of product {product.product_id} in north is now 9."
    )


# --- The lists by warehouse -----------------------------------------------------------


def listed(response) -> set[int]:
    return {row.product_id for row in response.context["cl"].result_list}


def test_the_inventory_list_by_warehouse_shows_the_sums(client_for, staff, two_places):
    product, elsewhere = two_places
    client = client_for(staff)

    response = client.get(CHANGELIST, {"warehouse": "north"})

    assert listed(response) == {product.product_id}
    assert [row.available_stock for row in response.context["cl"].result_list] == [27]  # the product's sum
    html = response.content.decode()
    assert "stock level in warehouse" in html
    assert "The figures shown stay each product&#x27;s sums over all warehouses" in html
    assert {product.product_id, elsewhere.product_id} <= listed(client.get(CHANGELIST, {"warehouse": "default"}))


def test_low_and_out_of_stock_with_a_warehouse_are_that_levels(client_for, staff, two_places):
    product, elsewhere = two_places
    client = client_for(staff)
    # north holds 7 of `product`, at or below its threshold of 10 there; the sums (27, threshold 15) are not low.
    assert product.product_id not in listed(client.get(CHANGELIST, {"stock": "low"}))
    assert listed(client.get(CHANGELIST, {"stock": "low", "warehouse": "north"})) == {product.product_id}
    assert listed(client.get(CHANGELIST, {"stock": "out", "warehouse": "north"})) == set()
    services.adjust_stock(product_id=product.product_id, counted=0, reason="empty", warehouse="north", actor="t")
    assert listed(client.get(CHANGELIST, {"stock": "out", "warehouse": "north"})) == {product.product_id}
    assert elsewhere.product_id in listed(client.get(CHANGELIST, {"stock": "low", "warehouse": "default"}))


@pytest.mark.parametrize("code", ["NOPE", "x" * 40])
def test_a_malformed_warehouse_filter_is_the_lists_error_page(client_for, staff, two_places, code):
    response = client_for(staff).get(CHANGELIST, {"warehouse": code})
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")
    assert client_for(staff).get(CHANGELIST, {"warehouse": "a\x00"}).status_code == 400


def test_an_unknown_warehouse_filter_lists_nothing(client_for, staff, two_places):
    assert listed(client_for(staff).get(CHANGELIST, {"warehouse": "nowhere"})) == set()


def test_the_log_and_the_reservations_by_warehouse(client_for, staff, two_places):
    product, _ = two_places
    services.reserve_stock(
        order_id="W-1", lines=[services.ReservationLine(product.product_id, 25)], actor="shop"
    )  # 20 from default, then 5 from north (priority order)
    client = client_for(staff)
    north = level(product, "north").warehouse_id

    log = client.get(LOG_LIST, {"warehouse__id__exact": north, "q": str(product.product_id)})
    held = client.get(RESERVATION_LIST, {"warehouse__id__exact": north})

    assert {(e.warehouse.code, e.operation) for e in log.context["cl"].result_list} == {
        ("north", "create"),
        ("north", "restock"),
        ("north", "reserve"),
    }
    assert [(r.order_id, r.quantity) for r in held.context["cl"].result_list] == [("W-1", 5)]
    assert '<span class="product-label">@ north</span>' in log.content.decode()
    assert '<td class="field-warehouse_column">north</td>' in held.content.decode()
    for response in (log, held):
        assert "By warehouse" in response.content.decode()


def test_releasing_one_warehouses_part_of_a_line_releases_the_whole_line(client_for, manager, two_places):
    product, _ = two_places
    services.reserve_stock(order_id="W-2", lines=[services.ReservationLine(product.product_id, 25)], actor="shop")
    north_part = Reservation.objects.get(order_id="W-2", warehouse__code="north")
    client = client_for(manager)
    selection = {"action": "release_selected", "_selected_action": [north_part.pk]}

    asked = client.post(RESERVATION_LIST, selection)

    assert "Release 2 active reservations?" in asked.content.decode()
    assert "1 of them is not selected" in asked.content.decode()
    assert Reservation.objects.filter(order_id="W-2", status="active").count() == 2
    done = client.post(RESERVATION_LIST, {**selection, "post": "yes"}, follow=True)
    assert "Released 2 reservation(s); 0 were not active." in done.content.decode()
    assert set(Reservation.objects.filter(order_id="W-2").values_list("status", flat=True)) == {"cancelled"}
    assert (figures(product, "default")[0], figures(product, "north")[0]) == (20, 7)


# --- The chart of a product in several warehouses ----------------------------------------


def test_the_chart_of_a_product_sums_its_levels(two_places):
    product, _ = two_places
    services.restock(product_id=product.product_id, quantity=3, warehouse="default", actor="t")
    entries_ = list(InventoryLog.objects.filter(product_id=product.product_id).order_by("id"))
    now = entries_[-1].created_at + timedelta(hours=1)

    whole = stock_chart(product.product_id, entries_, now=now)
    # Only the last entry in the window: north, which it did not change, adds its 7 throughout.
    levels = list(StockLevel.objects.filter(product_id=product.product_id))
    last = stock_chart(product.product_id, entries_[-1:], now=now, levels=levels)

    assert [label for _, label in whole.y_ticks][-1] == "30"  # 20 + 7 + 3
    assert [label for _, label in last.y_ticks][-1] == "30"


def test_the_item_page_chart_counts_every_warehouse(client_for, staff, two_places):
    product, _ = two_places
    chart = client_for(staff).get(reverse("admin:inventory_inventory_change", args=[product.pk])).context["chart"]
    assert chart.y_ticks[-1][1] == "27"


def test_every_warehouse_parameter_with_each_tricky_value(client_for, superuser, two_places):
    """The warehouse a list, a form page or the dashboard is asked for never answers 5xx."""
    product, _ = two_places
    client = client_for(superuser)
    pages = {
        CHANGELIST: "warehouse",
        reverse("admin:inventory_dashboard"): "warehouse",
        form_url("adjust", product): "warehouse",
        LOG_LIST: "warehouse__id__exact",
        RESERVATION_LIST: "warehouse__id__exact",
    }
    for url, name in pages.items():
        for value in [*(quote(text, safe="") for text in TRICKY), *RAW_ESCAPES]:
            assert client.get(f"{url}?{name}={value}").status_code < 500, (url, value)
    posted = {"delta": 1, "reason": "r", "version": 2, "version_of": "default", "warehouse": "default"}
    for text in TRICKY:
        for name in ("warehouse", "version_of"):
            data = {**posted, name: text}
            assert client.post(form_url("adjust", product), data).status_code < 500, (name, text)


def test_a_form_with_errors_shows_the_level_it_chose(client_for, staff, two_places):
    product, _ = two_places
    response = client_for(staff).post(form_url("restock", product), {"warehouse": "north", "quantity": 0})
    assert response.status_code == 200
    assert response.context["form"].errors["quantity"]
    assert "In warehouse north" in response.content.decode()
    assert figures(product, "north")[0] == 7
