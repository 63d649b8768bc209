"""The API clients screen: a token shown once, rotation, revocation, the hash shown nowhere, permissions."""

import re

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.urls import reverse

from inventory import services
from inventory.models import ApiClient
from tests.api.conftest import API, token_client

CHANGELIST = reverse("admin:inventory_apiclient_changelist")
ADD = reverse("admin:inventory_apiclient_add")
RESERVATIONS = f"{API}/inventory/reservations"
TOKEN_RE = re.compile(r'<code id="new-token">([^<]+)</code>')


def change_url(client: ApiClient, name: str = "change") -> str:
    return reverse(f"admin:inventory_apiclient_{name}", args=[client.pk])


def shown_token(response) -> str:
    """The token on the page, checking it is there exactly once with its warning."""
    html = response.content.decode()
    tokens = TOKEN_RE.findall(html)
    assert len(tokens) == 1, html
    assert html.count(tokens[0]) == 1
    assert "it will not be shown again" in html
    return tokens[0]


def admin_with(username: str, *codenames: str):
    from tests.admin.conftest import _user

    user = _user(username)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


@pytest.fixture
def keeper(db):
    """Staff who may see, add and change API clients, and nothing else."""
    return admin_with("keeper", "view_apiclient", "add_apiclient", "change_apiclient")


@pytest.fixture
def order_app(db) -> ApiClient:
    return services.create_api_client(name="order-app", role="internal").client


def test_create_shows_the_token_once_and_it_authenticates(client_for, keeper):
    client = client_for(keeper)
    assert client.get(ADD).status_code == 200

    response = client.post(ADD, {"name": "order-app", "role": "internal"})

    assert response.status_code == 200
    token = shown_token(response)
    created = ApiClient.objects.get(name="order-app")
    assert (created.role, created.is_active, created.user.username) == ("internal", True, "api-client.order-app")
    assert not created.user.has_usable_password()
    assert token_client(token).get(RESERVATIONS).status_code == 200
    # Nowhere else: not in the messages (the session or a cookie), not on the client's page.
    assert not list(response.wsgi_request._messages)
    follow_up = client.get(change_url(created)).content.decode()
    assert token not in follow_up
    assert token not in str(client.session.items())
    entry = LogEntry.objects.get(object_id=str(created.pk))
    assert (entry.action_flag, entry.user, token in entry.change_message) == (ADDITION, keeper, False)


