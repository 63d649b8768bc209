"""Count sheets through the real URL conf: blind counting, the roles (counters count, managers
approve and post), strict input, refusals that change nothing, idempotent repeats."""

import pytest
from rest_framework.test import APIClient

from inventory import services
from inventory.models import CountSheet, InventoryLog, Warehouse
from tests.api.conftest import API, error_code, staff_user

pytestmark = pytest.mark.django_db
SHEETS = f"{API}/count-sheets"
COUNTER_PERMS = ("view_countsheet", "count_countsheet")
MANAGER_PERMS = (*COUNTER_PERMS, "approve_countsheet")


def logged_in(username: str, perms) -> APIClient:
    client = APIClient()
    client.force_login(staff_user(username, perms))
    return client


@pytest.fixture
def counter(db) -> APIClient:
    return logged_in("counter", COUNTER_PERMS)


@pytest.fixture
def manager(db) -> APIClient:
    return logged_in("manager", MANAGER_PERMS)


@pytest.fixture
def goods(product):
    Warehouse.objects.create(code="sh-1", priority=1)
    for product_id, stock in ((42, 10), (43, 5)):
        product(product_id, 0)
        services.restock(product_id=product_id, quantity=stock, actor="fixture", warehouse="sh-1")


def open_sheet(client, **changes):
    body = {"warehouse": "sh-1", "product_ids": [42, 43], "tolerance_units": 1, **changes}
    return client.post(SHEETS, body, format="json")


def count(client, sheet_id: int, product_id: int, counted, **headers):
    return client.post(
        f"{SHEETS}/{sheet_id}/counts", {"product_id": product_id, "counted": counted}, format="json", headers=headers
    )


def lines_of(answer) -> dict[int, dict]:
    return {line["product_id"]: line for line in answer.json()["lines"]}


def test_a_blind_count_from_open_to_posted(goods, counter, manager):
    opened = open_sheet(counter)
    assert opened.status_code == 201, opened.json()
    sheet_id = opened.json()["id"]
    assert (opened.json()["kind"], opened.json()["blind"], opened.json()["status"]) == ("list", True, "open")
    assert opened.json()["tolerance_percent"] is None

    counted = count(counter, sheet_id, 42, 7)
    assert counted.status_code == 200
    assert (counted.json()["counted"], counted.json()["expected"], counted.json()["variance"]) == (7, None, None)
    assert count(counter, sheet_id, 43, 5).status_code == 200
    # The counter sees no expected figure while the sheet is open; the manager does.
    assert lines_of(counter.get(f"{SHEETS}/{sheet_id}"))[42]["expected"] is None
    seen = lines_of(manager.get(f"{SHEETS}/{sheet_id}"))
    assert (seen[42]["expected"], seen[42]["variance"], seen[42]["within_tolerance"]) == (10, -3, False)
    assert (seen[43]["variance"], seen[43]["within_tolerance"]) == (0, True)

    refused = manager.post(f"{SHEETS}/{sheet_id}/post")
    assert (refused.status_code, error_code(refused)) == (409, "count_needs_approval")
    assert refused.json()["error"]["details"]["product_ids"] == [42]
    approved = manager.post(f"{SHEETS}/{sheet_id}/approve", {"product_ids": [42]}, format="json")
    assert approved.status_code == 200
    assert lines_of(approved)[42]["approved_by"] == "manager"
    posted = manager.post(f"{SHEETS}/{sheet_id}/post")

    assert posted.status_code == 200
    assert posted.json()["status"] == "posted"
    entry = InventoryLog.objects.get(pk=lines_of(posted)[42]["adjustment_id"])
    assert (entry.quantity, entry.reference, entry.warehouse.code) == (-3, f"count:{sheet_id}", "sh-1")
    assert lines_of(posted)[43]["adjustment_id"] is None
    # Posted: the counter sees the figures now.
    assert lines_of(counter.get(f"{SHEETS}/{sheet_id}"))[42]["expected"] == 10
    report = manager.get(f"{SHEETS}/{sheet_id}/report").json()
    assert (report["lost"], report["gained"], report["net"], report["counted"]) == (3, 0, -3, 2)
    accuracy = counter.get(f"{SHEETS}/accuracy", {"warehouse": "sh-1"}).json()
    assert accuracy["by_sheet"] == [{"sheet_id": sheet_id, "lines": 2, "within": 1, "share": "0.5000"}]


def test_a_full_sheet_and_a_percent_tolerance(goods, counter, manager):
    body = {"warehouse": "sh-1", "tolerance_percent": "20.5"}
    opened = counter.post(SHEETS, body, format="json")

    assert opened.status_code == 201, opened.json()
    assert (opened.json()["kind"], opened.json()["tolerance_percent"]) == ("full", "20.50")
    assert sorted(lines_of(opened)) == [42, 43]
    count(counter, opened.json()["id"], 42, 8)
    # 2 of 10 is within 20.5 %.
    assert lines_of(manager.get(f"{SHEETS}/{opened.json()['id']}"))[42]["within_tolerance"] is True


def test_posting_twice_and_replayed_keys_change_nothing(goods, counter, manager):
    sheet_id = open_sheet(counter, tolerance_units=100).json()["id"]
    first = count(counter, sheet_id, 42, 12, **{"Idempotency-Key": "c-1"})
    again = count(counter, sheet_id, 42, 12, **{"Idempotency-Key": "c-1"})
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    count(counter, sheet_id, 43, 5)
    posted = manager.post(f"{SHEETS}/{sheet_id}/post", {"reason": "year end"}, format="json")
    assert InventoryLog.objects.get(reference=f"count:{sheet_id}").reason == f"count sheet {sheet_id}: year end"
    entries = InventoryLog.objects.count()

    second = manager.post(f"{SHEETS}/{sheet_id}/post")

    assert second.status_code == 200
    assert second.json() == posted.json()
    assert InventoryLog.objects.count() == entries
    refused = count(counter, sheet_id, 42, 1)
    assert (refused.status_code, error_code(refused)) == (409, "count_sheet_not_open")


