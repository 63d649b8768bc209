"""Print, as JSON, the SQL statements that one API request issues, BEGIN and COMMIT included.

Run in a process configured for a benchmark database (benchmarks.settings):
    python -m benchmarks.capture_sql METHOD PATH JSON_BODY_OR_- TOKEN

The request goes through the whole Django stack (middleware, token authentication,
view, service) with CaptureQueriesContext recording every statement as it was sent
(parameters interpolated). Used for pgbench's replay of a reserve, the query count
of the batch check and the EXPLAIN of the back-office pages.
"""

import json
import subprocess
import sys

from benchmarks.data import ROOT


def captured_sql(env: dict[str, str], method: str, path: str, body: dict | None, token: str) -> dict:
    """`{"status", "statements"}` of one request, captured in a Django process of its own."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.capture_sql", method, path, json.dumps(body) if body else "-", token],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def capture(method: str, path: str, body: str, token: str) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from inventory.models import Warehouse
    from inventory.selectors.warehouses import warehouse_code

    # What a server process reads once and keeps (the warehouses' codes, which answers name) is read
    # before the capture: what is captured is what every later request sends.
    warehouse_code(Warehouse.objects.values_list("id", flat=True).first())
    client = Client(SERVER_NAME="127.0.0.1", HTTP_AUTHORIZATION=f"Token {token}")
    with CaptureQueriesContext(connection) as captured:
        if method == "GET":
            response = client.get(path)
        else:
            response = client.generic(method, path, body, content_type="application/json")
    return {"status": response.status_code, "statements": [query["sql"] for query in captured.captured_queries]}


def main() -> None:
    import django

    django.setup()
    method, path, body, token = sys.argv[1:5]
    json.dump(capture(method, path, "" if body == "-" else body, token), sys.stdout)


if __name__ == "__main__":
    main()
