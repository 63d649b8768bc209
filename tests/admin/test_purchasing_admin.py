"""The purchase orders screen: the list and an order's page, placing, receiving in parts (over
and under), closing, cancelling, who may, and hostile input (never a 5xx)."""

import importlib
import re
from datetime import date
from urllib.parse import quote

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission, User
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.urls import reverse

from inventory import services
from inventory.admin.purchasing import CloseForm, ReceiveForm
from inventory.models import PurchaseOrder, Receipt, StockLevel
from inventory.services import PurchaseOrderLineInput, ReceiptLineInput
from tests.admin.test_admin_fuzz import RAW_ESCAPES, TRICKY
from tests.admin.test_translations import CHINESE, english_words

ORDERS = reverse("admin:inventory_purchaseorder_changelist")
ADD = reverse("admin:inventory_purchaseorder_add")
PURCHASING_MIGRATION = "0016_purchasing"


def step_url(name: str, order: PurchaseOrder) -> str:
    return reverse(f"admin:inventory_purchaseorder_{name}", args=[order.pk])


def order_url(order: PurchaseOrder) -> str:
    return reverse("admin:inventory_purchaseorder_change", args=[order.pk])


def available(product, code: str = "north") -> int | None:
    level = StockLevel.objects.filter(product_id=product.product_id, warehouse__code=code).first()
    return None if level is None else level.available_stock


@pytest.fixture(scope="session")
def grant_purchasing(django_db_setup, django_db_blocker):
    """This migration's own grant, run on the models as they were at it."""
    with django_db_blocker.unblock():
        apps = MigrationLoader(connection).project_state(("inventory", PURCHASING_MIGRATION)).apps
    migration = importlib.import_module(f"inventory.migrations.{PURCHASING_MIGRATION}")
    return lambda: migration.grant(apps, None)


@pytest.fixture(autouse=True)
def purchasing_groups(warehouse_groups, grant_purchasing):
    grant_purchasing()


@pytest.fixture
def goods(item, warehouse):
    """Two products in `default` (20 and 8 units) and a warehouse `north` the goods are delivered to."""
    warehouse("north")
    return item(20), item(8)


@pytest.fixture
def ordered(goods):
    """An open purchase order: 10 of the first product and 4 of the second, for north."""
    first, second = goods
    return services.create_purchase_order(
        supplier="Acme Ltd",
        supplier_reference="SO-1",
        warehouse="north",
        lines=[
            PurchaseOrderLineInput(first.product_id, 10, date.fromisoformat("2030-01-10")),
            PurchaseOrderLineInput(second.product_id, 4, date.fromisoformat("2030-01-20")),
        ],
        actor="setup",
    )


def add_data(goods, lines: str | None = None, **changes) -> dict:
    first, second = goods
    lines = f"{first.product_id},10\n{second.product_id}\t4\t2030-02-01\n" if lines is None else lines
    return {
        "supplier": "Acme Ltd",
        "supplier_reference": "SO-9",
        "warehouse": "north",
        "expected_date": "2030-01-15",
        "lines": lines,
        "note": "",
        **changes,
    }


# --- Placing -------------------------------------------------------------------------------


