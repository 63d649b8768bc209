"""Planning through the real URL conf: the plans, a level's history and forecast, its terms,
the reorder report and the run's settings; roles, hostile input (a 400 that changes nothing),
unknown levels (404) and idempotent writes."""

import pytest
from rest_framework.test import APIClient

from inventory.models import InventoryLog, ItemPlan, LogOperation, PlanningSettings, StockRow, Warehouse
from inventory.services.planning import refresh_plans
from tests.api.conftest import API, error_code, staff_user
from tests.inventory.planning.test_plans import opened, sold

pytestmark = pytest.mark.django_db
PLANNING_PERMS = ("view_itemplan", "manage_planning")
PLANS = f"{API}/planning/items"
REORDER = f"{API}/planning/reorder"
SETTINGS = f"{API}/planning/settings"
PLAN_KEYS = {
    "product_id",
    "warehouse",
    "lead_time_days",
    "service_level",
    "apply_suggestions",
    "low_stock_threshold",
    "abc_class",
    "demand_units",
    "method",
    "forecast",
    "error_sd",
    "history_days",
    "safety_stock",
    "reorder_point",
    "reorder_quantity",
    "computed_at",
    "updated_at",
}


def session(username: str, *perms: str) -> APIClient:
    client = APIClient()
    client.force_login(staff_user(username, perms))
    return client


@pytest.fixture
def lead(db) -> APIClient:
    return session("lead", *PLANNING_PERMS)


@pytest.fixture
def looker(db) -> APIClient:
    return session("looker", "view_itemplan")


@pytest.fixture
def steady(make_item):
    """A product sold 5 a day for the 30 days its level has been open, with 10 on the shelf, planned."""
    product_id = make_item(available_stock=10).product_id
    opened(product_id, 30)
    for days_ago in range(1, 31):
        sold(product_id, 5, days_ago)
    refresh_plans()
    return product_id


def test_the_plans_and_one_level_with_its_history_and_forecast(lead, steady):
    listed = lead.get(PLANS, {"abc_class": "A"})
    one = lead.get(f"{PLANS}/{steady}")

    assert listed.status_code == 200
    (plan,) = [item for item in listed.json()["results"] if item["product_id"] == steady]
    assert set(plan) == PLAN_KEYS
    assert (plan["warehouse"], plan["lead_time_days"], plan["service_level"], plan["apply_suggestions"]) == (
        "default",
        7,
        0.95,
        False,
    )
    assert (plan["method"], plan["reorder_point"], plan["reorder_quantity"], plan["low_stock_threshold"]) == (
        "ses",
        35,
        70,
        2,
    )
    body = one.json()
    assert one.status_code == 200
    assert set(body) == PLAN_KEYS | {"history", "forecast_by_day"}
    assert len(body["history"]) == 90
    assert [day["units"] for day in body["history"][-3:]] == [5, 5, 5]
    assert body["forecast_by_day"][0] == {"date": body["computed_at"][:10], "units": 5.0}
    assert lead.get(PLANS, {"abc_class": "C"}).json()["results"] == []


def test_a_level_the_run_has_not_reached_shows_the_default_terms(lead, make_item):
    product_id = make_item().product_id

    body = lead.get(f"{PLANS}/{product_id}").json()

    assert (body["method"], body["reorder_point"], body["computed_at"], body["lead_time_days"]) == ("", None, None, 7)
    assert not ItemPlan.objects.filter(product_id=product_id).exists()  # a read stores nothing


def test_terms_change_the_figures_at_once_and_thresholds_follow_when_opted_in(lead, steady):
    response = lead.post(
        f"{PLANS}/{steady}/terms",
        {"lead_time_days": 14, "service_level": 0.99, "apply_suggestions": True},
        format="json",
        HTTP_IDEMPOTENCY_KEY="t-1",
    )
    again = lead.post(
        f"{PLANS}/{steady}/terms",
        {"lead_time_days": 14, "service_level": 0.99, "apply_suggestions": True},
        format="json",
        HTTP_IDEMPOTENCY_KEY="t-1",
    )

    body = response.json()
    assert response.status_code == 200
    assert (body["lead_time_days"], body["service_level"], body["reorder_point"]) == (14, 0.99, 70)
    assert body["low_stock_threshold"] == 70
    assert (again.json(), again["Idempotent-Replayed"]) == (body, "true")
    entries = InventoryLog.objects.filter(product_id=steady, operation=LogOperation.THRESHOLD, actor="lead")
    assert list(entries.values_list("quantity", flat=True)) == [70]  # once, not on the replay


