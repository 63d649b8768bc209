"""Settings come from the environment, with safe defaults (checked in fresh processes)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRINT_DATABASE = "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'], settings.DEBUG)"


def run_django(code: str, **environment: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_"))}
    env.update(environment, DJANGO_SETTINGS_MODULE="config.settings.base")
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_without_debug_a_secret_key_is_required():
    result = run_django(PRINT_DATABASE)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


def test_debug_is_off_unless_set_and_sqlite_is_the_default_database():
    result = run_django(PRINT_DATABASE, DJANGO_SECRET_KEY="k")

    assert result.stdout.split() == ["django.db.backends.sqlite3", "False"]


def test_database_url_selects_postgresql():
    result = run_django(PRINT_DATABASE, DJANGO_DEBUG="1", DATABASE_URL="postgres://postgres@127.0.0.1:5432/x")

    assert result.stdout.split() == ["django.db.backends.postgresql", "True"]


PRINT_REPLICA = (
    "from django.conf import settings; replica = settings.DATABASES.get('replica');"
    " print(replica and (replica['PORT'], replica['NAME']), getattr(settings, 'DATABASE_ROUTERS', []))"
)


def test_without_a_replica_url_there_is_no_replica_and_no_router():
    result = run_django(PRINT_REPLICA, DJANGO_DEBUG="1", DATABASE_URL="postgres://postgres@127.0.0.1:5432/shop")

    assert result.stdout.split() == ["None", "[]"]


def test_the_replica_reads_the_database_that_database_url_names():
    result = run_django(
        PRINT_REPLICA,
        DJANGO_DEBUG="1",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/shop",
        DATABASE_REPLICA_URL="postgres://postgres@127.0.0.1:5433/other",
    )

    assert result.stdout.strip() == "(5433, 'shop') ['inventory.replica.ReplicaRouter']", result.stderr