def test_placing_an_order(client_for, manager, goods):
    first, second = goods
    client = client_for(manager)
    assert client.get(ADD).status_code == 200

    response = client.post(ADD, add_data(goods))

    order = PurchaseOrder.objects.get()
    assert response.status_code == 302
    assert response["Location"] == order_url(order)
    assert (order.supplier, order.supplier_reference, order.warehouse.code, order.status, order.actor) == (
        "Acme Ltd",
        "SO-9",
        "north",
        "open",
        "manager",
    )
    assert sorted(order.lines.values_list("product_id", "quantity", "expected_date")) == [
        (first.product_id, 10, date.fromisoformat("2030-01-15")),
        (second.product_id, 4, date.fromisoformat("2030-02-01")),
    ]
    assert available(first) is None  # nothing moves until goods come
    entry = LogEntry.objects.get()
    assert (entry.action_flag, entry.object_id, entry.user) == (ADDITION, str(order.pk), manager)
    page = client.get(response["Location"]).content.decode()
    assert f"Purchase order {order.pk} placed with Acme Ltd for north: 14 units." in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"supplier": ""}, "supplier", "This field is required."),
        ({"supplier": "a\x07b"}, "supplier", "Control characters are not allowed."),
        ({"supplier": "s" * 201}, "supplier", "at most 200 characters"),
        ({"warehouse": "nowhere"}, "warehouse", "Select a valid choice."),
        ({"warehouse": "a\x00"}, "warehouse", "Select a valid choice."),
        ({"expected_date": ""}, "expected_date", "This field is required."),
        ({"expected_date": "2030-02-30"}, "expected_date", "Enter a valid date."),
        ({"lines": ""}, "lines", "This field is required."),
        ({"lines": "1001"}, "lines", "Line 1: give a product id, a quantity from 1 to 1,000,000,000"),
        ({"lines": "1001,0"}, "lines", "Line 1: give a product id"),
        ({"lines": "1001,2,2030-13-01"}, "lines", "Line 1: give a product id"),
        ({"lines": "1001,2,tomorrow"}, "lines", "Line 1: give a product id"),
        ({"lines": "1001,2,2030-01-01,x"}, "lines", "Line 1: give a product id"),
        ({"lines": "²,2"}, "lines", "Line 1: give a product id"),
        ({"lines": "1001,2\n1001,3"}, "lines", "Line 2: product 1001 is on line 1 already."),
        ({"lines": "\n".join(f"{n},1" for n in range(1, 102))}, "lines", "at most 100 lines; this one has 101."),
        ({"supplier_reference": "a\x00b"}, "supplier_reference", "Null characters are not allowed."),
        ({"note": "n" * 1001}, "note", "at most 1000 characters"),
    ],
)
def test_placing_refuses_what_the_form_can_tell(client_for, manager, goods, changes, field, message):
    response = client_for(manager).post(ADD, add_data(goods, **changes))
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field]), response.context["form"].errors
    assert not PurchaseOrder.objects.exists()


def test_a_product_the_service_does_not_know_is_a_form_error(client_for, manager, goods):
    response = client_for(manager).post(ADD, add_data(goods, "999999999,1"))
    assert response.status_code == 200
    assert "No inventory record for product 999999999." in response.context["form"].errors["lines"][0]
    assert not PurchaseOrder.objects.exists()
    assert not LogEntry.objects.exists()


# --- The list and an order's page --------------------------------------------------------------


def test_the_list_filters_and_searches(client_for, staff, goods, ordered):
    first, second = goods
    other = services.create_purchase_order(
        supplier="Beta GmbH",
        warehouse="default",
        lines=[PurchaseOrderLineInput(second.product_id, 1, date.fromisoformat("2030-03-01"))],
        actor="setup",
    )
    services.cancel_purchase_order(purchase_order_id=other.pk, actor="setup")
    client = client_for(staff)

    def listed(**query) -> list[int]:
        return [row.pk for row in client.get(ORDERS, query).context["cl"].result_list]

    assert listed() == [other.pk, ordered.pk]
    assert listed(status__exact="open") == [ordered.pk]
    assert listed(status__exact="cancelled") == [other.pk]
    assert listed(warehouse__id__exact=ordered.warehouse_id) == [ordered.pk]
    assert listed(q="SO-1") == [ordered.pk]
    assert listed(q="Beta GmbH") == [other.pk]
    assert listed(q=str(first.product_id)) == [ordered.pk]
    assert listed(q=str(other.pk)) == [other.pk]
    assert listed(q="nothing") == []
    html = client.get(ORDERS).content.decode()
    assert '<span class="num">0 / 14</span>' in html
    assert "2030-01-10" in html  # the next day goods are due


def test_an_orders_page_shows_its_lines_receipts_and_log_entries(client_for, manager, goods, ordered):
    first, _ = goods
    services.receive_purchase_order(
        purchase_order_id=ordered.pk, lines=[ReceiptLineInput(first.product_id, 6)], reference="DN-1", actor="clerk"
    )

    response = client_for(manager).get(order_url(ordered))

    html = response.content.decode()
    assert response.status_code == 200
    rows = re.findall(r'class="purchase-order-line">(.*?)</tr>', html, re.S)
    assert [re.findall(r'<td class="num">([^<]*)</td>', row) for row in rows] == [["10", "6", "4"], ["4", "0", "4"]]
    assert ["2030-01-10" in rows[0], "2030-01-20" in rows[1]] == [True, True]
    assert re.search(r'class="receipt">.*DN-1.*clerk.*' + str(first.product_id) + r": 6", html, re.S)
    # The order's own entries: the restock of each line received (the level's `create` entry is not one).
    assert [(e.warehouse.code, e.operation, e.product_id, e.quantity) for e in response.context["entries"]] == [
        ("north", "restock", first.product_id, 6)
    ]
    assert f'href="{step_url("receive", ordered)}"' in html
    assert f'href="{step_url("close", ordered)}"' in html
    assert step_url("cancel", ordered) not in html  # goods came: it can only be closed
    assert 'name="_save"' not in html


