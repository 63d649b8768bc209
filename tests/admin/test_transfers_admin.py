"""The transfers screen: the list and a transfer's page, sending, receiving, cancelling, and who may."""

import re
from urllib.parse import quote

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission, User
from django.urls import reverse

from inventory import services
from inventory.admin.transfers import CancelForm, ReceiveForm
from inventory.models import Inventory, StockLevel, Transfer
from tests.admin.test_admin_fuzz import RAW_ESCAPES, TRICKY
from tests.admin.test_translations import CHINESE, english_words

TRANSFERS = reverse("admin:inventory_transfer_changelist")
ADD = reverse("admin:inventory_transfer_add")


def step_url(name: str, transfer: Transfer) -> str:
    return reverse(f"admin:inventory_transfer_{name}", args=[transfer.pk])


def transfer_url(transfer: Transfer) -> str:
    return reverse("admin:inventory_transfer_change", args=[transfer.pk])


def stock(product: Inventory, code: str) -> tuple[int, int]:
    """A level's available stock and units in transit to it; (0, 0) when there is no level."""
    level = StockLevel.objects.filter(product_id=product.product_id, warehouse__code=code).first()
    return (0, 0) if level is None else (level.available_stock, level.in_transit)


@pytest.fixture
def goods(item, warehouse):
    """Two products in `default` (20 and 8 units) and a warehouse `north` to send them to."""
    warehouse("north")
    return item(20), item(8)


@pytest.fixture
def sent(goods):
    """A transfer in transit: 5 of the first product and 3 of the second, default -> north."""
    first, second = goods
    return services.create_transfer(
        source="default",
        destination="north",
        lines=[services.TransferLineInput(first.product_id, 5), services.TransferLineInput(second.product_id, 3)],
        reference="TRUCK-1",
        actor="setup",
    )


def add_data(goods, lines: str | None = None, **changes) -> dict:
    first, second = goods
    lines = f"{first.product_id},5\n{second.product_id}\t3\n" if lines is None else lines
    return {"source": "default", "destination": "north", "reference": "TRUCK-9", "lines": lines, **changes}


# --- Sending ------------------------------------------------------------------------------


def test_sending_a_transfer(client_for, manager, goods):
    first, second = goods
    client = client_for(manager)
    assert client.get(ADD).status_code == 200
    # A comma, a tab (cells pasted from a spreadsheet), a semicolon and spaces all separate; blank lines are skipped.
    lines = f"{first.product_id},5\n\n  {second.product_id}\t2  \n"

    response = client.post(ADD, add_data(goods, lines))

    shipment = Transfer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == transfer_url(shipment)
    assert (shipment.source.code, shipment.destination.code, shipment.status) == ("default", "north", "in_transit")
    assert (shipment.reference, shipment.actor) == ("TRUCK-9", "manager")
    assert sorted(shipment.lines.values_list("product_id", "quantity")) == [
        (first.product_id, 5),
        (second.product_id, 2),
    ]
    assert (stock(first, "default"), stock(first, "north")) == ((15, 0), (0, 5))
    assert (stock(second, "default"), stock(second, "north")) == ((6, 0), (0, 2))
    entry = LogEntry.objects.get()
    assert (entry.action_flag, entry.object_id, entry.user) == (ADDITION, str(shipment.pk), manager)
    page = client.get(response["Location"]).content.decode()
    assert f"Transfer {shipment.pk} from default to north sent: 7 units in transit." in page


