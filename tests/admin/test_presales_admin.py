"""The pre-sale screens through the real admin: the list and a pre-sale's page (its backorders),
creating, changing the limit and window, ending; the backorders' list and page (their batches)
and cancelling one; who may, hostile input (never a 5xx), and Chinese."""

from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import Permission, User
from django.urls import reverse
from django.utils import timezone

from inventory import services
from inventory.admin.presales import SHOWN_BACKORDERS, PreSaleChangeForm
from inventory.models import Backorder, PreSale
from inventory.services import PurchaseOrderLineInput, ReservationLine
from tests.admin.test_admin_fuzz import RAW_ESCAPES, TRICKY
from tests.admin.test_translations import CHINESE, english_words

PRESALES = reverse("admin:inventory_presale_changelist")
ADD = reverse("admin:inventory_presale_add")
BACKORDERS = reverse("admin:inventory_backorder_changelist")
DUE = date(2030, 1, 1)


def presale_url(presale: PreSale) -> str:
    return reverse("admin:inventory_presale_change", args=[presale.pk])


def step_url(name: str, presale: PreSale) -> str:
    return reverse(f"admin:inventory_presale_{name}", args=[presale.pk])


def backorder_url(backorder: Backorder) -> str:
    return reverse("admin:inventory_backorder_change", args=[backorder.pk])


def cancel_url(backorder: Backorder) -> str:
    return reverse("admin:inventory_backorder_cancel", args=[backorder.pk])


def shown(moment: datetime) -> str:
    """A moment as the form's field writes it."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M:%S")


def ahead(order_id: str, product_id: int, quantity: int) -> Backorder:
    """A reserve of a line that may backorder, on an empty shelf: its backorder."""
    [backorder] = services.reserve_stock(
        order_id=order_id, lines=[ReservationLine(product_id, quantity, backorder=True)], actor="shop"
    ).backorders
    return backorder


@pytest.fixture(autouse=True)
def groups(warehouse_groups):
    """Both groups with every migration's grants (the pre-sale ones included)."""


@pytest.fixture
def goods(item):
    """Two products with nothing on the shelf in `default`."""
    return item(0), item(0)


@pytest.fixture
def order(goods):
    """An open purchase order bringing 100 of the first product to `default`."""
    return services.create_purchase_order(
        supplier="Acme",
        warehouse="default",
        lines=[PurchaseOrderLineInput(goods[0].product_id, 100, DUE)],
        actor="setup",
    )


@pytest.fixture
def launch(goods, order):
    """An active pre-sale of up to 10 units of the first product, against the order, open for a day."""
    now = timezone.now()
    return services.create_presale(
        code="launch",
        product_id=goods[0].product_id,
        limit=10,
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(days=1),
        purchase_order_id=order.pk,
        actor="setup",
    )


def add_data(goods, **changes) -> dict:
    now = timezone.now()
    data = {
        "code": "autumn",
        "product_id": goods[0].product_id,
        "warehouse": "default",
        "limit": "50",
        "starts_at": shown(now - timedelta(minutes=5)),
        "ends_at": shown(now + timedelta(days=2)),
        "purchase_order_id": "",
        **changes,
    }
    return data


def terms_data(presale: PreSale, **changes) -> dict:
    return {
        "limit": str(presale.limit),
        "starts_at": shown(presale.starts_at),
        "ends_at": shown(presale.ends_at),
        **changes,
    }


# --- Creating ------------------------------------------------------------------------------------