def test_an_order_is_never_edited_or_deleted(client_for, superuser, ordered):
    client = client_for(superuser)
    assert client.post(order_url(ordered), {"status": "received", "supplier": "x"}).status_code == 403
    delete = reverse("admin:inventory_purchaseorder_delete", args=[ordered.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    ordered.refresh_from_db()
    assert (ordered.status, ordered.supplier) == ("open", "Acme Ltd")


# --- Receiving ---------------------------------------------------------------------------------


def test_receiving_part_then_more_than_the_rest(client_for, manager, goods, ordered):
    first, second = goods
    client = client_for(manager)
    html = client.get(step_url("receive", ordered)).content.decode()
    assert re.search(rf'name="line_{first.product_id}" value="10"', html)
    assert html.count("autofocus") == 1

    part = client.post(
        step_url("receive", ordered),
        {"reference": "DN-1", f"line_{first.product_id}": 6, f"line_{second.product_id}": 0},
    )

    assert part.status_code == 302
    ordered.refresh_from_db()
    assert ordered.status == "partially_received"
    assert (available(first), available(second)) == (6, None)
    page = client.get(part["Location"]).content.decode()
    assert f"Purchase order {ordered.pk}: 6 units received in north; it is now Partially received." in page
    assert re.search(
        rf'name="line_{first.product_id}" value="4"', client.get(step_url("receive", ordered)).content.decode()
    )

    rest = client.post(step_url("receive", ordered), {f"line_{first.product_id}": 5, f"line_{second.product_id}": 4})

    assert rest.status_code == 302
    ordered.refresh_from_db()
    assert ordered.status == "received"
    assert (available(first), available(second)) == (11, 4)
    assert sorted(ordered.lines.values_list("quantity", "received")) == [(4, 4), (10, 11)]
    assert [receipt.reference for receipt in Receipt.objects.order_by("id")] == ["DN-1", ""]
    assert [entry.action_flag for entry in LogEntry.objects.all()] == [CHANGE, CHANGE]
    follow = client.get(step_url("receive", ordered), follow=True)
    assert f"Purchase order {ordered.pk} is Received: there is nothing to receive, close or cancel." in (
        follow.content.decode()
    )


@pytest.mark.parametrize(
    ("quantities", "field", "message"),
    [
        ((0, 0), "__all__", "Give a quantity received for at least one line."),
        ((-1, 3), "first", "Ensure this value is greater than or equal to 0."),
        ((1_000_000_001, 0), "first", "Ensure this value is less than or equal to 1000000000."),
        (("x", 3), "first", "Enter a whole number."),
        (("", 3), "first", "This field is required."),
    ],
)
def test_receiving_refuses_what_the_form_can_tell(client_for, manager, goods, ordered, quantities, field, message):
    first, second = goods
    field = f"line_{first.product_id}" if field == "first" else field
    data = {f"line_{first.product_id}": quantities[0], f"line_{second.product_id}": quantities[1]}
    response = client_for(manager).post(step_url("receive", ordered), data)
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field]), response.context["form"].errors
    assert available(first) is None
    ordered.refresh_from_db()
    assert ordered.status == "open"


def test_a_step_on_an_order_closed_meanwhile_is_refused(goods, ordered):
    first, second = goods
    receipt = ReceiveForm({f"line_{first.product_id}": 1, f"line_{second.product_id}": 0}, order=ordered)
    close = CloseForm({"reason": ""}, order=ordered)
    assert receipt.is_valid()
    assert close.is_valid()
    services.close_purchase_order(purchase_order_id=ordered.pk, actor="someone-else")

    assert receipt.submit(actor="manager") is None
    assert close.submit(actor="manager") is None

    assert receipt.non_field_errors() == [f"Purchase order {ordered.pk} is closed."]
    assert close.non_field_errors() == [f"Purchase order {ordered.pk} is closed."]
    assert available(first) is None