@pytest.mark.parametrize("separator", [",", ";", "\t", " ", " , "])
def test_each_separator_of_a_line(client_for, manager, goods, separator):
    first, _ = goods
    response = client_for(manager).post(ADD, add_data(goods, f"{first.product_id}{separator}4"))
    assert response.status_code == 302
    assert stock(first, "north") == (0, 4)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"destination": "default"}, "destination", "A transfer goes to another warehouse than its source."),
        ({"source": "nowhere"}, "source", "Select a valid choice."),
        ({"destination": "a\x00"}, "destination", "Select a valid choice."),
        ({"source": ""}, "source", "This field is required."),
        ({"lines": ""}, "lines", "This field is required."),
        ({"lines": "\n \n"}, "lines", "This field is required."),
        ({"lines": "1001"}, "lines", "Line 1: give a product id and a quantity from 1 to 1,000,000,000, as 1001,5."),
        ({"lines": "1001,0"}, "lines", "Line 1: give a product id"),
        ({"lines": "1001,-2"}, "lines", "Line 1: give a product id"),
        ({"lines": "1001,1000000001"}, "lines", "Line 1: give a product id"),
        ({"lines": "1001,2,3"}, "lines", "Line 1: give a product id"),
        ({"lines": "x,2"}, "lines", "Line 1: give a product id"),
        ({"lines": "²,2"}, "lines", "Line 1: give a product id"),
        ({"lines": "1001,2\n\n1001,3"}, "lines", "Line 3: product 1001 is on line 1 already."),
        ({"lines": "\n".join(f"{n},1" for n in range(1, 102))}, "lines", "at most 100 lines; this one has 101."),
        ({"reference": "a\x00b"}, "reference", "Null characters are not allowed."),
        ({"reference": "r" * 256}, "reference", "at most 255 characters"),
    ],
)
def test_sending_refuses_what_the_form_can_tell(client_for, manager, goods, changes, field, message):
    response = client_for(manager).post(ADD, add_data(goods, **changes))
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field]), response.context["form"].errors
    assert not Transfer.objects.exists()
    assert [stock(product, "default") for product in goods] == [(20, 0), (8, 0)]


def test_each_malformed_line_is_named(client_for, manager, goods):
    first, _ = goods
    response = client_for(manager).post(ADD, add_data(goods, f"{first.product_id},1\nabc\n{first.product_id},2\n7"))
    errors = response.context["form"].errors["lines"]
    assert [error.split(":")[0] for error in errors] == ["Line 2", "Line 3", "Line 4"]
    assert f"{first.product_id},1\nabc" in response.content.decode()  # the text comes back to be corrected


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ("{first},21\n{second},9", "Not enough available stock: product {first}, 21 asked for, 20 available; "),
        ("{first},1\n999999999,1", "No inventory record for product 999999999."),
    ],
)
def test_a_refusal_of_the_service_is_a_form_error_and_nothing_moves(client_for, manager, goods, lines, message):
    first, second = goods
    lines = lines.format(first=first.product_id, second=second.product_id)
    response = client_for(manager).post(ADD, add_data(goods, lines))
    assert response.status_code == 200
    assert message.format(first=first.product_id) in response.context["form"].errors["lines"][0]
    assert not Transfer.objects.exists()
    assert [stock(product, "default") for product in goods] == [(20, 0), (8, 0)]
    assert [stock(product, "north") for product in goods] == [(0, 0), (0, 0)]
    assert not LogEntry.objects.exists()


# --- The list and a transfer's page --------------------------------------------------------


def test_the_list_filters_and_searches(client_for, staff, goods, sent, warehouse):
    first, second = goods
    warehouse("south")
    back = services.create_transfer(
        source="default",
        destination="south",
        lines=[services.TransferLineInput(second.product_id, 1)],
        actor="setup",
    )
    services.receive_transfer(transfer_id=back.pk, actor="setup")
    client = client_for(staff)
    north = sent.destination_id

    def listed(**query) -> list[int]:
        return [row.pk for row in client.get(TRANSFERS, query).context["cl"].result_list]

    assert listed() == [back.pk, sent.pk]  # newest first
    assert listed(status__exact="in_transit") == [sent.pk]
    assert listed(status__exact="received") == [back.pk]
    assert listed(destination__id__exact=north) == [sent.pk]
    assert listed(source__id__exact=sent.source_id) == [back.pk, sent.pk]
    assert listed(q="TRUCK-1") == [sent.pk]
    assert listed(q=str(first.product_id)) == [sent.pk]
    assert listed(q=str(back.pk)) == [back.pk]
    assert listed(q="nothing") == []
    html = client.get(TRANSFERS).content.decode()
    assert '<span class="num">0 / 8</span>' in html  # received / sent units of `sent`
    assert "By from" in html
    assert "By to" in html


def test_a_transfers_page_shows_its_lines_and_log_entries(client_for, manager, goods, sent):
    first, second = goods
    services.receive_transfer(
        transfer_id=sent.pk, lines=[services.TransferLineInput(first.product_id, 2)], actor="receiver"
    )
    response = client_for(manager).get(transfer_url(sent))

    html = response.content.decode()
    assert response.status_code == 200
    lines = [
        re.findall(r'<td class="num">([^<]*)</td>', row)
        for row in re.findall(r'class="transfer-line">(.*?)</tr>', html, re.S)
    ]
    assert lines == [["5", "2", "3"], ["3", "0", "3"]]
    assert [(e.warehouse.code, e.operation, e.product_id, e.quantity) for e in response.context["entries"]] == [
        ("default", "transfer_out", first.product_id, 5),
        ("default", "transfer_out", second.product_id, 3),
        ("north", "transfer_in", first.product_id, 2),
    ]
    assert f'href="{step_url("receive", sent)}"' in html
    assert f'href="{step_url("cancel", sent)}"' in html
    assert 'name="_save"' not in html  # read-only


