"""/readyz names the database, Redis and the broker apart; only the database decides the status code.

Redis is made really unreachable: the settings point the cache and the broker at a
closed port, and Django opens a fresh cache connection for the new settings.
"""

import socket

import pytest
from django.db import DatabaseError

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_redis_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens there once the probe socket is closed.
    return f"redis://127.0.0.1:{port}/0"


def redis_cache(url: str) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


def test_everything_up_is_ok(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok", "broker": "ok"}


def test_redis_down_is_degraded_but_ready(client, settings, closed_redis_url):
    settings.REDIS_URL = settings.CELERY_BROKER_URL = closed_redis_url
    settings.CACHES = redis_cache(closed_redis_url)

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "ok", "redis": "unreachable", "broker": "unreachable"}


def test_a_broker_of_its_own_is_checked_on_its_own(client, settings, closed_redis_url):
    settings.CELERY_BROKER_URL = closed_redis_url

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "ok", "redis": "ok", "broker": "unreachable"}


def test_without_redis_the_quick_start_is_ok(client, settings, tmp_path):
    settings.REDIS_URL = ""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.CELERY_BROKER_URL = "filesystem://localhost//"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path)}

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "not configured", "broker": "ok"}


def test_a_missing_filesystem_queue_is_an_unreachable_broker(client, settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://localhost//"
    missing = str(tmp_path / "gone")
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": missing, "data_folder_out": missing}

    assert client.get("/readyz").json()["broker"] == "unreachable"


def test_database_down_is_unavailable_whatever_redis_says(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr("django.db.backends.utils.CursorWrapper.execute", refuse)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["database"] == "unreachable"
    assert response.json()["redis"] == "ok"
