"""The planning screens through the real admin: the plans, a level's page with its demand chart,
its terms, the reorder report (page and CSV) and the settings; who may, and hostile input (never a 5xx)."""

from decimal import Decimal
from urllib.parse import quote

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.urls import reverse

from inventory.models import InventoryLog, ItemPlan, LogOperation, PlanningSettings, StockRow
from inventory.services.planning import refresh_plans
from tests.admin.test_admin_fuzz import RAW_ESCAPES, TRICKY
from tests.admin.test_quotas_admin import person_with
from tests.admin.test_translations import CHINESE, english_words
from tests.inventory.planning.test_plans import opened, sold

PLANS = reverse("admin:inventory_itemplan_changelist")
REORDER = reverse("admin:inventory_itemplan_reorder")
REORDER_CSV = reverse("admin:inventory_itemplan_reorder_csv")
SETTINGS = reverse("admin:inventory_itemplan_settings")


def plan_url(plan: ItemPlan) -> str:
    return reverse("admin:inventory_itemplan_change", args=[plan.pk])


def terms_url(plan: ItemPlan) -> str:
    return reverse("admin:inventory_itemplan_terms", args=[plan.pk])


@pytest.fixture
def steady(item):
    """A product sold 5 a day for the 30 days its level has been open, 10 on the shelf; planned."""
    product = item(10)
    opened(product.product_id, 30)
    for days_ago in range(1, 31):
        sold(product.product_id, 5, days_ago)
    refresh_plans()
    return ItemPlan.objects.get(product_id=product.product_id)


def test_the_plans_list_and_a_plans_page_with_its_chart(client_for, staff, steady):
    client = client_for(staff)

    listed = client.get(PLANS).content.decode()
    page = client.get(plan_url(steady)).content.decode()

    assert str(steady.product_id) in listed
    assert "A up to 80 %" in listed
    assert 'class="stock-chart"' in page
    assert page.count('<rect class="demand"') == 30
    assert '<polyline class="forecast"' in page
    assert terms_url(steady) not in page  # a clerk does not change terms
    assert client.get(PLANS, {"abc_class__exact": "C"}).content.decode().count(f">{steady.product_id}<") == 0


def test_changing_the_terms(client_for, manager, steady):
    client = client_for(manager)
    assert terms_url(steady) in client.get(plan_url(steady)).content.decode()

    response = client.post(
        terms_url(steady), {"lead_time_days": "14", "service_level": "0.950", "apply_suggestions": "on"}
    )

    assert response.status_code == 302
    steady.refresh_from_db()
    assert (steady.lead_time_days, steady.reorder_point, steady.apply_suggestions) == (14, 70, True)
    assert StockRow.objects.get(product_id=steady.product_id).low_stock_threshold == 70
    entry = InventoryLog.objects.filter(product_id=steady.product_id, operation=LogOperation.THRESHOLD).latest("id")
    assert (entry.actor, entry.quantity) == ("manager", 70)
    assert LogEntry.objects.filter(object_id=str(steady.pk), action_flag=CHANGE).exists()


@pytest.mark.parametrize(
    "changes",
    [{"lead_time_days": "-1"}, {"lead_time_days": "367"}, {"service_level": "1"}, {"service_level": "0.4"}],
)
def test_terms_refused_on_the_form_change_nothing(client_for, manager, steady, changes):
    body = {"lead_time_days": "7", "service_level": "0.95", **changes}

    response = client_for(manager).post(terms_url(steady), body)

    assert response.status_code == 200
    assert response.context["form"].errors
    steady.refresh_from_db()
    assert (steady.lead_time_days, steady.service_level) == (7, Decimal("0.950"))


def test_the_reorder_report_and_its_csv(client_for, staff, steady, item):
    item(500)
    refresh_plans()
    client = client_for(staff)

    page = client.get(REORDER, {"warehouse": "default"}).content.decode()
    csv = b"".join(client.get(REORDER_CSV).streaming_content).decode().splitlines()

    assert page.count('class="reorder-line"') == 1
    assert f"{REORDER_CSV}?warehouse=default" in page
    assert csv[0] == (
        "product_id,warehouse,abc_class,available,incoming,backordered,position,reorder_point,"
        "reorder_quantity,lead_time_days,suggested_quantity"
    )
    assert csv[1:] == [f"{steady.product_id},default,A,10,0,0,10,35,70,7,95"]


