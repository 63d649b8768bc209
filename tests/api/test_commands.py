"""create_api_client: prints only the token, stores its hash, rotates."""

import hashlib

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIRequestFactory

from inventory.api.authentication import ApiClientTokenAuthentication
from inventory.models.api_clients import ApiClient
from tests.api.conftest import API, token_client

pytestmark = pytest.mark.django_db


def create(capsys, *args):
    call_command("create_api_client", *args)
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    return out.strip()


def test_prints_only_the_token_and_stores_its_hash(capsys):
    token = create(capsys, "order-app", "--role", "internal")
    assert " " not in token
    assert len(token) > 30
    client = ApiClient.objects.get(name="order-app")
    assert client.role == "internal"
    assert client.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(list(ApiClient.objects.values()))
    assert not client.user.is_staff
    assert not client.user.has_usable_password()


def test_rotation_replaces_the_token(capsys):
    old = create(capsys, "order-app", "--role", "internal")
    new = create(capsys, "order-app", "--role", "internal")
    assert old != new
    assert ApiClient.objects.count() == 1
    assert token_client(old).post(f"{API}/inventory/cleanup-expired").status_code == 401
    assert token_client(new).post(f"{API}/inventory/cleanup-expired").status_code == 200


def test_order_service_is_the_internal_role(capsys):
    create(capsys, "orders", "--role", "order-service")
    assert ApiClient.objects.get().role == "internal"


@pytest.mark.usefixtures("store")
def test_a_deactivated_client_is_refused(capsys):
    token = create(capsys, "order-app", "--role", "internal")
    ApiClient.objects.update(is_active=False)
    assert token_client(token).post(f"{API}/inventory/cleanup-expired").status_code == 401


@pytest.mark.usefixtures("store")
def test_a_client_of_a_deactivated_user_or_an_unknown_token_is_refused(capsys):
    token = create(capsys, "order-app", "--role", "internal")
    assert token_client(token + "x").post(f"{API}/inventory/cleanup-expired").status_code == 401
    get_user_model().objects.update(is_active=False)
    assert token_client(token).post(f"{API}/inventory/cleanup-expired").status_code == 401


@pytest.mark.usefixtures("store")
def test_the_token_is_looked_up_by_its_hash_without_ordering(capsys):
    token = create(capsys, "order-app", "--role", "internal")
    with CaptureQueriesContext(connection) as queries:
        assert token_client(token).post(f"{API}/inventory/cleanup-expired").status_code == 200
    lookup = next(query["sql"] for query in queries if "token_hash" in query["sql"])
    assert "ORDER BY" not in lookup.upper()


@pytest.mark.usefixtures("store")
def test_a_good_token_acts_as_its_client_and_user(capsys):
    token = create(capsys, "order-app", "--role", "internal")
    client = ApiClient.objects.get()
    request = APIRequestFactory().post("/", HTTP_AUTHORIZATION=f"Token {token}")
    user, auth = ApiClientTokenAuthentication().authenticate(request)
    assert (auth.pk, auth.name, auth.role, user.pk, user.username) == (
        client.pk,
        "order-app",
        "internal",
        client.user.pk,
        client.user.username,
    )


def test_bad_arguments():
    with pytest.raises(CommandError):
        call_command("create_api_client", "bad name", "--role", "staff")
    with pytest.raises(CommandError):
        call_command("create_api_client", "x", "--role", "staff", "--user", "nobody")
    with pytest.raises(CommandError):
        call_command("create_api_client", "x", "--role", "internal", "--user", "nobody")
