"""The quotas screen through the real admin: the list and a quota's page (its log entries), creating,
changing the units and terms, ending, who may, and hostile input (never a 5xx)."""

import importlib
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.urls import reverse
from django.utils import timezone

from inventory import services
from inventory.admin.quotas import QuotaChangeForm, QuotaEndForm
from inventory.models import InventoryLog, Quota, StockLevel
from inventory.services import ReservationLine
from tests.admin.test_admin_fuzz import RAW_ESCAPES, TRICKY
from tests.admin.test_translations import CHINESE, english_words

QUOTAS = reverse("admin:inventory_quota_changelist")
ADD = reverse("admin:inventory_quota_add")
QUOTAS_MIGRATION = "0015_quotas"


def quota_url(quota: Quota) -> str:
    return reverse("admin:inventory_quota_change", args=[quota.pk])


def step_url(name: str, quota: Quota) -> str:
    return reverse(f"admin:inventory_quota_{name}", args=[quota.pk])


def shown(moment: datetime) -> str:
    """A moment as the form's field writes it."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M:%S")


def allotted(product) -> int:
    return StockLevel.objects.get(product_id=product.product_id, warehouse__code="default").allotted_stock


@pytest.fixture(scope="session")
def grant_quotas(django_db_setup, django_db_blocker):
    """The quota migration's own grant, run on the models as they were at it."""
    with django_db_blocker.unblock():
        apps = MigrationLoader(connection).project_state(("inventory", QUOTAS_MIGRATION)).apps
    migration = importlib.import_module(f"inventory.migrations.{QUOTAS_MIGRATION}")
    return lambda: migration.grant(apps, None)


@pytest.fixture(autouse=True)
def quota_groups(warehouse_groups, grant_quotas):
    grant_quotas()


@pytest.fixture
def goods(item):
    """Two products in `default`: 20 and 8 units."""
    return item(20), item(8)


@pytest.fixture
def spring(goods):
    """An active quota of 5 units of the first product, for the tier gold, open for a day."""
    now = timezone.now()
    return services.create_quota(
        code="spring",
        product_id=goods[0].product_id,
        quantity=5,
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(days=1),
        tier="gold",
        actor="setup",
    )


def add_data(goods, **changes) -> dict:
    now = timezone.now()
    return {
        "code": "summer",
        "product_id": goods[0].product_id,
        "warehouse": "default",
        "quantity": "6",
        "starts_at": shown(now - timedelta(minutes=5)),
        "ends_at": shown(now + timedelta(days=2)),
        "tier": "",
        "priority": "100",
        "overflow": "on",
        "name": "Summer sale",
        "reason": "",
        **changes,
    }


def terms_data(quota: Quota, **changes) -> dict:
    data = {
        "quantity": str(quota.quantity),
        "starts_at": shown(quota.starts_at),
        "ends_at": shown(quota.ends_at),
        "tier": quota.tier,
        "priority": str(quota.priority),
        "name": quota.name,
        "reason": "",
        **changes,
    }
    if quota.overflow:
        data.setdefault("overflow", "on")
    return {name: value for name, value in data.items() if value is not None}


# --- Creating ------------------------------------------------------------------------------------


def test_creating_a_quota(client_for, manager, goods):
    first, _ = goods
    client = client_for(manager)
    assert client.get(ADD).status_code == 200

    response = client.post(ADD, add_data(goods, tier="gold", priority="7"))

    quota = Quota.objects.get()
    assert response.status_code == 302, response.context["form"].errors
    assert response["Location"] == quota_url(quota)
    assert (quota.code, quota.product_id, quota.warehouse.code, quota.quantity, quota.allotted) == (
        "summer",
        first.product_id,
        "default",
        6,
        6,
    )
    assert (quota.tier, quota.priority, quota.overflow, quota.name, quota.actor) == (
        "gold",
        7,
        True,
        "Summer sale",
        "manager",
    )
    assert allotted(first) == 6
    entry = LogEntry.objects.get()
    assert (entry.action_flag, entry.object_id, entry.user) == (ADDITION, str(quota.pk), manager)
    page = client.get(response["Location"]).content.decode()
    assert f"Quota summer created: 6 units of product {first.product_id} set aside in default." in page