def test_a_staff_client_gets_the_staff_permissions(client_for, keeper, item):
    token = shown_token(client_for(keeper).post(ADD, {"name": "stock-tool", "role": "staff"}))
    product = item(available_stock=3)
    listed = token_client(token).get(f"{API}/inventory").json()["results"]
    assert [row["product_id"] for row in listed] == [product.product_id]
    assert token_client(token).post(f"{API}/inventory/cleanup-expired").status_code == 403  # internal only


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "bad name", "role": "internal"}, "name"),
        ({"name": "x" * 101, "role": "internal"}, "name"),
        ({"name": "", "role": "internal"}, "name"),
        ({"name": "ok", "role": "root"}, "role"),
        ({"name": "order-app", "role": "staff"}, "name"),  # taken
    ],
)
def test_the_add_form_refuses_bad_input(client_for, keeper, order_app, data, field):
    response = client_for(keeper).post(ADD, data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert "new-token" not in response.content.decode()
    assert ApiClient.objects.count() == 1


def test_rotate_asks_first_then_shows_the_new_token_and_the_old_one_stops(client_for, keeper):
    old = services.create_api_client(name="order-app", role="internal")
    client = client_for(keeper)
    page = client.get(change_url(old.client)).content.decode()
    assert f'href="{change_url(old.client, "rotate")}"' in page

    confirm = client.get(change_url(old.client, "rotate"))
    assert confirm.status_code == 200
    assert token_client(old.token).get(RESERVATIONS).status_code == 200  # a GET changes nothing

    new = shown_token(client.post(change_url(old.client, "rotate")))

    assert new != old.token
    assert token_client(old.token).get(RESERVATIONS).status_code == 401
    assert token_client(new).get(RESERVATIONS).status_code == 200
    rotated = ApiClient.objects.get()
    assert rotated.rotated_at > rotated.created_at
    assert LogEntry.objects.get(action_flag=CHANGE).get_change_message() == "Rotated the token."


def test_revoke_makes_the_token_401_and_reactivate_brings_it_back(client_for, keeper):
    issued = services.create_api_client(name="order-app", role="internal")
    client = client_for(keeper)

    response = client.post(change_url(issued.client, "revoke"), follow=True)

    assert "API client order-app: Revoked." in response.content.decode()
    assert f'href="{change_url(issued.client, "reactivate")}"' in response.content.decode()
    assert token_client(issued.token).get(RESERVATIONS).status_code == 401
    client.post(change_url(issued.client, "reactivate"))
    assert token_client(issued.token).get(RESERVATIONS).status_code == 200
    assert [entry.get_change_message() for entry in LogEntry.objects.order_by("id")] == ["Revoked.", "Reactivated."]


def test_the_hash_is_on_no_page(client_for, superuser):
    client = client_for(superuser)
    created = client.post(ADD, {"name": "order-app", "role": "internal"})
    api_client = ApiClient.objects.get()
    rotated = client.post(change_url(api_client, "rotate"))
    api_client.refresh_from_db()
    pages = [created, rotated, client.post(change_url(api_client, "revoke"), follow=True)]
    pages += [
        client.get(url)
        for url in (
            CHANGELIST,
            f"{CHANGELIST}?q=order",
            f"{CHANGELIST}?role__exact=internal&is_active__exact=0",
            change_url(api_client),
            change_url(api_client, "history"),
            change_url(api_client, "rotate"),
            reverse("admin:index"),
        )
    ]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        assert api_client.token_hash not in html
        assert api_client.token_hash[:16] not in html
    listed = pages[3].content.decode()
    assert f"{api_client.token_prefix}…" in listed
    assert "api-client.order-app" in listed


def test_the_hash_cannot_be_filtered_on(client_for, superuser, order_app):
    response = client_for(superuser).get(f"{CHANGELIST}?token_hash__startswith={order_app.token_hash[:2]}")
    assert response.status_code == 400


def test_the_list_filters_and_searches(client_for, keeper, order_app):
    services.create_api_client(name="stock-tool", role="staff")
    services.revoke_api_client(client_id=order_app.pk)
    client = client_for(keeper)

    def listed(**query):
        return {c.name for c in client.get(CHANGELIST, query).context["cl"].result_list}

    assert listed() == {"order-app", "stock-tool"}
    assert listed(role__exact="staff") == {"stock-tool"}
    assert listed(is_active__exact="0") == {"order-app"}
    assert listed(q="STOCK") == {"stock-tool"}


def test_the_client_page_edits_nothing(client_for, superuser, order_app):
    client = client_for(superuser)
    assert client.post(change_url(order_app), {"name": "other", "role": "staff"}).status_code == 403
    assert client.post(change_url(order_app, "delete")).status_code == 403
    order_app.refresh_from_db()
    assert (order_app.name, order_app.role) == ("order-app", "internal")


def test_staff_without_the_permissions_get_403(client_for, staff, order_app):
    client = client_for(staff)
    for url in (CHANGELIST, ADD, change_url(order_app), change_url(order_app, "rotate")):
        assert client.get(url).status_code == 403
    for url in (ADD, change_url(order_app, "rotate"), change_url(order_app, "revoke")):
        assert client.post(url, {"name": "sneaky", "role": "internal"}).status_code == 403
    order_app.refresh_from_db()
    assert (ApiClient.objects.count(), order_app.is_active, order_app.rotated_at) == (1, True, order_app.created_at)


def test_view_permission_only_sees_and_changes_nothing(client_for, order_app):
    client = client_for(admin_with("auditor", "view_apiclient"))
    assert client.get(CHANGELIST).status_code == 200
    page = client.get(change_url(order_app)).content.decode()
    assert change_url(order_app, "rotate") not in page
    assert client.get(ADD).status_code == 403
    assert client.post(change_url(order_app, "revoke")).status_code == 403
    order_app.refresh_from_db()
    assert order_app.is_active


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("q=%00", 200),  # Django's search form drops a term with a NUL
        ("q=" + "x" * 101, 200),
        ("role__exact=%00", 400),
        ("name=order%00", 400),
        ("is_active__exact=x", 302),  # Django's answer to a filter it cannot apply
    ],
)
def test_a_malformed_list_query_is_no_500(client_for, superuser, order_app, query, status):
    response = client_for(superuser).get(f"{CHANGELIST}?{query}")
    assert response.status_code == status
    if query.startswith("q=x"):
        assert list(response.context["cl"].result_list) == []


@pytest.mark.parametrize("name", ["change", "rotate", "revoke", "history"])
def test_malformed_page_parameters_are_no_500(client_for, superuser, order_app, name):
    client = client_for(superuser)
    for query in ("_to_field=", "_to_field=token_hash", "_popup=1&_to_field=%00"):
        response = client.get(f"{change_url(order_app, name)}?{query}")
        assert response.status_code < 500, (query, response.status_code)
        assert order_app.token_hash not in response.content.decode()
