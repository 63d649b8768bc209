"""The restock, adjust and threshold form pages of an item, and who may use them."""

import pytest
from django.urls import reverse

from inventory import services
from inventory.models import Inventory, InventoryLog


def url(name: str, item: Inventory) -> str:
    return reverse(f"admin:inventory_inventory_{name}", args=[item.pk])


def last_entry(item: Inventory) -> InventoryLog:
    return InventoryLog.objects.filter(product_id=item.product_id).order_by("-id").first()


def test_restock_through_the_form_logs_the_staff_member(client_for, staff, item):
    product = item(available_stock=3)
    client = client_for(staff)
    assert client.get(url("restock", product)).status_code == 200

    response = client.post(url("restock", product), {"quantity": 7, "reason": "delivery", "reference": "PO-9"})

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:inventory_inventory_change", args=[product.pk])
    product.refresh_from_db()
    assert product.available_stock == 10
    entry = last_entry(product)
    assert (entry.operation, entry.quantity, entry.actor, entry.reason, entry.reference) == (
        "restock",
        7,
        "staffer",
        "delivery",
        "PO-9",
    )


@pytest.mark.parametrize("quantity", ["0", "-3", "x", ""])
def test_restock_refuses_a_quantity_that_is_not_positive(client_for, staff, item, quantity):
    product = item(available_stock=3)
    response = client_for(staff).post(url("restock", product), {"quantity": quantity})
    assert response.status_code == 200
    assert response.context["form"].errors["quantity"]
    product.refresh_from_db()
    assert (product.available_stock, product.version) == (3, 1)


def test_adjust_by_a_delta(client_for, manager, item):
    product = item(available_stock=10)
    response = client_for(manager).post(
        url("adjust", product), {"delta": -4, "reason": "broken", "version": product.version}
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.available_stock == 6
    assert (last_entry(product).operation, last_entry(product).quantity, last_entry(product).actor) == (
        "adjust",
        -4,
        "manager",
    )


def test_adjust_to_a_counted_quantity(client_for, manager, item):
    product = item(available_stock=10)
    response = client_for(manager).post(
        url("adjust", product), {"counted": 13, "reason": "stock-take", "version": product.version}
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.available_stock == 13
    assert last_entry(product).quantity == 3


def test_adjust_below_zero_is_a_form_error_and_changes_nothing(client_for, manager, item):
    product = item(available_stock=2)
    response = client_for(manager).post(
        url("adjust", product), {"delta": -5, "reason": "lost", "version": product.version}
    )
    assert response.status_code == 200
    assert "would leave -3 available" in response.context["form"].errors["delta"][0]
    product.refresh_from_db()
    assert (product.available_stock, product.version) == (2, 1)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"delta": 1}, "reason"),
        ({"delta": 1, "counted": 4, "reason": "r"}, "__all__"),
        ({"reason": "r"}, "__all__"),
        ({"delta": "1.5", "reason": "r"}, "delta"),  # a delta of 0 is taken: test_stock_pages
        ({"counted": -1, "reason": "r"}, "counted"),
    ],
)
def test_adjust_form_validation(client_for, manager, item, data, field):
    product = item(available_stock=2)
    response = client_for(manager).post(url("adjust", product), {**data, "version": product.version})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    product.refresh_from_db()
    assert product.version == 1


def test_adjust_after_someone_else_changed_the_item_overwrites_nothing(client_for, manager, item):
    product = item(available_stock=10)
    seen_version = product.version
    services.restock(product_id=product.product_id, quantity=5, actor="someone-else")

    response = client_for(manager).post(
        url("adjust", product), {"counted": 8, "reason": "count", "version": seen_version}
    )

    assert response.status_code == 200
    assert "changed this item while you were looking" in response.content.decode()
    product.refresh_from_db()
    assert product.available_stock == 15
    # The page now carries the current version, so the person can submit again after checking.
    assert response.context["form"]["version"].value() == str(product.version)
    again = client_for(manager).post(
        url("adjust", product), {"counted": 8, "reason": "count", "version": product.version}
    )
    assert again.status_code == 302
    product.refresh_from_db()
    assert product.available_stock == 8


def test_threshold_form_and_its_version_check(client_for, manager, item):
    product = item(available_stock=10, low_stock_threshold=5)
    client = client_for(manager)
    response = client.post(url("threshold", product), {"low_stock_threshold": 12, "version": product.version})
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.low_stock_threshold, product.is_low_stock) == (12, True)
    assert last_entry(product).operation == "threshold"

    stale = client.post(url("threshold", product), {"low_stock_threshold": 1, "version": 1})
    assert stale.status_code == 200
    assert stale.context["form"].non_field_errors()
    product.refresh_from_db()
    assert product.low_stock_threshold == 12


@pytest.mark.parametrize(
    ("user_fixture", "allowed"),
    [
        ("viewer", set()),
        ("staff", {"restock"}),
        ("manager", {"restock", "adjust", "threshold"}),
        ("superuser", {"restock", "adjust", "threshold"}),
    ],
)
def test_buttons_and_form_pages_follow_the_permissions(request, client_for, item, user_fixture, allowed):
    product = item(available_stock=5)
    client = client_for(request.getfixturevalue(user_fixture))
    page = client.get(reverse("admin:inventory_inventory_change", args=[product.pk])).content.decode()
    posts = {
        "restock": {"quantity": 1},
        "adjust": {"delta": -1, "reason": "r", "version": 1},
        "threshold": {"low_stock_threshold": 1, "version": 1},
    }
    for name, data in posts.items():
        assert (f'href="{url(name, product)}"' in page) == (name in allowed)
        expected = (200, 302) if name in allowed else (403, 403)
        assert client.get(url(name, product)).status_code == expected[0]
        if name not in allowed:
            assert client.post(url(name, product), data).status_code == 403
    product.refresh_from_db()
    assert product.version == 1


def test_a_form_page_of_an_unknown_item_redirects(client_for, manager):
    response = client_for(manager).get(reverse("admin:inventory_inventory_restock", args=[999_999_999]))
    assert response.status_code == 302