def test_creating_a_pre_sale_against_a_purchase_order(client_for, manager, goods, order):
    first, _ = goods
    client = client_for(manager)
    form = client.get(ADD).context["form"]
    assert (form["warehouse"].value(), form["starts_at"].value() is not None) == ("default", True)
    assert "Date and time in UTC." in str(form["ends_at"].help_text)

    response = client.post(ADD, add_data(goods, purchase_order_id=str(order.pk)))

    assert response.status_code == 302, response.context["form"].errors
    presale = PreSale.objects.get()
    assert response["Location"] == presale_url(presale)
    assert (presale.code, presale.product_id, presale.warehouse.code, presale.limit, presale.sold) == (
        "autumn",
        first.product_id,
        "default",
        50,
        0,
    )
    assert (presale.purchase_order_id, presale.status, presale.actor) == (order.pk, "active", "manager")
    entry = LogEntry.objects.get()
    assert (entry.action_flag, entry.object_id, entry.user) == (ADDITION, str(presale.pk), manager)
    page = client.get(response["Location"]).content.decode()
    assert (
        f"Pre-sale autumn created: up to 50 units of product {first.product_id} may be sold ahead in default." in page
    )
    assert f'href="{reverse("admin:inventory_purchaseorder_change", args=[order.pk])}"' in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"code": ""}, "code", "This field is required."),
        ({"code": "Bad Code"}, "code", "1 to 32 characters of a-z, 0-9 and -"),
        ({"code": "c" * 33}, "code", "at most 32 characters"),
        ({"product_id": "x"}, "product_id", "Enter a whole number."),
        ({"warehouse": "nowhere"}, "warehouse", "Select a valid choice."),
        ({"limit": "0"}, "limit", "greater than or equal to 1"),
        ({"limit": "1000000001"}, "limit", "less than or equal to 1000000000"),
        ({"starts_at": "0001-01-01T00:00:00+08:00"}, "starts_at", "out of range"),
        ({"ends_at": shown(timezone.now() - timedelta(days=3))}, "ends_at", "A pre-sale ends after it starts."),
        (
            {
                "starts_at": shown(timezone.now() - timedelta(days=3)),
                "ends_at": shown(timezone.now() - timedelta(days=2)),
            },
            "ends_at",
            "A pre-sale ends in the future.",
        ),
        ({"purchase_order_id": "0"}, "purchase_order_id", "greater than or equal to 1"),
    ],
)
def test_creating_refuses_what_the_form_can_tell(client_for, manager, goods, changes, field, message):
    response = client_for(manager).post(ADD, add_data(goods, **changes))
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field]), response.context["form"].errors
    assert not PreSale.objects.exists()


def test_the_services_refusals_are_form_errors(client_for, manager, goods, order, launch):
    _, second = goods
    client = client_for(manager)

    def errors(**changes):
        response = client.post(ADD, add_data(goods, **changes))
        assert response.status_code == 200
        return response.context["form"].errors

    assert errors(code="launch") == {"code": ["launch exists already."]}
    assert errors(product_id="999999999") == {"product_id": ["No inventory record for product 999999999."]}
    assert errors(purchase_order_id="999999") == {"purchase_order_id": ["No purchase order 999999."]}
    assert errors(product_id=str(second.product_id), purchase_order_id=str(order.pk)) == {
        "purchase_order_id": [f"Purchase order {order.pk} does not bring product {second.product_id} to default."]
    }
    assert list(PreSale.objects.values_list("code", flat=True)) == ["launch"]
    assert not LogEntry.objects.exists()


# --- The list and a pre-sale's page ----------------------------------------------------------------


def test_the_list_shows_the_figures_filters_and_searches(client_for, staff, goods, launch, warehouse):
    first, second = goods
    ahead("A-1", first.product_id, 4)
    services.restock(product_id=first.product_id, quantity=1, actor="setup")
    warehouse("north")
    now = timezone.now()
    other = services.create_presale(
        code="north-p",
        product_id=second.product_id,
        warehouse="north",
        limit=3,
        starts_at=now,
        ends_at=now + timedelta(hours=1),
        actor="setup",
    )
    services.end_presale(code="north-p", actor="setup")
    client = client_for(staff)

    def listed(**query) -> list[str]:
        return [row.code for row in client.get(PRESALES, query).context["cl"].result_list]

    assert listed() == ["north-p", "launch"]
    assert listed(status__exact="active") == ["launch"]
    assert listed(status__exact="ended") == ["north-p"]
    assert listed(warehouse__id__exact=other.warehouse_id) == ["north-p"]
    assert listed(q="lau") == ["launch"]
    assert listed(q="LAUNCH") == ["launch"]
    assert listed(q=str(second.product_id)) == ["north-p"]
    assert listed(q="nothing here") == []
    html = client.get(PRESALES, {"q": "launch"}).content.decode()
    for name, value in (("limit", 10), ("sold", 4), ("filled", 1), ("outstanding", 3)):
        assert f'<td class="field-{name}_column"><span class="num">{value}</span></td>' in html
    assert ADD not in html  # staff see, managers create


def test_a_pre_sales_page_lists_its_backorders_oldest_first(client_for, manager, goods, launch):
    first, _ = goods
    older, newer = ahead("A-1", first.product_id, 4), ahead("A-2", first.product_id, 2)
    services.restock(product_id=first.product_id, quantity=5, actor="setup")

    response = client_for(manager).get(presale_url(launch))

    html = response.content.decode()
    assert response.status_code == 200
    assert [(b.order_id, b.quantity, b.filled, b.status) for b in response.context["backorders"]] == [
        ("A-1", 4, 4, "filled"),
        ("A-2", 2, 1, "open"),
    ]
    assert f'href="{backorder_url(older)}">A-1</a>' in html
    assert f'href="{backorder_url(newer)}">A-2</a>' in html
    assert f'href="{step_url("terms", launch)}"' in html
    assert f'href="{step_url("end", launch)}"' in html
    assert 'name="_save"' not in html