def test_the_add_form_offers_the_defaults(client_for, manager, goods):
    form = client_for(manager).get(ADD).context["form"]
    assert (form["warehouse"].value(), form["priority"].value(), form["overflow"].value()) == ("default", 100, True)
    assert form["starts_at"].value() is not None


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"code": ""}, "code", "This field is required."),
        ({"code": "Bad Code"}, "code", "1 to 32 characters of a-z, 0-9 and -"),
        ({"code": "c" * 33}, "code", "at most 32 characters"),
        ({"product_id": "x"}, "product_id", "Enter a whole number."),
        ({"product_id": "0"}, "product_id", "greater than or equal to 1"),
        ({"warehouse": "nowhere"}, "warehouse", "Select a valid choice."),
        ({"warehouse": "a\x00"}, "warehouse", "Select a valid choice."),
        ({"quantity": "0"}, "quantity", "greater than or equal to 1"),
        ({"quantity": "1000000001"}, "quantity", "less than or equal to 1000000000"),
        ({"starts_at": ""}, "starts_at", "This field is required."),
        ({"starts_at": "2026-13-45T00:00:00"}, "starts_at", "Enter a valid date/time."),
        ({"starts_at": "0001-01-01T00:00:00+08:00"}, "starts_at", "out of range"),
        ({"ends_at": shown(timezone.now() - timedelta(days=3))}, "ends_at", "A quota ends after it starts."),
        (
            {
                "starts_at": shown(timezone.now() - timedelta(days=3)),
                "ends_at": shown(timezone.now() - timedelta(days=2)),
            },
            "ends_at",
            "A quota ends in the future.",
        ),
        ({"tier": "Gold"}, "tier", "1 to 32 characters of a-z, 0-9 and -"),
        ({"priority": "-1"}, "priority", "greater than or equal to 0"),
        ({"priority": "1001"}, "priority", "less than or equal to 1000"),
        ({"name": "a\x07b"}, "name", "Control characters are not allowed."),
        ({"name": "n" * 201}, "name", "at most 200 characters"),
        ({"reason": "r" * 1001}, "reason", "at most 1000 characters"),
    ],
)
def test_creating_refuses_what_the_form_can_tell(client_for, manager, goods, changes, field, message):
    response = client_for(manager).post(ADD, add_data(goods, **changes))
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field]), response.context["form"].errors
    assert not Quota.objects.exists()


def test_the_services_refusals_are_form_errors(client_for, manager, goods, spring):
    first, second = goods
    client = client_for(manager)

    def errors(**changes):
        response = client.post(ADD, add_data(goods, **changes))
        assert response.status_code == 200
        return response.context["form"].errors

    assert errors(code="spring")["code"] == ["spring exists already."]
    assert errors(product_id="999999999")["product_id"] == ["No inventory record for product 999999999."]
    assert errors(quantity="16")["quantity"] == [
        f"Not enough available stock: product {first.product_id}, 16 asked for, 15 available."
    ]
    assert errors(product_id=str(second.product_id), quantity="9")["quantity"][0].startswith("Not enough available")
    assert list(Quota.objects.values_list("code", flat=True)) == ["spring"]
    assert not LogEntry.objects.exists()


# --- The list and a quota's page ------------------------------------------------------------------


def test_the_list_filters_and_searches(client_for, staff, goods, spring, warehouse):
    _, second = goods
    warehouse("north")
    services.restock(product_id=second.product_id, quantity=4, warehouse="north", actor="setup")
    now = timezone.now()
    other = services.create_quota(
        code="north-q",
        product_id=second.product_id,
        warehouse="north",
        quantity=2,
        starts_at=now,
        ends_at=now + timedelta(hours=1),
        actor="setup",
    )
    services.end_quota(code="north-q", actor="setup")
    client = client_for(staff)

    def listed(**query) -> list[str]:
        return [row.code for row in client.get(QUOTAS, query).context["cl"].result_list]

    assert listed() == ["north-q", "spring"]
    assert listed(status__exact="active") == ["spring"]
    assert listed(status__exact="ended") == ["north-q"]
    assert listed(warehouse__id__exact=other.warehouse_id) == ["north-q"]
    assert listed(tier="gold") == ["spring"]
    assert listed(q="spr") == ["spring"]
    assert listed(q="SPRING") == ["spring"]
    assert listed(q=str(second.product_id)) == ["north-q"]
    assert listed(q="nothing here") == []
    html = client.get(QUOTAS).content.decode()
    assert '<td class="field-allotted_column"><span class="num">5</span></td>' in html


def test_a_quotas_page_shows_its_figures_and_log_entries(client_for, manager, goods, spring):
    first, _ = goods
    services.reserve_stock(order_id="A-1", lines=[ReservationLine(first.product_id, 3, quota="spring")], actor="shop")

    response = client_for(manager).get(quota_url(spring))

    html = response.content.decode()
    assert response.status_code == 200
    assert [(e.operation, e.quantity, e.allotted_change, e.order_id) for e in response.context["entries"]] == [
        ("quota_set", 5, 5, ""),
        ("reserve", 3, -3, "A-1"),
    ]
    assert re.search(r'class="log-entry">.*A-1.*shop', html, re.S)
    assert re.search(r'field-drawn_column.*?<span class="num">3</span>', html, re.S)
    assert re.search(r'field-allotted_column.*?<span class="num">2</span>', html, re.S)
    assert f'href="{step_url("terms", spring)}"' in html
    assert f'href="{step_url("end", spring)}"' in html
    assert 'name="_save"' not in html