def test_a_closed_transfer_offers_no_steps(client_for, manager, sent):
    services.cancel_transfer(transfer_id=sent.pk, actor="setup")
    html = client_for(manager).get(transfer_url(sent)).content.decode()
    assert step_url("receive", sent) not in html
    assert step_url("cancel", sent) not in html
    follow = client_for(manager).get(step_url("receive", sent), follow=True)
    assert f"Transfer {sent.pk} is Cancelled: there is nothing to receive or cancel." in follow.content.decode()


def test_a_transfer_is_never_edited_or_deleted(client_for, superuser, sent):
    client = client_for(superuser)
    assert client.post(transfer_url(sent), {"status": "received", "reference": "x"}).status_code == 403
    assert client.post(reverse("admin:inventory_transfer_delete", args=[sent.pk]), {"post": "yes"}).status_code == 403
    sent.refresh_from_db()
    assert (sent.status, sent.reference) == ("in_transit", "TRUCK-1")


# --- Receiving ----------------------------------------------------------------------------


def test_the_receive_form_starts_from_what_is_in_transit(client_for, manager, goods, sent):
    first, second = goods
    html = client_for(manager).get(step_url("receive", sent)).content.decode()
    assert re.search(rf'name="line_{first.product_id}" value="5"', html)
    assert re.search(rf'name="line_{second.product_id}" value="3"', html)
    assert html.count("autofocus") == 1


def test_receiving_part_then_the_rest(client_for, manager, goods, sent):
    first, second = goods
    client = client_for(manager)

    part = client.post(step_url("receive", sent), {f"line_{first.product_id}": 2, f"line_{second.product_id}": 0})

    assert part.status_code == 302
    sent.refresh_from_db()
    assert sent.status == "partially_received"
    assert (stock(first, "north"), stock(second, "north")) == ((2, 3), (0, 3))
    page = client.get(part["Location"]).content.decode()
    assert f"Transfer {sent.pk}: 2 units received in north; it is now Partially received." in page
    # The next receipt offers only what is still in transit.
    html = client.get(step_url("receive", sent)).content.decode()
    assert re.search(rf'name="line_{first.product_id}" value="3"', html)

    rest = client.post(step_url("receive", sent), {f"line_{first.product_id}": 3, f"line_{second.product_id}": 3})

    assert rest.status_code == 302
    sent.refresh_from_db()
    assert sent.status == "received"
    assert (stock(first, "north"), stock(second, "north")) == ((5, 0), (3, 0))
    assert [entry.action_flag for entry in LogEntry.objects.all()] == [CHANGE, CHANGE]


@pytest.mark.parametrize(
    ("quantities", "field", "message"),
    [
        ((0, 0), "__all__", "Give a quantity received for at least one line."),
        ((6, 0), "first", "Ensure this value is less than or equal to 5."),
        ((-1, 3), "first", "Ensure this value is greater than or equal to 0."),
        (("x", 3), "first", "Enter a whole number."),
        (("", 3), "first", "This field is required."),
    ],
)
def test_receiving_refuses_what_the_form_can_tell(client_for, manager, goods, sent, quantities, field, message):
    first, second = goods
    field = f"line_{first.product_id}" if field == "first" else field
    data = {f"line_{first.product_id}": quantities[0], f"line_{second.product_id}": quantities[1]}
    response = client_for(manager).post(step_url("receive", sent), data)
    assert response.status_code == 200
    assert message in response.context["form"].errors[field]
    assert (stock(first, "north"), stock(second, "north")) == ((0, 5), (0, 3))
    sent.refresh_from_db()
    assert sent.status == "in_transit"