# --- Closing and cancelling ----------------------------------------------------------------------


def test_closing_an_under_delivery(client_for, manager, goods, ordered):
    first, _ = goods
    services.receive_purchase_order(
        purchase_order_id=ordered.pk, lines=[ReceiptLineInput(first.product_id, 7)], actor="clerk"
    )
    client = client_for(manager)

    asked = client.get(step_url("close", ordered))
    assert "Close this purchase order?" in asked.content.decode()

    done = client.post(step_url("close", ordered), {"reason": "Out of stock at the supplier"}, follow=True)

    assert f"Purchase order {ordered.pk} closed: 7 units outstanding will not come." in done.content.decode()
    ordered.refresh_from_db()
    assert (ordered.status, ordered.ended_by, ordered.end_reason) == (
        "closed",
        "manager",
        "Out of stock at the supplier",
    )
    assert sorted(ordered.lines.values_list("quantity", "received")) == [(4, 0), (10, 7)]
    assert available(first) == 7
    html = client.get(order_url(ordered)).content.decode()
    assert step_url("receive", ordered) not in html


def test_cancelling_an_order_nothing_came_against(client_for, manager, ordered):
    client = client_for(manager)
    assert f'href="{step_url("cancel", ordered)}"' in client.get(order_url(ordered)).content.decode()

    done = client.post(step_url("cancel", ordered), {"reason": "Ordered twice"}, follow=True)

    assert f"Purchase order {ordered.pk} cancelled." in done.content.decode()
    ordered.refresh_from_db()
    assert (ordered.status, ordered.end_reason) == ("cancelled", "Ordered twice")
    assert LogEntry.objects.get().get_change_message() == f"Purchase order {ordered.pk} cancelled."


def test_a_cancel_after_a_receipt_is_refused_on_the_form(client_for, manager, goods, ordered):
    first, _ = goods
    services.receive_purchase_order(
        purchase_order_id=ordered.pk, lines=[ReceiptLineInput(first.product_id, 1)], actor="clerk"
    )
    response = client_for(manager).post(step_url("cancel", ordered), {"reason": ""})
    assert response.status_code == 200
    assert "close it instead" in " ".join(response.context["form"].non_field_errors())
    ordered.refresh_from_db()
    assert ordered.status == "partially_received"


def test_steps_of_an_unknown_order_redirect(client_for, manager, db):
    for name in ("receive", "close", "cancel"):
        response = client_for(manager).get(reverse(f"admin:inventory_purchaseorder_{name}", args=[999_999]))
        assert response.status_code == 302


# --- Who may ---------------------------------------------------------------------------------


def person_with(username: str, *codenames: str) -> User:
    user = User.objects.create_user(username, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames, content_type__app_label="inventory"))
    return user


def test_a_clerk_sees_orders_but_neither_places_nor_receives(client_for, staff, goods, ordered):
    first, _ = goods
    client = client_for(staff)
    assert client.get(ORDERS).status_code == 200
    assert client.get(order_url(ordered)).status_code == 200
    assert ADD not in client.get(ORDERS).content.decode()
    assert step_url("receive", ordered) not in client.get(order_url(ordered)).content.decode()
    assert client.get(ADD).status_code == 403
    assert client.post(ADD, add_data(goods)).status_code == 403
    for name in ("receive", "close", "cancel"):
        assert client.get(step_url(name, ordered)).status_code == 403
        assert client.post(step_url(name, ordered), {f"line_{first.product_id}": 5}).status_code == 403
    assert PurchaseOrder.objects.get().status == "open"


def test_each_permission_opens_its_own_pages(client_for, goods, ordered):
    client = client_for(person_with("buyer", "view_purchaseorder", "add_purchaseorder"))
    assert client.post(ADD, add_data(goods)).status_code == 302
    assert client.get(step_url("receive", ordered)).status_code == 403

    client = client_for(person_with("receiver", "view_purchaseorder", "receive_purchaseorder"))
    assert client.get(ADD).status_code == 403
    assert client.post(step_url("cancel", ordered), {"reason": ""}).status_code == 302
    assert PurchaseOrder.objects.get(pk=ordered.pk).status == "cancelled"


