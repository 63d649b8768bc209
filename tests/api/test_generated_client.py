"""A client generated from /api/schema/ by openapi-python-client works against a live server."""

import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from inventory import services
from tests.api.conftest import make_client

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PACKAGE = "generated_inventory_client"
GENERATOR = Path(sys.executable).parent / "openapi-python-client"


@pytest.fixture
def generated(live_server, tmp_path, monkeypatch):
    """The package openapi-python-client makes of the live schema, imported."""
    schema = tmp_path / "schema.json"
    schema.write_bytes(httpx.get(f"{live_server.url}/api/schema/?format=json").raise_for_status().content)
    # Its post-generation hook runs ruff, which lives beside this Python.
    monkeypatch.setenv("PATH", f"{GENERATOR.parent}:{Path('/usr/bin')}:{Path('/bin')}")
    result = subprocess.run(
        [GENERATOR, "generate", "--path", schema, "--meta", "none", "--output-path", tmp_path / PACKAGE],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout, result.stdout
    monkeypatch.syspath_prepend(str(tmp_path))
    yield importlib.import_module(PACKAGE)
    for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
        del sys.modules[name]


def test_public_calls_need_no_credentials_and_internal_ones_a_token_prefix(generated, live_server):
    check_api = importlib.import_module(f"{PACKAGE}.api.public.inventory_check")
    reserve_api = importlib.import_module(f"{PACKAGE}.api.internal.inventory_reserve_create")
    models = importlib.import_module(f"{PACKAGE}.models")
    services.create_inventory(product_id=42, available_stock=5, actor="fixture")
    token = make_client("generated-client", "internal")

    # Typed as the schema says: a public call takes any client, an internal one an authenticated one.
    assert "client: AuthenticatedClient | Client," in inspect.getsource(check_api.sync)
    assert "client: AuthenticatedClient," in inspect.getsource(reserve_api.sync)
    anonymous = generated.Client(base_url=live_server.url)
    check = check_api.sync(client=anonymous, product_id=42)
    assert isinstance(check, models.Check)
    assert check.available_stock == 5

    line = models.ReserveOneLineRequest(order_id="G-1", product_id=42, quantity=2)
    bearer = generated.AuthenticatedClient(base_url=live_server.url, token=token)  # the generator's default
    assert reserve_api.sync_detailed(client=bearer, body=line).status_code == 401
    with_prefix = generated.AuthenticatedClient(base_url=live_server.url, token=token, prefix="Token")
    reserved = reserve_api.sync_detailed(client=with_prefix, body=line)
    assert reserved.status_code == 201
    assert reserved.parsed.reservations[0].quantity == 2
    assert check_api.sync(client=anonymous, product_id=42).available_stock == 3