def test_a_quota_is_never_edited_or_deleted_directly(client_for, superuser, spring):
    client = client_for(superuser)
    assert client.post(quota_url(spring), {"quantity": "1", "status": "ended"}).status_code == 403
    delete = reverse("admin:inventory_quota_delete", args=[spring.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    spring.refresh_from_db()
    assert (spring.quantity, spring.status) == (5, "active")


# --- Changing and ending ---------------------------------------------------------------------------


def test_changing_the_units_and_terms(client_for, manager, goods, spring):
    first, _ = goods
    client = client_for(manager)
    form = client.get(step_url("terms", spring)).context["form"]
    assert (form["quantity"].value(), form["tier"].value(), form["priority"].value()) == (5, "gold", 100)

    response = client.post(step_url("terms", spring), terms_data(spring, quantity="8", priority="3", reason="more"))

    assert response.status_code == 302, response.context["form"].errors
    spring.refresh_from_db()
    assert (spring.quantity, spring.allotted, spring.priority, spring.tier) == (8, 8, 3, "gold")
    assert allotted(first) == 8
    entry = InventoryLog.objects.filter(quota=spring).latest("id")
    assert (entry.operation, entry.quantity, entry.actor) == ("quota_set", 3, "manager")
    assert entry.reason == "priority 3, quantity 8; more"
    page = client.get(response["Location"]).content.decode()
    assert "Quota spring changed: 8 units set aside, 0 drawn." in page
    assert LogEntry.objects.get().action_flag == CHANGE


def test_a_form_posted_back_as_shown_changes_nothing(client_for, manager, spring):
    entries = InventoryLog.objects.filter(quota=spring).count()

    response = client_for(manager).post(step_url("terms", spring), terms_data(spring), follow=True)

    assert "Quota spring: nothing was changed." in response.content.decode()
    assert InventoryLog.objects.filter(quota=spring).count() == entries


def test_changing_refuses_fewer_units_than_drawn_and_more_than_free(client_for, manager, goods, spring):
    first, _ = goods
    services.reserve_stock(order_id="A-1", lines=[ReservationLine(first.product_id, 3, quota="spring")], actor="shop")
    client = client_for(manager)

    fewer = client.post(step_url("terms", spring), terms_data(spring, quantity="2"))
    more = client.post(step_url("terms", spring), terms_data(spring, quantity="30"))
    early = client.post(step_url("terms", spring), terms_data(spring, ends_at=shown(spring.starts_at)))

    assert "greater than or equal to 3" in fewer.context["form"].errors["quantity"][0]
    assert more.context["form"].errors["quantity"][0].startswith("Not enough available stock")
    assert early.context["form"].errors["ends_at"] == ["A quota ends after it starts."]
    spring.refresh_from_db()
    assert (spring.quantity, spring.allotted, spring.drawn) == (5, 2, 3)


def test_ending_with_a_reason(client_for, manager, goods, spring):
    first, _ = goods
    client = client_for(manager)
    assert "End this quota now?" in client.get(step_url("end", spring)).content.decode()

    done = client.post(step_url("end", spring), {"reason": "Campaign over"}, follow=True)

    assert "Quota spring ended: 5 units returned to free stock." in done.content.decode()
    spring.refresh_from_db()
    assert (spring.status, spring.allotted) == ("ended", 0)
    assert allotted(first) == 0
    entry = InventoryLog.objects.filter(quota=spring).latest("id")
    assert (entry.operation, entry.quantity, entry.actor) == ("quota_return", 5, "manager")
    assert "Campaign over" in entry.reason
    html = client.get(quota_url(spring)).content.decode()
    assert step_url("end", spring) not in html
    for name in ("terms", "end"):
        again = client.post(step_url(name, spring), {"reason": "x"}, follow=True)
        assert "Quota spring has ended: it can no longer be changed." in again.content.decode()


def test_a_step_on_a_quota_ended_meanwhile_is_refused_on_the_form(spring):
    change = QuotaChangeForm(terms_data(spring, priority="1"), quota=spring)
    end = QuotaEndForm({"reason": ""}, quota=spring)
    assert change.is_valid(), change.errors
    assert end.is_valid()
    services.end_quota(code="spring", actor="someone-else")

    assert change.submit(actor="manager") is None
    assert end.submit(actor="manager") is None

    assert change.non_field_errors() == ["Quota spring has ended."]
    assert end.non_field_errors() == ["Quota spring has ended."]


def test_steps_of_an_unknown_quota_redirect(client_for, manager, db):
    for name in ("terms", "end"):
        assert client_for(manager).get(reverse(f"admin:inventory_quota_{name}", args=[999_999])).status_code == 302


# --- Who may ---------------------------------------------------------------------------------------


def person_with(username: str, *codenames: str) -> User:
    user = User.objects.create_user(username, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames, content_type__app_label="inventory"))
    return user


def test_a_clerk_sees_quotas_but_changes_none(client_for, staff, goods, spring):
    client = client_for(staff)
    assert client.get(QUOTAS).status_code == 200
    assert client.get(quota_url(spring)).status_code == 200
    assert ADD not in client.get(QUOTAS).content.decode()
    assert step_url("end", spring) not in client.get(quota_url(spring)).content.decode()
    assert client.get(ADD).status_code == 403
    assert client.post(ADD, add_data(goods)).status_code == 403
    for name in ("terms", "end"):
        assert client.get(step_url(name, spring)).status_code == 403
        assert client.post(step_url(name, spring), terms_data(spring, quantity="1")).status_code == 403
    spring.refresh_from_db()
    assert (spring.quantity, spring.status) == (5, "active")


def test_manage_quota_opens_the_writing_pages(client_for, goods, spring):
    client = client_for(person_with("lead", "view_quota", "manage_quota"))
    assert client.post(ADD, add_data(goods)).status_code == 302
    assert client.post(step_url("end", spring), {"reason": ""}).status_code == 302
    # Django's own add and change permissions of the model open nothing.
    client = client_for(person_with("other", "view_quota", "add_quota", "change_quota"))
    assert client.get(ADD).status_code == 403
    assert client.get(step_url("terms", spring)).status_code == 403


def test_without_view_quota_there_is_no_screen(client_for, viewer, spring):
    client = client_for(viewer)
    assert client.get(QUOTAS).status_code == 403
    assert client.get(quota_url(spring)).status_code == 403


# --- Hostile input: never a 5xx --------------------------------------------------------------------


def test_every_parameter_and_field_of_the_quota_pages_with_each_tricky_value(client_for, superuser, goods, spring):
    client = client_for(superuser)
    values = [*(quote(text, safe="") for text in TRICKY), *RAW_ESCAPES]
    parameters = {
        QUOTAS: ["q", "o", "p", "status__exact", "warehouse__id__exact", "tier", "_to_field"],
        quota_url(spring): ["_to_field", "_changelist_filters"],
        step_url("terms", spring): ["_to_field"],
    }
    for url, names in parameters.items():
        for name in names:
            for value in values:
                assert client.get(f"{url}?{name}={value}").status_code < 500, (url, name, value)
    for text in TRICKY:
        for field in add_data(goods):
            assert client.post(ADD, {**add_data(goods, code="x"), field: text}).status_code < 500, (field, text)
        for field in terms_data(spring):
            assert client.post(step_url("terms", spring), {**terms_data(spring), field: text}).status_code < 500
        for page in ("change", "terms", "end", "history"):
            assert client.get(f"/admin/inventory/quota/{quote(text, safe='')}/{page}/").status_code < 500
    for text in TRICKY:  # the first reason that is one ends the quota; the others find it ended
        assert client.post(step_url("end", spring), {"reason": text}).status_code < 500, text
    assert Quota.objects.get(pk=spring.pk).status == "ended"


# --- In Chinese ------------------------------------------------------------------------------------


def test_no_english_is_left_on_the_quota_screens_in_chinese(client, chinese_warehouse):
    now = datetime.now(UTC)
    started = services.create_quota(
        code="q-1",
        name="双十一",
        product_id=710_001,
        quantity=10,
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(days=1),
        actor="张经理",
    )
    services.reserve_stock(order_id="8002", lines=[ReservationLine(710_001, 2, quota="q-1")], actor="商城")
    client.force_login(chinese_warehouse)
    screens = {
        "list": (QUOTAS, None),
        "quota": (quota_url(started), None),
        "create": (ADD, None),
        "create, refused": (ADD, {"code": "Q", "product_id": "x", "warehouse": "default", "quantity": "0"}),
        "create, refused by the service": (
            ADD,
            {
                "code": "q-1",
                "product_id": "710002",
                "warehouse": "default",
                "quantity": "5",
                "starts_at": shown(now),
                "ends_at": shown(now + timedelta(hours=1)),
                "priority": "100",
            },
        ),
        "change": (step_url("terms", started), None),
        "change, refused": (step_url("terms", started), {"quantity": "1", "ends_at": "x"}),
        "end": (step_url("end", started), None),
    }
    left = {}
    for name, (url, body) in screens.items():
        response = client.post(url, body, **CHINESE) if body else client.get(url, **CHINESE)
        assert response.status_code == 200, name
        if words := english_words(response.content.decode()):
            left[name] = sorted(words)
    assert left == {}, repr(left)