def test_a_receipt_the_service_refuses_is_shown_on_its_line(goods, sent):
    """Someone else received meanwhile: the form the person filled in asks for more than is left."""
    first, second = goods
    form = ReceiveForm({f"line_{first.product_id}": 5, f"line_{second.product_id}": 0}, transfer=sent)
    assert form.is_valid()
    services.receive_transfer(
        transfer_id=sent.pk, lines=[services.TransferLineInput(first.product_id, 4)], actor="someone-else"
    )

    assert form.submit(actor="manager") is None

    assert form.errors[f"line_{first.product_id}"] == ["Only 1 of this product are still in transit."]
    assert stock(first, "north") == (4, 1)


def test_a_step_on_a_transfer_closed_meanwhile_is_refused(goods, sent):
    first, second = goods
    receipt = ReceiveForm({f"line_{first.product_id}": 1, f"line_{second.product_id}": 0}, transfer=sent)
    cancel = CancelForm({}, transfer=sent)
    assert receipt.is_valid()
    assert cancel.is_valid()
    services.cancel_transfer(transfer_id=sent.pk, actor="someone-else")

    assert receipt.submit(actor="manager") is None
    assert cancel.submit(actor="manager") is None

    refusal = f"Transfer {sent.pk} is Cancelled: it can no longer be received or cancelled."
    assert receipt.non_field_errors() == [refusal]
    assert cancel.non_field_errors() == [refusal]
    assert stock(first, "default") == (20, 0)


# --- Cancelling ---------------------------------------------------------------------------


def test_cancelling_asks_first_then_returns_what_is_in_transit(client_for, manager, goods, sent):
    first, second = goods
    services.receive_transfer(
        transfer_id=sent.pk, lines=[services.TransferLineInput(first.product_id, 2)], actor="receiver"
    )
    client = client_for(manager)

    asked = client.get(step_url("cancel", sent))

    assert asked.status_code == 200
    assert "Cancel this transfer?" in asked.content.decode()
    assert 'value="Yes, cancel the transfer"' in asked.content.decode()
    assert Transfer.objects.get(pk=sent.pk).status == "partially_received"

    done = client.post(step_url("cancel", sent), follow=True)

    assert f"Transfer {sent.pk} cancelled: 6 units are back in default." in done.content.decode()
    assert Transfer.objects.get(pk=sent.pk).status == "cancelled"
    assert (stock(first, "default"), stock(first, "north")) == ((18, 0), (2, 0))
    assert (stock(second, "default"), stock(second, "north")) == ((8, 0), (0, 0))
    assert LogEntry.objects.get().get_change_message() == f"Transfer {sent.pk} cancelled: 6 units are back in default."


def test_steps_of_an_unknown_transfer_redirect(client_for, manager, db):
    for name in ("receive", "cancel"):
        response = client_for(manager).get(reverse(f"admin:inventory_transfer_{name}", args=[999_999]))
        assert response.status_code == 302


# --- Who may --------------------------------------------------------------------------------


def person_with(username: str, *codenames: str) -> User:
    user = User.objects.create_user(username, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames, content_type__app_label="inventory"))
    return user


def test_a_clerk_sees_transfers_but_neither_sends_receives_nor_cancels(client_for, staff, goods, sent):
    first, _ = goods
    client = client_for(staff)
    assert client.get(TRANSFERS).status_code == 200
    assert ADD not in client.get(TRANSFERS).content.decode()
    assert step_url("receive", sent) not in client.get(transfer_url(sent)).content.decode()
    assert client.get(ADD).status_code == 403
    assert client.post(ADD, add_data(goods)).status_code == 403
    for name in ("receive", "cancel"):
        assert client.get(step_url(name, sent)).status_code == 403
        assert client.post(step_url(name, sent), {f"line_{first.product_id}": 5}).status_code == 403
    assert Transfer.objects.count() == 1
    assert Transfer.objects.get().status == "in_transit"
    assert stock(first, "north") == (0, 5)


def test_each_permission_opens_its_own_pages(client_for, goods, sent):
    client = client_for(person_with("sender", "view_transfer", "add_transfer"))
    assert ADD in client.get(TRANSFERS).content.decode()
    assert client.post(ADD, add_data(goods)).status_code == 302
    assert client.get(step_url("receive", sent)).status_code == 403

    client = client_for(person_with("receiver", "view_transfer", "receive_transfer"))
    assert client.get(ADD).status_code == 403
    assert f'href="{step_url("cancel", sent)}"' in client.get(transfer_url(sent)).content.decode()
    assert client.post(step_url("cancel", sent)).status_code == 302
    assert Transfer.objects.get(pk=sent.pk).status == "cancelled"