def test_a_pre_sales_page_shows_at_most_its_first_backorders(client_for, manager, goods, launch, monkeypatch):
    first, _ = goods
    monkeypatch.setattr("inventory.admin.presales.SHOWN_BACKORDERS", 2)
    for number in range(3):
        ahead(f"A-{number}", first.product_id, 1)

    response = client_for(manager).get(presale_url(launch))

    assert [b.order_id for b in response.context["backorders"]] == ["A-0", "A-1"]
    assert "The first 2 of 3 backorders" in response.content.decode()
    assert SHOWN_BACKORDERS == 500


def test_a_pre_sale_is_never_edited_or_deleted_directly(client_for, superuser, launch):
    client = client_for(superuser)
    assert client.post(presale_url(launch), {"limit": "1", "status": "ended"}).status_code == 403
    delete = reverse("admin:inventory_presale_delete", args=[launch.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    launch.refresh_from_db()
    assert (launch.limit, launch.status) == (10, "active")


# --- Changing and ending ---------------------------------------------------------------------------


def test_changing_the_limit_and_the_end(client_for, manager, launch):
    client = client_for(manager)
    assert client.get(step_url("terms", launch)).context["form"]["limit"].value() == 10
    ends = launch.ends_at + timedelta(days=1)

    response = client.post(step_url("terms", launch), terms_data(launch, limit="25", ends_at=shown(ends)))

    assert response.status_code == 302, response.context["form"].errors
    launch.refresh_from_db()
    assert (launch.limit, launch.ends_at) == (25, ends.replace(microsecond=0))
    page = client.get(response["Location"]).content.decode()
    assert "Pre-sale launch changed: 0 of 25 units sold." in page
    assert LogEntry.objects.get().action_flag == CHANGE


def test_a_form_posted_back_as_shown_changes_nothing(client_for, manager, launch):
    before = PreSale.objects.get(pk=launch.pk).updated_at

    response = client_for(manager).post(step_url("terms", launch), terms_data(launch), follow=True)

    assert "Pre-sale launch: nothing was changed." in response.content.decode()
    assert PreSale.objects.get(pk=launch.pk).updated_at == before


def test_changing_refuses_a_limit_below_sold_and_an_end_before_the_start(client_for, manager, goods, launch):
    ahead("A-1", goods[0].product_id, 6)
    client = client_for(manager)

    fewer = client.post(step_url("terms", launch), terms_data(launch, limit="5"))
    early = client.post(step_url("terms", launch), terms_data(launch, ends_at=shown(launch.starts_at)))

    assert fewer.context["form"].errors == {"limit": ["Ensure this value is greater than or equal to 6."]}
    assert "6 sold already." in fewer.content.decode()
    assert early.context["form"].errors == {"ends_at": ["A pre-sale ends after it starts."]}
    launch.refresh_from_db()
    assert (launch.limit, launch.sold) == (10, 6)


def test_ending_keeps_the_backorders_open(client_for, manager, goods, launch):
    ahead("A-1", goods[0].product_id, 4)
    client = client_for(manager)
    assert "End this pre-sale now?" in client.get(step_url("end", launch)).content.decode()

    done = client.post(step_url("end", launch), follow=True)

    assert "Pre-sale launch ended: 4 units were sold ahead, 4 still to fill." in done.content.decode()
    launch.refresh_from_db()
    assert launch.status == "ended"
    assert Backorder.objects.get().status == "open"
    html = client.get(presale_url(launch)).content.decode()
    assert step_url("end", launch) not in html
    for name in ("terms", "end"):
        again = client.post(step_url(name, launch), terms_data(launch), follow=True)
        assert "Pre-sale launch has ended: it can no longer be changed." in again.content.decode()


def test_a_step_on_a_pre_sale_ended_meanwhile_is_refused_on_the_form(launch):
    change = PreSaleChangeForm(terms_data(launch, limit="20"), presale=launch)
    assert change.is_valid(), change.errors
    services.end_presale(code="launch", actor="someone-else")

    assert change.submit(actor="manager") is None

    assert change.non_field_errors() == ["Pre-sale launch has ended."]


def test_steps_of_an_unknown_pre_sale_or_backorder_redirect(client_for, manager):
    client = client_for(manager)
    for name in ("terms", "end"):
        assert client.get(reverse(f"admin:inventory_presale_{name}", args=[999_999])).status_code == 302
    assert client.get(reverse("admin:inventory_backorder_cancel", args=[999_999])).status_code == 302


# --- Backorders ------------------------------------------------------------------------------------


def test_the_backorder_list_filters_and_searches(client_for, staff, goods, launch):
    first, _ = goods
    one, two = ahead("A-1", first.product_id, 4), ahead("B-2", first.product_id, 2)
    services.cancel_backorders(order_id="B-2", actor="shop")
    client = client_for(staff)

    def listed(**query) -> list[str]:
        return [row.order_id for row in client.get(BACKORDERS, query).context["cl"].result_list]

    assert listed() == ["B-2", "A-1"]
    assert listed(status__exact="open") == ["A-1"]
    assert listed(status__exact="cancelled") == ["B-2"]
    assert listed(q="A-1") == ["A-1"]
    assert listed(q="a-1") == []  # order ids are case-sensitive
    assert listed(q=str(first.product_id)) == ["B-2", "A-1"]
    assert listed(q="x" * 200) == []
    html = client.get(BACKORDERS).content.decode()
    assert f'href="{presale_url(launch)}">launch</a>' in html
    assert f'href="{backorder_url(one)}"' in html
    assert f'href="{backorder_url(two)}"' in html
    assert reverse("admin:inventory_backorder_add") not in html


def test_a_backorders_page_shows_its_batches(client_for, manager, goods, launch, order):
    first, _ = goods
    backorder = ahead("A-1", first.product_id, 5)
    services.receive_purchase_order(
        purchase_order_id=order.pk,
        lines=[services.ReceiptLineInput(first.product_id, 2)],
        reference="DN-881",
        actor="setup",
    )
    services.restock(product_id=first.product_id, quantity=1, reference="DN-882", actor="setup")

    response = client_for(manager).get(backorder_url(backorder))

    html = response.content.decode()
    assert response.status_code == 200
    assert [(b.quantity, b.reference) for b in response.context["batches"]] == [(2, f"po:{order.pk}"), (1, "DN-882")]
    assert html.count('class="batch"') == 2
    assert f"receipt {order.receipts.get().pk}: DN-881" in html
    assert f'href="{cancel_url(backorder)}"' in html


def test_cancelling_a_backorder(client_for, manager, goods, launch):
    first, _ = goods
    backorder = ahead("A-1", first.product_id, 5)
    services.restock(product_id=first.product_id, quantity=2, actor="setup")
    client = client_for(manager)
    page = client.get(cancel_url(backorder)).content.decode()
    assert "Cancel what order A-1 still waits for" in page
    assert 'id="cancelled-backorders"' in page

    done = client.post(cancel_url(backorder), follow=True)

    assert (
        f"Order A-1, product {first.product_id}: 3 units backordered will not come; 2 shipped stay shipped."
        in done.content.decode()
    )
    backorder.refresh_from_db()
    launch.refresh_from_db()
    assert (backorder.status, backorder.filled, launch.sold) == ("cancelled", 2, 2)
    assert LogEntry.objects.get().action_flag == CHANGE
    assert cancel_url(backorder) not in client.get(backorder_url(backorder)).content.decode()
    again = client.post(cancel_url(backorder), follow=True)
    assert "The backorder of order A-1 is Cancelled: there is nothing to cancel." in again.content.decode()


# --- Who may ---------------------------------------------------------------------------------------


def person_with(username: str, *codenames: str) -> User:
    user = User.objects.create_user(username, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames, content_type__app_label="inventory"))
    return user


def test_a_clerk_sees_pre_sales_and_backorders_but_changes_none(client_for, staff, goods, launch):
    backorder = ahead("A-1", goods[0].product_id, 4)
    client = client_for(staff)
    for url in (PRESALES, presale_url(launch), BACKORDERS, backorder_url(backorder)):
        assert client.get(url).status_code == 200, url
    assert step_url("end", launch) not in client.get(presale_url(launch)).content.decode()
    assert cancel_url(backorder) not in client.get(backorder_url(backorder)).content.decode()
    assert client.get(ADD).status_code == 403
    assert client.post(ADD, add_data(goods)).status_code == 403
    for name in ("terms", "end"):
        assert client.post(step_url(name, launch), terms_data(launch, limit="20")).status_code == 403
    assert client.post(cancel_url(backorder)).status_code == 403
    launch.refresh_from_db()
    backorder.refresh_from_db()
    assert (launch.limit, launch.status, backorder.status) == (10, "active", "open")


def test_manage_presale_opens_the_writing_pages(client_for, goods, launch):
    backorder = ahead("A-1", goods[0].product_id, 4)
    client = client_for(person_with("lead", "view_presale", "manage_presale"))
    assert client.post(ADD, add_data(goods)).status_code == 302
    assert client.post(cancel_url(backorder)).status_code == 302
    assert client.post(step_url("end", launch)).status_code == 302
    # Django's own permissions of the models open nothing.
    client = client_for(person_with("other", "view_presale", "add_presale", "change_presale", "change_backorder"))
    assert client.get(ADD).status_code == 403
    assert client.get(step_url("terms", launch)).status_code == 403


def test_without_view_presale_there_is_no_screen(client_for, viewer, goods, launch):
    backorder = ahead("A-1", goods[0].product_id, 4)
    client = client_for(viewer)
    for url in (PRESALES, presale_url(launch), BACKORDERS, backorder_url(backorder)):
        assert client.get(url).status_code == 403, url
    # Django's view_backorder alone is not enough either: backorders are the pre-sales' lines.
    client = client_for(person_with("peeker", "view_backorder"))
    assert client.get(BACKORDERS).status_code == 403


def test_anyone_signed_out_is_sent_to_the_login(client, goods, launch):
    backorder = ahead("A-1", goods[0].product_id, 4)
    for url in (PRESALES, ADD, presale_url(launch), step_url("end", launch), BACKORDERS, cancel_url(backorder)):
        response = client.post(url) if url.endswith("/end/") else client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url
    assert PreSale.objects.get().status == "active"


# --- Hostile input: never a 5xx --------------------------------------------------------------------


def test_every_parameter_and_field_with_each_tricky_value(client_for, superuser, goods, launch):
    backorder = ahead("A-1", goods[0].product_id, 4)
    client = client_for(superuser)
    values = [*(quote(text, safe="") for text in TRICKY), *RAW_ESCAPES]
    parameters = {
        PRESALES: ["q", "o", "status__exact", "warehouse__id__exact", "_to_field"],
        BACKORDERS: ["q", "o", "status__exact", "warehouse__id__exact"],
        presale_url(launch): ["_to_field", "_changelist_filters"],
        backorder_url(backorder): ["_to_field"],
    }
    for url, names in parameters.items():
        for name in names:
            for value in values:
                assert client.get(f"{url}?{name}={value}").status_code < 500, (url, name, value)
    for text in TRICKY:
        for field in add_data(goods):
            assert client.post(ADD, {**add_data(goods, code="x"), field: text}).status_code < 500, (field, text)
        for field in terms_data(launch):
            assert client.post(step_url("terms", launch), {**terms_data(launch), field: text}).status_code < 500
        for page in ("change", "terms", "end", "history"):
            assert client.get(f"/admin/inventory/presale/{quote(text, safe='')}/{page}/").status_code < 500
        assert client.get(f"/admin/inventory/backorder/{quote(text, safe='')}/cancel/").status_code < 500


# --- In Chinese ------------------------------------------------------------------------------------


def test_no_english_is_left_on_the_pre_sale_screens_in_chinese(client, chinese_warehouse):
    now = datetime.now(UTC)
    order = services.create_purchase_order(
        supplier="供应商", warehouse="default", lines=[PurchaseOrderLineInput(710_002, 100, DUE)], actor="张经理"
    )
    started = services.create_presale(
        code="p-1",
        product_id=710_002,
        limit=10,
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(days=1),
        purchase_order_id=order.pk,
        actor="张经理",
    )
    backorder = ahead("8003", 710_002, 3)
    services.restock(product_id=710_002, quantity=1, actor="张经理", reason="到货", reference="2042")
    client.force_login(chinese_warehouse)
    screens = {
        "list": (PRESALES, None),
        "pre-sale": (presale_url(started), None),
        "create": (ADD, None),
        "create, refused": (ADD, {"code": "P", "product_id": "x", "warehouse": "default", "limit": "0"}),
        "create, refused by the service": (
            ADD,
            {
                "code": "p-2",
                "product_id": "710001",
                "warehouse": "default",
                "limit": "5",
                "starts_at": shown(now),
                "ends_at": shown(now + timedelta(hours=1)),
                "purchase_order_id": str(order.pk),
            },
        ),
        "change": (step_url("terms", started), None),
        "change, refused": (step_url("terms", started), {"limit": "1", "ends_at": "x"}),
        "end": (step_url("end", started), None),
        "backorders": (BACKORDERS, None),
        "backorder": (backorder_url(backorder), None),
        "cancel": (cancel_url(backorder), None),
    }
    left = {}
    for name, (url, body) in screens.items():
        response = client.post(url, body, **CHINESE) if body else client.get(url, **CHINESE)
        assert response.status_code == 200, name
        if words := english_words(response.content.decode()):
            left[name] = sorted(words)
    assert left == {}, repr(left)
