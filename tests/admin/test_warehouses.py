"""The warehouse and pool screens: saves through the services, priorities on the list, what is never deleted."""

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.models import Permission
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from inventory import services
from inventory.admin.warehouses import WarehouseAdmin
from inventory.exceptions import CodeInUse, InvalidInput
from inventory.models import Pool, Warehouse
from tests.admin.conftest import _user
from tests.admin.test_admin_fuzz import FUZZ, assert_answered, form_data, hostile_text
from tests.api.test_warehouses import state

WAREHOUSES = reverse("admin:inventory_warehouse_changelist")
ADD_WAREHOUSE = reverse("admin:inventory_warehouse_add")
POOLS = reverse("admin:inventory_pool_changelist")
ADD_POOL = reverse("admin:inventory_pool_add")
PERMS = [f"{action}_{model}" for model in ("warehouse", "pool") for action in ("view", "add", "change", "delete")]
SH_1 = {
    "code": "sh-1",
    "name": "Shanghai 1",
    "region": "east",
    "latitude": "31.23",
    "longitude": "121.47",
    "priority": "10",
    "accepts_orders": "on",
}


def change_url(obj, name: str = "change") -> str:
    return reverse(f"admin:inventory_{obj._meta.model_name}_{name}", args=[obj.pk])


@pytest.fixture
def keeper(db, client_for):
    """Staff who may do everything with warehouses and pools, and nothing else."""
    user = _user("keeper")
    user.user_permissions.add(*Permission.objects.filter(codename__in=PERMS))
    return client_for(user)


def warehouse(code: str, **fields) -> Warehouse:
    return services.create_warehouse(code=code, actor="setup", **fields)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- warehouses ---------------------------------------------------------------------


def test_add_a_warehouse(keeper):
    assert keeper.get(ADD_WAREHOUSE).status_code == 200

    response = keeper.post(ADD_WAREHOUSE, SH_1)

    assert response.status_code == 302
    created = Warehouse.objects.get(code="sh-1")
    assert (created.name, created.region, created.latitude, created.longitude) == ("Shanghai 1", "east", 31.23, 121.47)
    assert (created.priority, created.accepts_orders) == (10, True)
    entry = LogEntry.objects.get()
    assert (entry.action_flag, entry.object_id, entry.user.username) == (ADDITION, str(created.pk), "keeper")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code": "SH-1"}, "code"),
        ({"code": ""}, "code"),
        ({"code": "a" * 33}, "code"),
        ({"code": "default"}, "code"),
        ({"latitude": "90.01"}, "latitude"),
        ({"longitude": "-181"}, "longitude"),
        ({"longitude": "nan"}, "longitude"),
        ({"latitude": "inf"}, "latitude"),
        ({"longitude": ""}, None),
        ({"priority": "1000001"}, "priority"),
        ({"priority": "1.5"}, "priority"),
        ({"name": "a\x01b"}, "name"),
        ({"name": "a\x00b"}, "name"),
        ({"region": "r" * 65}, "region"),
    ],
)
def test_the_add_form_refuses_bad_input_and_saves_nothing(keeper, changes, field):
    before = state()

    response = keeper.post(ADD_WAREHOUSE, {**SH_1, **changes})

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert (field or "__all__") in errors, errors
    assert state() == before
    assert not LogEntry.objects.exists()


def test_the_code_cannot_be_changed_and_the_rest_can(keeper):
    placed = warehouse("sh-1", latitude=1.0, longitude=2.0, priority=3)
    page = keeper.get(change_url(placed))
    assert "code" not in page.context["adminform"].form.fields

    response = keeper.post(change_url(placed), {**SH_1, "code": "hz-1", "latitude": "", "longitude": ""})

    assert response.status_code == 302
    placed.refresh_from_db()
    assert (placed.code, placed.name, placed.latitude, placed.longitude) == ("sh-1", "Shanghai 1", None, None)
    assert LogEntry.objects.get().action_flag == CHANGE


def test_one_coordinate_changed_is_saved_with_the_other(keeper):
    placed = warehouse("sh-1", latitude=1.0, longitude=2.0)

    keeper.post(change_url(placed), {**SH_1, "latitude": "5", "longitude": "2"})

    placed.refresh_from_db()
    assert (placed.latitude, placed.longitude) == (5.0, 2.0)


def test_staff_reorder_priorities_on_the_list(keeper):
    first, second = warehouse("aa-1", priority=1), warehouse("bb-2", priority=2)
    page = keeper.get(WAREHOUSES)
    assert 'name="form-0-priority"' in page.content.decode()

    response = keeper.post(WAREHOUSES, priorities({first: "5", second: "-3"}))

    assert response.status_code == 302
    assert [row.code for row in Warehouse.objects.all()] == ["bb-2", "default", "aa-1"]
    assert LogEntry.objects.filter(action_flag=CHANGE).count() == 2