def test_without_view_transfer_there_is_no_screen(client_for, viewer, sent):
    client = client_for(viewer)
    assert client.get(TRANSFERS).status_code == 403
    assert client.get(transfer_url(sent)).status_code == 403


def test_the_migration_gives_the_groups_the_warehouse_permissions(db, create_warehouse_groups):
    Group.objects.all().delete()
    create_warehouse_groups()
    perms = {group.name: set(group.permissions.values_list("codename", flat=True)) for group in Group.objects.all()}
    seeing = {"view_warehouse", "view_pool", "view_transfer", "view_stocklevel"}
    managing = {"add_transfer", "receive_transfer", "add_warehouse", "change_warehouse", "add_pool", "change_pool"}
    assert seeing <= perms["Warehouse staff"]
    assert not (managing & perms["Warehouse staff"])
    assert seeing | managing <= perms["Warehouse managers"]
    assert not any(codename.startswith("delete_") for codenames in perms.values() for codename in codenames)


def test_a_manager_may_send_receive_and_cancel(client_for, manager, goods):
    client = client_for(manager)
    assert client.post(ADD, add_data(goods)).status_code == 302
    shipment = Transfer.objects.get()
    assert client.post(step_url("cancel", shipment)).status_code == 302
    assert [stock(product, "default") for product in goods] == [(20, 0), (8, 0)]


# --- In Chinese -----------------------------------------------------------------------------


def test_no_english_is_left_on_the_transfer_screens_in_chinese(client, chinese_warehouse, warehouse):
    warehouse("north")
    shipment = services.create_transfer(
        source="default", destination="north", lines=[services.TransferLineInput(710_001, 4)], actor="张经理"
    )
    services.receive_transfer(transfer_id=shipment.pk, lines=[services.TransferLineInput(710_001, 1)], actor="张经理")
    client.force_login(chinese_warehouse)
    screens = {
        "list": (TRANSFERS, None),
        "transfer": (transfer_url(shipment), None),
        "send": (ADD, None),
        "send, refused": (ADD, {"source": "default", "destination": "default", "lines": "710001,99999999\nx"}),
        "send, short": (ADD, {"source": "default", "destination": "north", "lines": "710001,99999999"}),
        "receive": (step_url("receive", shipment), None),
        "receive, refused": (step_url("receive", shipment), {"line_710001": 9}),
        "cancel": (step_url("cancel", shipment), None),
        "log by warehouse": (reverse("admin:inventory_inventorylog_changelist") + "?warehouse__id__exact=1", None),
        "dashboard of a warehouse": (reverse("admin:inventory_dashboard") + "?warehouse=north", None),
    }
    left = {}
    for name, (url, body) in screens.items():
        response = client.post(url, body, **CHINESE) if body else client.get(url, **CHINESE)
        assert response.status_code == 200, name
        # Data: a warehouse's code; on the log, the reference the service gives a transfer's entries ("transfer:7").
        data = {"north", "transfer"} if name.startswith("log") else {"north"}
        if words := english_words(response.content.decode()) - data:
            left[name] = sorted(words)
    assert left == {}, repr(left)


# --- Hostile input: never a 5xx ---------------------------------------------------------------


def test_every_parameter_and_field_of_the_transfer_pages_with_each_tricky_value(client_for, superuser, goods, sent):
    first, second = goods
    client = client_for(superuser)
    values = [*(quote(text, safe="") for text in TRICKY), *RAW_ESCAPES]
    parameters = {
        TRANSFERS: ["q", "o", "p", "status__exact", "source__id__exact", "destination__id__exact", "_to_field"],
        transfer_url(sent): ["_to_field", "_changelist_filters"],
        step_url("receive", sent): ["_to_field"],
    }
    for url, names in parameters.items():
        for name in names:
            for value in values:
                assert client.get(f"{url}?{name}={value}").status_code < 500, (url, name, value)
    for text in TRICKY:
        for field in ("source", "destination", "reference", "lines"):
            assert client.post(ADD, {**add_data(goods), field: text}).status_code < 500, (field, text)
        receipt = {f"line_{first.product_id}": text, f"line_{second.product_id}": 1}
        assert client.post(step_url("receive", sent), receipt).status_code < 500, text
        for page in ("change", "receive", "cancel", "history"):
            assert client.get(f"/admin/inventory/transfer/{quote(text, safe='')}/{page}/").status_code < 500
    assert Transfer.objects.get(pk=sent.pk).status in ("in_transit", "partially_received")