def test_the_settings(client_for, manager, staff):
    assert client_for(staff).get(SETTINGS).status_code == 403
    client = client_for(manager)
    days = {"a_count_days": "30", "b_count_days": "91", "c_count_days": "365"}
    refused = client.post(
        SETTINGS, {"window_days": "30", "abc_basis": "units", "a_percent": "90", "b_percent": "80", **days}
    )
    assert refused.status_code == 200
    assert not PlanningSettings.objects.exists()

    saved = client.post(
        SETTINGS,
        {"window_days": "30", "abc_basis": "value", "a_percent": "70", "b_percent": "90", **days, "a_count_days": "7"},
    )

    assert saved.status_code == 302
    settings = PlanningSettings.current()
    assert (settings.window_days, settings.abc_basis, settings.a_percent, settings.b_percent) == (30, "value", 70, 90)
    assert settings.count_intervals() == {"A": 7, "B": 91, "C": 365}


def test_who_may(client_for, staff, viewer, steady):
    clerk = client_for(staff)
    for url in (terms_url(steady), SETTINGS):
        assert clerk.get(url).status_code == 403
        assert clerk.post(url, {"lead_time_days": "1", "service_level": "0.9", "window_days": "7"}).status_code == 403
    assert ItemPlan.objects.get(pk=steady.pk).lead_time_days == 7
    other = client_for(viewer)  # may view the inventory, not plans
    for url in (PLANS, plan_url(steady), REORDER, REORDER_CSV):
        assert other.get(url).status_code == 403, url
    lead = client_for(person_with("lead", "view_itemplan", "add_itemplan", "change_itemplan"))
    assert lead.get(terms_url(steady)).status_code == 403


def test_every_parameter_of_the_planning_pages_with_each_tricky_value(client_for, superuser, steady):
    client = client_for(superuser)
    values = [*(quote(text, safe="") for text in TRICKY), *RAW_ESCAPES]
    parameters = {
        PLANS: ["q", "o", "p", "abc_class__exact", "warehouse__id__exact", "apply_suggestions__exact", "_to_field"],
        plan_url(steady): ["_to_field", "_changelist_filters"],
        REORDER: ["warehouse"],
        REORDER_CSV: ["warehouse"],
    }
    for url, names in parameters.items():
        for name in names:
            for value in values:
                assert client.get(f"{url}?{name}={value}").status_code < 500, (url, name, value)
    for text in TRICKY:
        for field in ("lead_time_days", "service_level", "apply_suggestions"):
            body = {"lead_time_days": "7", "service_level": "0.95", field: text}
            assert client.post(terms_url(steady), body).status_code < 500, (field, text)
        for field in ("window_days", "abc_basis", "a_percent", "b_percent", "a_count_days"):
            body = {"window_days": "90", "abc_basis": "units", "a_percent": "80", "b_percent": "95", field: text}
            assert client.post(SETTINGS, body).status_code < 500, (field, text)
        for page in ("change", "terms", "history"):
            assert client.get(f"/admin/inventory/itemplan/{quote(text, safe='')}/{page}/").status_code < 500


def test_no_english_is_left_on_the_planning_screens_in_chinese(client, chinese_warehouse):
    opened(710_001, 30)
    for days_ago in range(1, 31):
        sold(710_001, 5, days_ago)
    refresh_plans()
    plan = ItemPlan.objects.get(product_id=710_001)
    client.force_login(chinese_warehouse)
    screens = {
        "list": (PLANS, None),
        "plan": (plan_url(plan), None),
        "terms": (terms_url(plan), None),
        "terms, refused": (terms_url(plan), {"lead_time_days": "x", "service_level": "2"}),
        "reorder": (REORDER, None),
        "settings": (SETTINGS, None),
    }
    left = {}
    for name, (url, body) in screens.items():
        response = client.post(url, body, **CHINESE) if body else client.get(url, **CHINESE)
        assert response.status_code == 200, name
        if words := english_words(response.content.decode()):
            left[name] = sorted(words)
    assert left == {}, repr(left)
