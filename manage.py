#!/usr/bin/env python
"""Django's command-line utility for administrative tasks.

It reads `.env` beside it when there is one (`make run` writes it on a development
checkout, with DJANGO_DEBUG=1); the process environment wins over the file. A
configuration error is one line on stderr, not a traceback (`--traceback` shows it).
See docs/quickstart.md.
"""

import os
import sys
from pathlib import Path

ENV_FILE = Path(__file__).resolve().parent / ".env"


def main() -> None:
    if ENV_FILE.is_file():
        import environ

        environ.Env.read_env(ENV_FILE)  # never overrides a variable already set
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as error:
        if "--traceback" in sys.argv:
            raise
        sys.exit(f"manage.py: {error} For development, run `make run` once (it writes .env) or see docs/quickstart.md.")


if __name__ == "__main__":
    main()
