"""A bug in an API view answers the contract's JSON `server_error` body, in DEBUG too, and is logged."""

import logging

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

CHECK = "/api/v1/inventory/check/42"


@pytest.fixture
def broken_check(monkeypatch):
    def fail(**kwargs):
        raise RuntimeError("a bug in the selector")

    monkeypatch.setattr("inventory.selectors.check_product", fail)


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "production"])
def test_an_unhandled_exception_answers_the_json_error_body(broken_check, settings, caplog, debug):
    settings.DEBUG = debug

    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = Client(raise_request_exception=False).get(CHECK, HTTP_ACCEPT="application/json")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "server_error"
    tracebacks = [record for record in caplog.records if record.exc_info]
    assert len(tracebacks) == 1
    assert "a bug in the selector" in str(tracebacks[0].exc_info[1])


def test_in_debug_a_browser_asking_for_html_gets_the_json_body_too(broken_check, settings):
    settings.DEBUG = True

    response = Client(raise_request_exception=False).get(CHECK, HTTP_ACCEPT="text/html,*/*;q=0.8")

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"