def test_without_view_purchaseorder_there_is_no_screen(client_for, viewer, ordered):
    client = client_for(viewer)
    assert client.get(ORDERS).status_code == 403
    assert client.get(order_url(ordered)).status_code == 403


def test_the_migration_gives_the_groups_the_purchasing_permissions(db, create_warehouse_groups, grant_purchasing):
    Group.objects.all().delete()
    create_warehouse_groups()
    grant_purchasing()
    perms = {group.name: set(group.permissions.values_list("codename", flat=True)) for group in Group.objects.all()}
    seeing = {"view_purchaseorder", "view_receipt"}
    managing = {"add_purchaseorder", "receive_purchaseorder"}
    assert seeing <= perms["Warehouse staff"]
    assert not (managing & perms["Warehouse staff"])
    assert seeing | managing <= perms["Warehouse managers"]
    assert not any(codename.startswith("delete_") for codenames in perms.values() for codename in codenames)


# --- Hostile input: never a 5xx ----------------------------------------------------------------


def test_every_parameter_and_field_of_the_purchase_order_pages_with_each_tricky_value(
    client_for, superuser, goods, ordered
):
    first, second = goods
    client = client_for(superuser)
    values = [*(quote(text, safe="") for text in TRICKY), *RAW_ESCAPES]
    parameters = {
        ORDERS: ["q", "o", "p", "status__exact", "warehouse__id__exact", "_to_field"],
        order_url(ordered): ["_to_field", "_changelist_filters"],
        step_url("receive", ordered): ["_to_field"],
    }
    for url, names in parameters.items():
        for name in names:
            for value in values:
                assert client.get(f"{url}?{name}={value}").status_code < 500, (url, name, value)
    for text in TRICKY:
        for field in ("supplier", "supplier_reference", "warehouse", "expected_date", "lines", "note"):
            assert client.post(ADD, {**add_data(goods), field: text}).status_code < 500, (field, text)
        receipt = {f"line_{first.product_id}": text, f"line_{second.product_id}": 1, "reference": text}
        assert client.post(step_url("receive", ordered), receipt).status_code < 500, text
        for page in ("change", "receive", "close", "cancel", "history"):
            assert client.get(f"/admin/inventory/purchaseorder/{quote(text, safe='')}/{page}/").status_code < 500
    for text in TRICKY:  # the first reason that is one closes the order; the others find it closed
        assert client.post(step_url("close", ordered), {"reason": text}).status_code < 500, text
    assert PurchaseOrder.objects.get(pk=ordered.pk).status in ("closed", "received")


# --- In Chinese ----------------------------------------------------------------------------------


def test_no_english_is_left_on_the_purchase_order_screens_in_chinese(client, chinese_warehouse, warehouse):
    warehouse("north")
    due = date.fromisoformat("2030-01-10")
    started = services.create_purchase_order(
        supplier="华东供应", warehouse="north", lines=[PurchaseOrderLineInput(710_001, 10, due)], actor="张经理"
    )
    services.receive_purchase_order(
        purchase_order_id=started.pk, lines=[ReceiptLineInput(710_001, 4)], reference="送货单 12", actor="张经理"
    )
    untouched = services.create_purchase_order(
        supplier="华东供应", warehouse="north", lines=[PurchaseOrderLineInput(710_002, 3, due)], actor="张经理"
    )
    client.force_login(chinese_warehouse)
    screens = {
        "list": (ORDERS, None),
        "order": (order_url(started), None),
        "place": (ADD, None),
        "place, refused": (ADD, {"supplier": "", "warehouse": "north", "expected_date": "x", "lines": "710001\nx"}),
        "receive": (step_url("receive", started), None),
        "receive, refused": (step_url("receive", started), {"line_710001": -1}),
        "close": (step_url("close", started), None),
        "cancel": (step_url("cancel", untouched), None),
    }
    left = {}
    for name, (url, body) in screens.items():
        response = client.post(url, body, **CHINESE) if body else client.get(url, **CHINESE)
        assert response.status_code == 200, name
        if words := english_words(response.content.decode()) - {"north"}:
            left[name] = sorted(words)
    assert left == {}, repr(left)