def test_a_post_that_would_go_negative_posts_nothing(goods, counter, manager):
    sheet_id = open_sheet(counter, tolerance_units=100).json()["id"]
    count(counter, sheet_id, 42, 0)
    count(counter, sheet_id, 43, 6)
    services.reserve_stock(
        order_id="O-1", lines=[services.ReservationLine(42, 4)], actor="shop", routing=services.Routing(pool="all")
    )
    entries = InventoryLog.objects.count()

    refused = manager.post(f"{SHEETS}/{sheet_id}/post")

    assert (refused.status_code, error_code(refused)) == (409, "count_would_go_negative")
    assert refused.json()["error"]["details"]["lines"] == [{"product_id": 42, "available_stock": 6, "delta": -10}]
    assert InventoryLog.objects.count() == entries
    assert CountSheet.objects.get(pk=sheet_id).status == "open"


@pytest.mark.parametrize(
    "changes",
    [
        {"product_ids": [42, 42]},
        {"product_ids": []},
        {"product_ids": "42"},
        {"tolerance_percent": "101"},
        {"tolerance_percent": "NaN"},
        {"tolerance_percent": 5},
        {"tolerance_percent": "-1"},
        {"tolerance_percent": "1.005"},
        {"tolerance_units": 1.5},
        {"blind": "yes"},
        {"kind": "list"},
        {"warehouse": "SH 1"},
    ],
)
def test_a_malformed_sheet_is_a_400_and_opens_nothing(goods, counter, changes):
    answer = open_sheet(counter, **changes)
    assert (answer.status_code, error_code(answer)) == (400, "validation_error")
    assert not CountSheet.objects.exists()


@pytest.mark.parametrize("counted", [-1, "3", 2.0, None, True, 1_000_000_001])
def test_a_malformed_count_is_a_400(goods, counter, counted):
    sheet_id = open_sheet(counter).json()["id"]
    answer = count(counter, sheet_id, 42, counted)
    assert (answer.status_code, error_code(answer)) == (400, "validation_error")
    assert CountSheet.objects.get(pk=sheet_id).lines.filter(counted__isnull=False).count() == 0


def test_unknown_things_are_404s(goods, counter):
    sheet_id = open_sheet(counter, product_ids=[42]).json()["id"]
    answers = {
        "sheet": counter.get(f"{SHEETS}/{sheet_id + 100}"),
        "line": count(counter, sheet_id, 43, 1),
        "warehouse": open_sheet(counter, warehouse="nowhere"),
        "product": open_sheet(counter, product_ids=[999]),
        "filter": counter.get(SHEETS, {"warehouse": "nowhere"}),
    }
    assert {name: (a.status_code, error_code(a)) for name, a in answers.items()} == {
        "sheet": (404, "count_sheet_not_found"),
        "line": (404, "count_line_not_found"),
        "warehouse": (404, "warehouse_not_found"),
        "product": (404, "product_not_found"),
        "filter": (404, "warehouse_not_found"),
    }
    assert counter.get(f"{SHEETS}/abc").status_code == 400


def test_the_roles(goods, counter, staff_no_perm, anon):
    sheet_id = open_sheet(counter).json()["id"]
    assert anon.get(SHEETS).status_code == 401
    assert staff_no_perm.get(SHEETS).status_code == 403
    assert open_sheet(staff_no_perm).status_code == 403
    for step in ("post", "cancel", "approve"):
        assert counter.post(f"{SHEETS}/{sheet_id}/{step}", {"product_ids": [42]}, format="json").status_code == 403
    assert counter.get(f"{SHEETS}/{sheet_id}/report").status_code == 403
    assert CountSheet.objects.get(pk=sheet_id).status == "open"


def test_the_list_pages_and_filters(goods, counter, manager):
    first = open_sheet(counter).json()["id"]
    second = open_sheet(counter).json()["id"]
    manager.post(f"{SHEETS}/{first}/cancel")

    listed = counter.get(SHEETS).json()
    assert [sheet["id"] for sheet in listed["results"]] == [second, first]
    assert listed["count"] == 2
    cancelled = counter.get(SHEETS, {"status": "cancelled"}).json()["results"]
    assert [sheet["id"] for sheet in cancelled] == [first]
    assert counter.get(SHEETS, {"status": "posted", "warehouse": "sh-1"}).json()["results"] == []


def test_a_cycle_sheet_is_proposed_once(goods, counter):
    proposed = counter.post(f"{SHEETS}/cycle", {"warehouse": "sh-1"}, format="json")
    assert proposed.status_code == 201, proposed.json()
    assert proposed.json()["sheet"]["kind"] == "cycle"
    assert sorted(line["product_id"] for line in proposed.json()["sheet"]["lines"]) == [42, 43]

    nothing = counter.post(f"{SHEETS}/cycle", {"warehouse": "sh-1"}, format="json", headers={"Idempotency-Key": "k"})
    assert (nothing.status_code, nothing.json()) == (200, {"sheet": None})
    replayed = counter.post(f"{SHEETS}/cycle", {"warehouse": "sh-1"}, format="json", headers={"Idempotency-Key": "k"})
    assert (replayed.status_code, replayed.headers["Idempotent-Replayed"]) == (200, "true")
    assert CountSheet.objects.count() == 1
