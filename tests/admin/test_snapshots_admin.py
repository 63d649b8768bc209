"""The "Stock on a day" page through the real admin: a product's levels and a warehouse's (a page at a
time) at the end of a past day, equal to the ledger's replay; who may see it; hostile input (never a 5xx);
no English left in Chinese."""

import random

import pytest
from django.urls import reverse

from inventory.admin import snapshots
from inventory.services.snapshots import take_snapshot, yesterday
from tests.admin.test_admin_fuzz import TRICKY
from tests.admin.test_quotas_admin import person_with
from tests.admin.test_translations import CHINESE, english_words
from tests.inventory.history import days_back, expected_levels, make_rows, random_history, write

PAGE = reverse("admin:inventory_inventory_on_day")
DAYS = days_back(3, ending=yesterday())


@pytest.fixture
def history(warehouse):
    """Products 1..3 in sh-1 (product 1 hot over 2 rows), product 1 in bj-1 too, moving for 3 days; one snapshot."""
    sh, bj = warehouse("sh-1", priority=1).pk, warehouse("bj-1", priority=2).pk
    rows = make_rows({(1, sh): 2, (1, bj): 1, (2, sh): 1, (3, sh): 1})
    write(rows, random_history(rows, DAYS, random.Random(3), moves_per_day=20), opened=DAYS[0])
    take_snapshot(DAYS[1])
    return rows, sh, bj


def shown(html: str) -> list[tuple[str, ...]]:
    """The table's lines: (product, warehouse, available, reserved, total) as shown."""
    lines = html.split('<tr class="level-on-day">')[1:]
    return [tuple(cell.split("<")[0] for cell in line.split("<td")[1:6]) for line in lines]


def _figures(pair) -> tuple[str, ...]:
    """A level's cells as the table shows them (the figures stay below 1,000: no grouping)."""
    available, reserved = pair
    return tuple(f' class="num">{n}' for n in (available, reserved, available + reserved))


def test_the_inventory_list_links_it_and_a_products_day_equals_the_replay(client_for, viewer, history):
    rows, sh, bj = history
    client = client_for(viewer)
    assert PAGE in client.get(reverse("admin:inventory_inventory_changelist")).content.decode()
    for day in DAYS:
        html = client.get(PAGE, {"day": day.isoformat(), "product_id": 1}).content.decode()
        figures = expected_levels(rows, day, DAYS[0])
        assert shown(html) == [
            (">1", ">sh-1", *_figures(figures[(1, sh)])),
            (">1", ">bj-1", *_figures(figures[(1, bj)])),
        ]
        assert "level-on-day-total" in html


def test_a_warehouses_day_a_page_at_a_time(client_for, viewer, history, monkeypatch):
    rows, sh, _ = history
    monkeypatch.setattr(snapshots, "PAGE_SIZE", 2)
    client = client_for(viewer)
    query = {"day": DAYS[2].isoformat(), "warehouse": "sh-1"}
    first = client.get(PAGE, query).content.decode()
    second = client.get(PAGE, {**query, "page": 2}).content.decode()
    figures = expected_levels(rows, DAYS[2], DAYS[0])
    assert [line[0] for line in shown(first) + shown(second)] == [">1", ">2", ">3"]
    assert shown(second) == [(">3", ">sh-1", *_figures(figures[(3, sh)]))]
    assert "page=2" in first


@pytest.mark.parametrize(
    "query",
    [
        {"day": DAYS[0].isoformat()},
        {"day": "2026-02-30", "product_id": "1"},
        {"day": "yesterday", "warehouse": "sh-1"},
        {"day": DAYS[0].isoformat(), "product_id": "0"},
        {"day": DAYS[0].isoformat(), "product_id": "999"},
        {"day": DAYS[0].isoformat(), "warehouse": "nowhere"},
        {"day": DAYS[0].isoformat(), "warehouse": "sh-1", "page": "x"},
        *({"day": value, "product_id": value, "warehouse": value} for value in TRICKY),
    ],
)
def test_hostile_input_is_a_form_error_never_a_5xx(client_for, viewer, history, query):
    response = client_for(viewer).get(PAGE, query)
    assert response.status_code == 200
    html = response.content.decode()
    assert "errorlist" in html or query.get("page") == "x"


def test_only_staff_who_may_view_the_inventory(client_for, history):
    assert client_for(person_with("nobody")).get(PAGE, {"day": DAYS[0].isoformat(), "product_id": 1}).status_code == 403


def test_no_english_is_left_on_it_in_chinese(client_for, viewer, history):
    client = client_for(viewer)
    for query in ({}, {"day": DAYS[0].isoformat(), "product_id": 1}, {"day": DAYS[0].isoformat(), "product_id": 999}):
        response = client.get(PAGE, query, **CHINESE)
        assert response.status_code == 200
        assert english_words(response.content.decode()) - {"sh", "bj", "viewer"} == set(), (
            query
        )  # codes and names are data
