import pytest
from django.db import DatabaseError


def test_healthz_answers_without_the_database(client):
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_readyz_answers_while_the_database_does(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["database"] == "ok"


@pytest.mark.django_db
def test_readyz_fails_when_the_database_does_not_answer(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr("django.db.backends.utils.CursorWrapper.execute", refuse)

    assert client.get("/readyz").status_code == 503