def test_a_priority_out_of_range_on_the_list_changes_nothing(keeper):
    first, second = warehouse("aa-1", priority=1), warehouse("bb-2", priority=2)
    before = state()

    response = keeper.post(WAREHOUSES, priorities({first: "5", second: "1000001"}))

    assert response.status_code == 200
    assert state() == before


def priorities(new: dict) -> dict:
    """The list's editable column posted: every warehouse on the page, some with a new priority."""
    rows = list(Warehouse.objects.all())
    data = {"form-TOTAL_FORMS": str(len(rows)), "form-INITIAL_FORMS": str(len(rows)), "_save": "Save"}
    for number, row in enumerate(rows):
        data[f"form-{number}-id"] = str(row.pk)
        data[f"form-{number}-priority"] = new.get(row, str(row.priority))
    return data


def test_a_refusal_on_the_list_rolls_back_every_row_and_says_why(keeper, monkeypatch):
    first, second = warehouse("aa-1", priority=1), warehouse("bb-2", priority=2)
    before = state()
    real = services.update_warehouse

    def refuse_the_second(code, **changes):
        if code == "bb-2":
            raise InvalidInput("Someone else deleted it meanwhile.")
        return real(code, **changes)

    monkeypatch.setattr(WarehouseAdmin, "update", staticmethod(refuse_the_second))

    response = keeper.post(WAREHOUSES, priorities({first: "5", second: "6"}), follow=True)

    assert "Nothing was saved: Someone else deleted it meanwhile." in messages_of(response)
    assert state() == before
    assert not LogEntry.objects.exists()


def test_a_refusal_the_form_could_not_see_is_shown_on_it(keeper, monkeypatch):
    """Another person saved the same code between the form's check and the save."""

    def taken(**fields):
        raise CodeInUse(fields["code"])

    monkeypatch.setattr(WarehouseAdmin, "create", staticmethod(taken))

    response = keeper.post(ADD_WAREHOUSE, SH_1)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["code"] == ["sh-1 exists already."]
    assert response.context["adminform"].form["name"].value() == "Shanghai 1"  # what the person typed
    assert not Warehouse.objects.filter(code="sh-1").exists()
    assert not LogEntry.objects.exists()


def test_a_warehouse_that_never_held_stock_can_be_deleted(keeper):
    empty = warehouse("sh-1")
    services.create_pool(code="east", warehouses=["sh-1", "default"], actor="setup")

    assert keeper.get(change_url(empty, "delete")).status_code == 200
    response = keeper.post(change_url(empty, "delete"), {"post": "yes"})

    assert response.status_code == 302
    assert not Warehouse.objects.filter(code="sh-1").exists()
    assert list(Pool.objects.get(code="east").warehouses.values_list("code", flat=True)) == ["default"]
    assert LogEntry.objects.get().action_flag == DELETION


def test_default_and_a_warehouse_with_stock_are_never_deleted(keeper):
    stocked = warehouse("sh-1")
    services.create_inventory(product_id=990_001, available_stock=0, warehouse="sh-1", actor="setup")
    default = Warehouse.objects.get(code="default")
    before = state()

    for kept in (default, stocked):
        assert keeper.get(change_url(kept, "delete")).status_code == 403
        assert keeper.post(change_url(kept, "delete"), {"post": "yes"}).status_code == 403
    selected = {"action": "delete_selected", "_selected_action": [default.pk, stocked.pk], "post": "yes"}
    response = keeper.post(WAREHOUSES, selected)

    assert response.status_code == 200  # Django's page: "would require deleting ... protected" or not permitted
    assert state() == before


def test_the_delete_action_deletes_through_the_service(keeper):
    first, second = warehouse("aa-1"), warehouse("bb-2")

    response = keeper.post(
        WAREHOUSES, {"action": "delete_selected", "_selected_action": [first.pk, second.pk], "post": "yes"}
    )

    assert response.status_code == 302
    assert list(Warehouse.objects.values_list("code", flat=True)) == ["default"]


def test_the_list_shows_the_warehouses(keeper):
    warehouse("sh-1", name="Shanghai 1", region="east", accepts_orders=False)

    html = keeper.get(WAREHOUSES).content.decode()

    assert "Shanghai 1" in html
    assert keeper.get(f"{WAREHOUSES}?q=shang").context["cl"].result_count == 1
    assert keeper.get(f"{WAREHOUSES}?accepts_orders__exact=0").context["cl"].result_count == 1


# --- pools ------------------------------------------------------------------------------


