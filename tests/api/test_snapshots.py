"""A past day's figures through the real URL conf: a product's levels and a warehouse's (paginated)
on a day, before and after its snapshot; roles, hostile dates (400), unknown products and warehouses (404)."""

import random
from datetime import timedelta

import pytest

from inventory.services.snapshots import take_snapshot, yesterday
from tests.api.conftest import API, error_code
from tests.inventory.history import days_back, expected_levels, make_rows, random_history, write

pytestmark = pytest.mark.django_db
DAYS = days_back(4, ending=yesterday())


@pytest.fixture
def history(warehouse):
    """Products 1..3 in sh-1 (product 1 hot over 3 rows) and product 1 in bj-1, moving for 4 days to yesterday."""
    sh, bj = warehouse("sh-1", priority=1).pk, warehouse("bj-1", priority=2).pk
    rows = make_rows({(1, sh): 3, (1, bj): 1, (2, sh): 1, (3, sh): 1})
    write(rows, random_history(rows, DAYS, random.Random(7), moves_per_day=30), opened=DAYS[0])
    return rows, {sh: "sh-1", bj: "bj-1"}


def level(product_id, code, figures):
    available, reserved = figures
    return {
        "product_id": product_id,
        "warehouse": code,
        "available_stock": available,
        "reserved_stock": reserved,
        "total_stock": available + reserved,
    }


def expected_product(rows, codes, day, product_id):
    levels = [
        level(p, codes[w], figures)
        for (p, w), figures in expected_levels(rows, day, DAYS[0]).items()
        if p == product_id
    ]
    levels.sort(key=lambda answer: answer["warehouse"] != "sh-1")  # by priority
    return {
        "product_id": product_id,
        "date": day.isoformat(),
        "available_stock": sum(answer["available_stock"] for answer in levels),
        "reserved_stock": sum(answer["reserved_stock"] for answer in levels),
        "total_stock": sum(answer["total_stock"] for answer in levels),
        "levels": levels,
    }


def test_a_products_figures_on_each_day_before_and_after_the_snapshot(staff, history):
    rows, codes = history
    for snapshot in (None, DAYS[1], DAYS[3]):
        if snapshot:
            take_snapshot(snapshot)
        for day in DAYS:
            response = staff.get(f"{API}/inventory/1/history", {"date": day.isoformat()})
            assert response.status_code == 200
            assert response.json() == expected_product(rows, codes, day, 1)


def test_a_warehouses_figures_by_product_a_page_at_a_time(staff, history):
    rows, codes = history
    take_snapshot(DAYS[2])
    day = DAYS[2]
    first = staff.get(f"{API}/warehouses/sh-1/history", {"date": day.isoformat(), "page_size": 2}).json()
    second = staff.get(f"{API}/warehouses/sh-1/history", {"date": day.isoformat(), "page_size": 2, "page": 2}).json()
    figures = expected_levels(rows, day, DAYS[0])
    sh = next(pk for pk, code in codes.items() if code == "sh-1")
    assert first["count"] == 3
    assert first["results"] + second["results"] == [level(p, "sh-1", figures[(p, sh)]) for p in (1, 2, 3)]


def test_today_and_later_days_answer_now_and_a_day_before_the_levels_opened_lists_none(staff, history):
    rows, codes = history
    for later in ("9999-12-31", (yesterday() + timedelta(days=1)).isoformat()):
        answer = staff.get(f"{API}/inventory/1/history", {"date": later}).json()
        assert answer == expected_product(rows, codes, yesterday(), 1) | {"date": later}
        listed = staff.get(f"{API}/warehouses/sh-1/history", {"date": later}).json()["results"]
        assert [line["product_id"] for line in listed] == [1, 2, 3]
    assert staff.get(f"{API}/inventory/1/history", {"date": "0001-01-01"}).json()["levels"] == []
    before = (DAYS[0] - timedelta(days=1)).isoformat()
    assert staff.get(f"{API}/inventory/1/history", {"date": before}).json() == {
        "product_id": 1,
        "date": before,
        "available_stock": 0,
        "reserved_stock": 0,
        "total_stock": 0,
        "levels": [],
    }
    assert staff.get(f"{API}/warehouses/sh-1/history", {"date": before}).json()["results"] == []


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"date": ""},
        {"date": "2026-02-30"},
        {"date": "2026-1-05"},
        {"date": "20261205"},
        {"date": "2026-12-05T00:00:00"},
        {"date": "\uff19\uff19\uff19\uff19-01-01"},  # fullwidth digits
        {"date": "2026-12-05", "date ": "x"},
        {"date": DAYS[0].isoformat(), "warehouse": "sh-1"},
    ],
)
def test_hostile_dates_and_parameters_are_400(staff, history, query):
    for path in (f"{API}/inventory/1/history", f"{API}/warehouses/sh-1/history"):
        response = staff.get(path, query)
        assert (response.status_code, error_code(response)) == (400, "validation_error"), (path, query)


def test_unknown_products_and_warehouses_are_404_and_malformed_paths_400(staff, history):
    day = {"date": DAYS[0].isoformat()}
    assert error_code(staff.get(f"{API}/inventory/999/history", day)) == "product_not_found"
    assert error_code(staff.get(f"{API}/warehouses/nowhere/history", day)) == "warehouse_not_found"
    assert staff.get(f"{API}/warehouses/sh-1/history", {**day, "page": 9}).status_code == 404
    for path in (f"{API}/inventory/0/history", f"{API}/inventory/x/history", f"{API}/warehouses/A%20B/history"):
        assert staff.get(path, day).status_code == 400, path


def test_roles(anon, internal, staff_no_perm, staff, history):
    day = {"date": DAYS[0].isoformat()}
    for path in (f"{API}/inventory/1/history", f"{API}/warehouses/sh-1/history"):
        assert anon.get(path, day).status_code == 401
        assert internal.get(path, day).status_code == 403
        assert staff_no_perm.get(path, day).status_code == 403
        assert staff.get(path, day).status_code == 200
