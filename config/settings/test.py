"""Test settings: the real PostgreSQL and Redis of the machine unless told otherwise."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/inventory")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")

from config.settings.base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Connections are shared with the threads of the concurrency tests; keep none open
# between tests so that the test database can be dropped.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# The suite renders pages without running collectstatic first: plain names, no manifest.
# tests/test_production.py runs collectstatic and the manifest storage under gunicorn.
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# ... and so no STATIC_ROOT for WhiteNoise to scan at start-up: it looks files up per request.
WHITENOISE_AUTOREFRESH = True
# A physical replica holds every database of the primary, the test database too: the alias reads
# that database (a test mirror) and Django makes none for it. Only tests/test_replica.py sends
# reads there: the rest of the suite writes through the ORM in a transaction the replica never sees.
if "replica" in DATABASES:  # noqa: F405
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}  # noqa: F405
    DATABASES["replica"]["CONN_MAX_AGE"] = 0  # noqa: F405
INVENTORY_REPLICA_READS = False
