"""Production as docs/operations.md runs it: the Procfile's release and web lines under gunicorn with
DEBUG off, `check --deploy` with the recommended settings, the Content-Security-Policy on every page,
and the admin-login lockout."""

import os
import re
import secrets
import subprocess
import sys
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.urls import reverse

from benchmarks.server import procfile_web_command
from tests.api.conftest import make_client, token_client
from tests.test_quickstart import free_port, manage, quickstart_env, stop, wait_until_up
from tests.test_settings import run_django

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = ROOT / "docs" / "operations.md"


def procfile_line(process: str) -> str:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return next(line for line in lines if line.startswith(f"{process}:")).removeprefix(f"{process}:").strip()


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The quick start's clean environment (SQLite in tmp_path, no test settings) with DEBUG off."""
    return quickstart_env(
        tmp_path,
        **{
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            # The Procfile's commands (gunicorn, python) from this interpreter's virtual environment.
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            **extra,
        },
    )


def recommended_settings() -> dict[str, str]:
    """The `NAME=value` lines of the first ```sh block under "## Production settings" in docs/operations.md."""
    section = OPERATIONS.read_text().split("## Production settings", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    pairs = (line.split("=", 1) for line in block.splitlines() if "=" in line and not line.startswith("#"))
    return {name.strip(): value.strip() for name, value in pairs}


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    return manage(env, "check", "--deploy", "--fail-level", "WARNING")


# --- the Procfile --------------------------------------------------------------------


def test_release_migrates_and_collects_static_files():
    release = procfile_line("release")

    assert "manage.py migrate --no-input" in release
    assert "manage.py collectstatic --noinput" in release


def test_web_line_has_no_control_socket_and_keeps_query_strings_out_of_the_access_log():
    argv = procfile_web_command(8000)
    access_format = argv[argv.index("--access-logformat") + 1]

    assert argv[:2] == ["gunicorn", "config.wsgi"]
    assert "--no-control-socket" in argv
    assert "%(U)s" in access_format
    # %(q)s is the query string, %(r)s the request line with it, %(f)s a referrer that may carry one.
    assert not {"%(q)s", "%(r)s", "%(f)s"} & set(re.findall(r"%\(\w\)s", access_format))


# --- gunicorn with DEBUG off ---------------------------------------------------------------


def linked(html: str, pattern: str) -> str:
    """The one URL of `html` that matches `pattern` (a hashed static name)."""
    found = set(re.findall(rf"""(?:href|src)="({pattern})\"""", html))
    assert len(found) == 1, (pattern, found)
    return found.pop()


@pytest.fixture
def production_server(db, tmp_path):
    """The Procfile's release, then its web process on a free loopback port; yields (base url, log, home).

    They run on the test database (`db` makes sure it exists), which the release finds migrated."""
    database = connection.settings_dict
    env = production_env(
        tmp_path,
        DATABASE_URL=f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
        # gunicorn's default control socket lives under $HOME: here it would show.
        HOME=str(tmp_path),
    )
    release = subprocess.run(
        ["bash", "-c", procfile_line("release")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert release.returncode == 0, release.stdout + release.stderr
    assert (tmp_path / "static" / "staticfiles.json").exists()

    port = free_port()
    log = tmp_path / "web.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            procfile_web_command(port, workers=2),
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base_url, server, log)
        yield base_url, log, tmp_path
    finally:
        stop(server)


@pytest.mark.slow
def test_gunicorn_with_debug_off_serves_the_admin_and_docs_assets(production_server):
    base_url, log, home = production_server
    with httpx.Client(base_url=base_url, timeout=10) as http:
        login = http.get("/admin/login/")
        assert login.status_code == 200
        base_css = linked(login.text, r"/static/admin/css/base\.[0-9a-f]{12}\.css")
        css = http.get(base_css, headers={"Accept-Encoding": "gzip"})
        assert css.status_code == 200
        assert css.headers["content-type"].startswith("text/css")
        assert css.headers["content-encoding"] == "gzip"
        assert "immutable" in css.headers["cache-control"]
        assert http.get("/static/admin/css/base.css").status_code == 200

        docs = http.get("/api/docs/")
        assert docs.status_code == 200
        bundle = linked(
            docs.text, r"/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle\.[0-9a-f]{12}\.js"
        )
        assert http.get(bundle).status_code == 200
        assert http.get(linked(docs.text, r"/static/inventory/swagger_ui\.[0-9a-f]{12}\.css")).status_code == 200
        assert http.get(linked(docs.text, r"/api/docs/\?script=")).status_code == 200
        for page in (login, docs):
            assert "script-src 'self'" in page.headers["content-security-policy"]
            assert page.headers["x-content-type-options"] == "nosniff"

        assert http.get("/healthz?token=do-not-log-me").status_code == 200

    assert not (home / ".gunicorn").exists(), "gunicorn made a control socket"
    access_log = log.read_text()
    assert '"GET /healthz HTTP/1.1" 200' in access_log
    assert "do-not-log-me" not in access_log


# --- check --deploy ----------------------------------------------------------------------


def test_check_deploy_is_clean_with_the_recommended_settings(tmp_path):
    settings_of_the_docs = {**recommended_settings(), "DJANGO_SECRET_KEY": secrets.token_urlsafe(50)}

    result = check_deploy(production_env(tmp_path, **settings_of_the_docs))

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_without_them(tmp_path):
    result = check_deploy(production_env(tmp_path))

    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr


PRINT_SECURITY = (
    "from django.conf import settings as s; "
    "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
    "s.SECURE_PROXY_SSL_HEADER, s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME)"
)


def test_https_flags_stay_off_by_default():
    result = run_django(PRINT_SECURITY, DJANGO_SECRET_KEY="k")

    assert result.stdout.split() == ["False", "False", "False", "0", "None", "5", "0:15:00"]


def test_each_security_setting_comes_from_the_environment():
    result = run_django(
        PRINT_SECURITY,
        DJANGO_SECRET_KEY="k",
        DJANGO_SECURE_SSL_REDIRECT="1",
        DJANGO_SESSION_COOKIE_SECURE="1",
        DJANGO_CSRF_COOKIE_SECURE="1",
        DJANGO_SECURE_HSTS_SECONDS="3600",
        DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto",
        DJANGO_LOGIN_FAILURE_LIMIT="3",
        DJANGO_LOGIN_COOLOFF_MINUTES="60",
    )

    assert result.stdout.strip() == "True True True 3600 ('HTTP_X_FORWARDED_PROTO', 'https') 3 1:00:00"


# --- the Content-Security-Policy -------------------------------------------------------------


class InlineCode(HTMLParser):
    """Collects what a policy without 'unsafe-inline' would block: inline scripts, <style>
    elements, style="" attributes and on* handlers."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "script" and "src" not in names and names.get("type") != "application/json":
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        self.found += [f"{tag}[{name}]" for name in names if name == "style" or name.startswith("on")]


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


@pytest.fixture
def admin_pages(admin_client, make_item):
    item = make_item(available_stock=1, low_stock_threshold=5)
    return {
        "dashboard": reverse("admin:inventory_dashboard"),
        "item page": reverse("admin:inventory_inventory_change", args=[item.pk]) + f"?product={item.product_id}",
        "inventory list": reverse("admin:inventory_inventory_changelist"),
        "log": reverse("admin:inventory_inventorylog_changelist"),
        "reservations": reverse("admin:inventory_reservation_changelist"),
        "index": reverse("admin:index"),
    }


def assert_strict_policy(response) -> None:
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_the_login_page_and_the_docs_carry_the_policy_and_need_no_inline_code(client):
    for path in ("/admin/login/", "/api/docs/"):
        response = client.get(path)
        assert response.status_code == 200
        assert_strict_policy(response)
        assert inline_code(response.content.decode()) == [], path


def test_an_api_answer_carries_the_load_nothing_policy(client):
    response = client.get("/healthz")

    assert response.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_admin_pages_carry_the_policy_and_need_no_inline_code(admin_client, admin_pages):
    for name, path in admin_pages.items():
        response = admin_client.get(path)
        assert response.status_code == 200, name
        assert_strict_policy(response)
        assert inline_code(response.content.decode()) == [], name


def test_the_stock_chart_is_drawn_on_the_item_page(admin_client, admin_pages):
    assert "<svg" in admin_client.get(admin_pages["item page"]).content.decode()


# --- the admin-login lockout (django-axes) --------------------------------------------------

PASSWORD = "the-right-password-7"


@pytest.fixture
def warehouse_lead(db) -> User:
    return User.objects.create_user("lead", password=PASSWORD, is_staff=True, is_superuser=True)


def log_in(client, password: str, address: str = "10.0.0.1"):
    return client.post("/admin/login/", {"username": "lead", "password": password}, REMOTE_ADDR=address)


def signed_in(client) -> bool:
    return client.get("/admin/").status_code == 200


def fail_five_times(client) -> None:
    """Wrong passwords up to the limit: the form again with its error, then the lockout's 429."""
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, "wrong").status_code == 200
    assert log_in(client, "wrong").status_code == 429


def test_after_five_wrong_passwords_the_right_one_is_refused(client, warehouse_lead):
    fail_five_times(client)

    sixth = log_in(client, PASSWORD)

    assert sixth.status_code == 429
    assert not signed_in(client)


def test_the_lockout_is_per_username_and_address(client, warehouse_lead):
    fail_five_times(client)

    assert log_in(client, PASSWORD, address="10.0.0.2").status_code == 302
    assert signed_in(client)


def test_the_lockout_ends_after_the_cool_off(client, warehouse_lead):
    from axes.models import AccessAttempt  # here, so that the rest of the module runs without django-axes

    fail_five_times(client)
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16))

    assert log_in(client, PASSWORD).status_code == 302


def test_a_locked_out_address_keeps_its_api_tokens(client, warehouse_lead):
    fail_five_times(client)
    log_in(client, PASSWORD)
    api = token_client(make_client("order-app", "internal"))

    assert api.get("/api/v1/inventory/reservations", REMOTE_ADDR="10.0.0.1").status_code == 200


def test_behind_a_proxy_the_lockout_keys_on_the_forwarded_address(client, warehouse_lead, settings):
    """With INVENTORY_NUM_PROXIES set, the address is the proxy's X-Forwarded-For entry, not the proxy's own."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}

    def from_client(address: str, password: str):
        return client.post(
            "/admin/login/",
            {"username": "lead", "password": password},
            REMOTE_ADDR="10.0.0.254",
            HTTP_X_FORWARDED_FOR=address,
        )

    for _ in range(settings.AXES_FAILURE_LIMIT):
        from_client("203.0.113.7", "wrong")

    assert from_client("203.0.113.7", PASSWORD).status_code == 429
    assert from_client("198.51.100.2", PASSWORD).status_code == 302
