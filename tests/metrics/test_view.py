"""Who may read /metrics: the bearer of METRICS_TOKEN; with no token, nobody unless DEBUG is on."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.metrics.conftest import TOKEN

pytestmark = pytest.mark.django_db


def test_the_token_opens_it_in_the_prometheus_text_format(client, metrics_token):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {metrics_token}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert response["Cache-Control"] == "no-store"
    names = {family.name for family in text_string_to_metric_families(response.content.decode())}
    assert {"inventory_database_figures_up", "inventory_oversold_rows", "inventory_expiry_lag_seconds"} <= names
    # No `_created` series beside the counters: they would double the series.
    assert b"_created" not in response.content


@pytest.mark.parametrize(
    "authorization",
    [None, "", f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN, "Bearer "],
)
def test_anything_but_the_token_is_refused(client, metrics_token, authorization):
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    response = client.get("/metrics", **headers)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"inventory_" not in response.content


def test_without_a_token_it_does_not_exist_in_production(client, settings):
    settings.METRICS_TOKEN = ""
    settings.DEBUG = False

    assert client.get("/metrics").status_code == 404


def test_without_a_token_it_is_open_with_debug_on(client, settings):
    settings.METRICS_TOKEN = ""
    settings.DEBUG = True

    response = client.get("/metrics")
    assert response.status_code == 200
    assert b"inventory_database_figures_up 1.0" in response.content


def test_only_get_is_answered_and_only_to_the_token(client, metrics_token, settings):
    assert client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {metrics_token}").status_code == 405
    assert client.post("/metrics").status_code == 401
    settings.METRICS_TOKEN = ""
    settings.DEBUG = False
    assert client.post("/metrics").status_code == 404