def test_add_a_pool_with_its_warehouses(keeper):
    members = [warehouse("sh-1", priority=2), warehouse("hz-1", priority=1)]

    response = keeper.post(
        ADD_POOL, {"code": "east", "name": "East", "strategy": "nearest", "warehouses": [w.pk for w in members]}
    )

    assert response.status_code == 302
    pool = Pool.objects.get(code="east")
    assert (pool.name, pool.strategy) == ("East", "nearest")
    assert sorted(pool.warehouses.values_list("code", flat=True)) == ["hz-1", "sh-1"]
    assert "hz-1, sh-1" in keeper.get(POOLS).content.decode()
    assert LogEntry.objects.get().action_flag == ADDITION


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"code": "all"}, "code"),
        ({"code": "East"}, "code"),
        ({"code": "east", "strategy": "cheapest"}, "strategy"),
        ({"code": "east", "warehouses": ["999999"]}, "warehouses"),
        ({"code": "east", "warehouses": ["x"]}, "warehouses"),
    ],
)
def test_the_pool_form_refuses_bad_input(keeper, data, field):
    before = state()

    response = keeper.post(ADD_POOL, {"strategy": "priority", **data})

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert state() == before


def test_change_a_pools_members(keeper):
    kept, dropped = warehouse("sh-1"), warehouse("bj-1")
    pool = services.create_pool(code="east", warehouses=["sh-1", "bj-1"], actor="setup")

    response = keeper.post(change_url(pool), {"name": "East", "strategy": "most_stock", "warehouses": [kept.pk]})

    assert response.status_code == 302
    pool.refresh_from_db()
    assert (pool.name, pool.strategy) == ("East", "most_stock")
    assert list(pool.warehouses.values_list("code", flat=True)) == ["sh-1"]
    assert dropped.pools.count() == 0


def test_the_pool_all_is_read_only_and_shows_every_warehouse_that_accepts_orders(keeper):
    warehouse("sh-1", priority=-1)
    warehouse("closed", accepts_orders=False)
    every = Pool.objects.get(code="all")
    before = state()

    page = keeper.get(change_url(every))
    posted = keeper.post(change_url(every), {"name": "x", "strategy": "nearest"})
    deleted = keeper.post(change_url(every, "delete"), {"post": "yes"})

    assert page.status_code == 200
    html = page.content.decode()
    assert "sh-1, default" in html
    assert "closed" not in html
    assert 'name="strategy"' not in html
    assert (posted.status_code, deleted.status_code) == (403, 403)
    assert state() == before


def test_a_pool_can_be_deleted_and_its_warehouses_stay(keeper):
    pool = services.create_pool(code="east", warehouses=["default"], actor="setup")

    response = keeper.post(change_url(pool, "delete"), {"post": "yes"})

    assert response.status_code == 302
    assert not Pool.objects.filter(code="east").exists()
    assert Warehouse.objects.filter(code="default").exists()


def test_the_groups_see_or_change_warehouses_and_nobody_but_superusers_deletes(client_for, viewer, staff, manager):
    sh_1 = warehouse("sh-1")
    for url in (WAREHOUSES, ADD_WAREHOUSE, POOLS, ADD_POOL, change_url(sh_1)):
        assert client_for(viewer).get(url).status_code == 403

    clerk = client_for(staff)
    assert clerk.get(WAREHOUSES).status_code == 200
    assert 'name="form-0-priority"' not in clerk.get(WAREHOUSES).content.decode()
    assert clerk.get(ADD_WAREHOUSE).status_code == 403
    assert clerk.post(change_url(sh_1), {**SH_1, "name": "x"}).status_code == 403

    boss = client_for(manager)
    assert boss.post(ADD_POOL, {"code": "east", "strategy": "priority"}).status_code == 302
    assert boss.post(change_url(sh_1), {**SH_1, "name": "Renamed"}).status_code == 302
    assert boss.post(change_url(sh_1, "delete"), {"post": "yes"}).status_code == 403
    assert Warehouse.objects.get(code="sh-1").name == "Renamed"


# --- hostile forms ------------------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_the_warehouse_and_pool_forms_never_answer_5xx(client_for, superuser, data):
    client = client_for(superuser)
    screen = data.draw(st.sampled_from(["warehouse add", "warehouse change", "warehouse list", "pool add"]))
    default = Warehouse.objects.get(code="default")
    if screen == "warehouse add":
        response = client.post(ADD_WAREHOUSE, form_data(data.draw, list(SH_1)))
    elif screen == "warehouse change":
        response = client.post(change_url(default), form_data(data.draw, list(SH_1)))
    elif screen == "warehouse list":
        rows = {"form-0-id": data.draw(st.one_of(st.just(str(default.pk)), hostile_text))}
        rows["form-0-priority"] = data.draw(hostile_text)
        response = client.post(WAREHOUSES, {"form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1", "_save": "1", **rows})
    else:
        body = form_data(data.draw, ["code", "name", "strategy"])
        body["warehouses"] = data.draw(st.lists(st.one_of(st.just(str(default.pk)), hostile_text), max_size=3))
        response = client.post(ADD_POOL, body)
    assert_answered(response)