@pytest.mark.parametrize(
    "body",
    [
        {"lead_time_days": -1},
        {"lead_time_days": 367},
        {"lead_time_days": "7"},
        {"lead_time_days": 7.0},
        {"service_level": 1},
        {"service_level": 0.49},
        {"service_level": "0.9"},
        {"service_level": 0.9999},
        {"service_level": True},
        {"apply_suggestions": "true"},
        {"apply_suggestions": 1},
        {"warehouse": "Bad"},
        {"why": 1},
        [],
    ],
)
def test_hostile_terms_are_400_and_change_nothing(lead, steady, body):
    before = list(ItemPlan.objects.values())

    response = lead.post(f"{PLANS}/{steady}/terms", body, format="json")

    assert (response.status_code, error_code(response)) == (400, "validation_error")
    assert list(ItemPlan.objects.values()) == before


def test_unknown_levels_and_malformed_paths(lead, make_item):
    product_id = make_item().product_id
    Warehouse.objects.create(code="sh-1")

    assert error_code(lead.get(f"{PLANS}/999999")) == "product_not_found"
    assert error_code(lead.get(f"{PLANS}/{product_id}", {"warehouse": "sh-1"})) == "product_not_found"
    assert error_code(lead.get(f"{PLANS}/{product_id}", {"warehouse": "nowhere"})) == "warehouse_not_found"
    assert error_code(lead.post(f"{PLANS}/999999/terms", {"lead_time_days": 3}, format="json")) == "product_not_found"
    for path in (f"{PLANS}/0", f"{PLANS}/abc", f"{PLANS}/{2**63}"):
        assert error_code(lead.get(path)) == "validation_error", path
    assert error_code(lead.get(f"{PLANS}/{product_id}", {"days": 3})) == "validation_error"
    assert error_code(lead.get(PLANS, {"abc_class": "D"})) == "validation_error"
    assert error_code(lead.get(REORDER, {"warehouse": "nowhere"})) == "warehouse_not_found"
    assert error_code(lead.get(REORDER, {"sort": "x"})) == "validation_error"
    assert not ItemPlan.objects.exists()


def test_the_reorder_report(lead, steady, make_item):
    plenty = make_item(available_stock=500).product_id
    refresh_plans()

    response = lead.get(REORDER)

    assert response.status_code == 200
    lines = {line["product_id"]: line for line in response.json()["results"]}
    assert plenty not in lines
    assert lines[steady] == {
        "product_id": steady,
        "warehouse": "default",
        "abc_class": "A",
        "available": 10,
        "incoming": 0,
        "backordered": 0,
        "position": 10,
        "reorder_point": 35,
        "reorder_quantity": 70,
        "lead_time_days": 7,
        "suggested_quantity": 95,
    }


def test_settings_read_and_changed_and_hostile_ones_refused(lead, looker):
    assert looker.get(SETTINGS).json() | {"updated_at": None} == {
        "window_days": 90,
        "a_count_days": 30,
        "b_count_days": 91,
        "c_count_days": 365,
        "abc_basis": "units",
        "a_percent": 80.0,
        "b_percent": 95.0,
        "updated_at": None,
    }
    changed = lead.post(
        f"{SETTINGS}/change", {"abc_basis": "value", "a_percent": 70.5, "a_count_days": 14}, format="json"
    )
    assert (changed.status_code, changed.json()["abc_basis"], changed.json()["a_percent"]) == (200, "value", 70.5)
    assert changed.json()["a_count_days"] == 14
    for body in (
        {"a_percent": 96},
        {"b_percent": 100.5},
        {"window_days": 6},
        {"abc_basis": "weight"},
        {"x": 1},
        {"a_count_days": 0},
        {"c_count_days": 367},
        {"b_count_days": "30"},
    ):
        response = lead.post(f"{SETTINGS}/change", body, format="json")
        assert (response.status_code, error_code(response)) == (400, "validation_error"), body
    settings = PlanningSettings.current()
    assert (settings.abc_basis, float(settings.a_percent), settings.b_percent) == ("value", 70.5, 95)


def test_roles(anon, internal, staff, looker, steady):
    writes = ((f"{PLANS}/{steady}/terms", {"lead_time_days": 3}), (f"{SETTINGS}/change", {"window_days": 30}))
    assert anon.get(PLANS).status_code == 401
    for client in (internal, staff):
        for path in (PLANS, f"{PLANS}/{steady}", REORDER, SETTINGS):
            assert client.get(path).status_code == 403, path
    for path in (PLANS, f"{PLANS}/{steady}", REORDER, SETTINGS):
        assert looker.get(path).status_code == 200, path
    for path, body in writes:
        assert looker.post(path, body, format="json").status_code == 403
    assert ItemPlan.objects.get(product_id=steady).lead_time_days == 7
    assert StockRow.objects.get(product_id=steady).low_stock_threshold == 2
    assert not PlanningSettings.objects.exists()
