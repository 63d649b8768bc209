"""The log admin (view-only for everybody) and the reservations admin."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from inventory import services
from inventory.models import InventoryLog, Reservation

LOG_LIST = reverse("admin:inventory_inventorylog_changelist")
RESERVATION_LIST = reverse("admin:inventory_reservation_changelist")


@pytest.fixture
def ordered(item):
    """Two products, one order holding both, and a restock by a named person."""
    first, second = item(10), item(10)
    services.reserve_stock(
        order_id="ORD-7",
        lines=[services.ReservationLine(first.product_id, 2), services.ReservationLine(second.product_id, 1)],
        actor="shop",
        ttl_seconds=7200,
    )
    services.restock(product_id=first.product_id, quantity=4, actor="alice")
    return first, second


def listed_log(response) -> list[tuple]:
    return [(entry.product_id, entry.operation, entry.actor) for entry in response.context["cl"].result_list]


def test_the_log_is_view_only_even_for_a_superuser(client_for, superuser, ordered):
    client = client_for(superuser)
    entry = InventoryLog.objects.filter(product_id=ordered[0].product_id).first()
    change_url = reverse("admin:inventory_inventorylog_change", args=[entry.pk])

    page = client.get(change_url)

    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.post(change_url, {"quantity": 999, "actor": "x"}).status_code == 403
    assert client.get(reverse("admin:inventory_inventorylog_add")).status_code == 403
    assert (
        client.post(reverse("admin:inventory_inventorylog_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    )
    bulk = client.post(LOG_LIST, {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"})
    assert bulk.status_code in (200, 302)
    entry.refresh_from_db()
    assert (entry.quantity, entry.actor) != (999, "x")
    assert InventoryLog.objects.filter(pk=entry.pk).exists()


def test_log_filters_and_search(client_for, staff, ordered):
    first, second = ordered
    client = client_for(staff)
    assert listed_log(client.get(LOG_LIST, {"operation__exact": "restock"})) == [(first.product_id, "restock", "alice")]
    assert listed_log(client.get(LOG_LIST, {"actor": "alice"})) == [(first.product_id, "restock", "alice")]
    assert {row[1] for row in listed_log(client.get(LOG_LIST, {"q": "ORD-7"}))} == {"reserve"}
    assert {row[0] for row in listed_log(client.get(LOG_LIST, {"q": str(second.product_id)}))} == {second.product_id}
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    dated = client.get(LOG_LIST, {"created_at__gte": str(today), "created_at__lt": str(today + timedelta(days=1))})
    assert len(dated.context["cl"].result_list) == 5
    assert 'name="actor"' in client.get(LOG_LIST).content.decode()  # the actor filter is a text box


def test_reservation_filters_and_search(client_for, staff, ordered):
    first, _ = ordered
    services.release_reservations(order_id="ORD-7", product_id=first.product_id, actor="shop")
    client = client_for(staff)

    def listed(**query):
        return {(r.order_id, r.product_id) for r in client.get(RESERVATION_LIST, query).context["cl"].result_list}

    assert listed(status__exact="active") == {("ORD-7", ordered[1].product_id)}
    assert listed(status__exact="cancelled") == {("ORD-7", first.product_id)}
    assert len(listed(q="ORD-7")) == 2
    assert listed(q="ORD-8") == set()
    assert len(listed(expiry="later")) == 2
    assert listed(expiry="overdue") == set()


def test_release_action_asks_first(client_for, manager, ordered):
    first, second = ordered
    services.release_reservations(order_id="ORD-7", product_id=second.product_id, actor="shop")
    selected = [str(r.pk) for r in Reservation.objects.filter(order_id="ORD-7")]
    client = client_for(manager)

    response = client.post(RESERVATION_LIST, {"action": "release_selected", "_selected_action": selected})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Release 1 active reservation?" in html
    assert "1 of the selected are not active and stay as they are." in html
    assert f"<td>ORD-7</td><td>{first.product_id}</td>" in html
    assert sorted(re.findall(r'name="_selected_action" value="(\d+)"', html)) == sorted(selected)
    assert 'name="post" value="yes"' in html
    assert Reservation.objects.filter(status="active").count() == 1  # nothing released yet


def test_release_action_goes_through_the_service(client_for, manager, ordered):
    first, _ = ordered
    held = Reservation.objects.filter(order_id="ORD-7")
    client = client_for(manager)

    response = client.post(
        RESERVATION_LIST,
        {"action": "release_selected", "_selected_action": [r.pk for r in held], "post": "yes"},
        follow=True,
    )

    assert "Released 2 reservation(s); 0 were not active." in response.content.decode()
    assert set(held.values_list("status", flat=True)) == {"cancelled"}
    first.refresh_from_db()
    assert (first.available_stock, first.reserved_stock) == (14, 0)
    assert InventoryLog.objects.filter(operation="release", actor="manager").count() == 2


def test_staff_without_the_permission_cannot_release(client_for, staff, ordered):
    client = client_for(staff)
    assert "release_selected" not in client.get(RESERVATION_LIST).content.decode()
    held = Reservation.objects.filter(order_id="ORD-7")
    client.post(
        RESERVATION_LIST, {"action": "release_selected", "_selected_action": [r.pk for r in held], "post": "yes"}
    )
    assert set(held.values_list("status", flat=True)) == {"active"}


def test_reservations_are_not_edited_in_the_admin(client_for, superuser, ordered):
    reservation = Reservation.objects.filter(order_id="ORD-7").first()
    client = client_for(superuser)
    change_url = reverse("admin:inventory_reservation_change", args=[reservation.pk])
    assert client.post(change_url, {"status": "cancelled"}).status_code == 403
    assert client.get(reverse("admin:inventory_reservation_add")).status_code == 403
    reservation.refresh_from_db()
    assert reservation.status == "active"
