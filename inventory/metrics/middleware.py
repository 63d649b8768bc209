"""Counts and times every request by the name of the route it resolved to (inventory/metrics/definitions.py).

First in MIDDLEWARE, so the time is the whole of Django's. The route's name (`view_name`, with its
namespace) and not the path: /api/v1/inventory/1 and /api/v1/inventory/2 are one series, and a
path that resolves to nothing (a scan for /wp-admin, a static file WhiteNoise served before any
resolving) is "unresolved", so no client can add series.
"""

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from inventory.metrics.definitions import REQUEST_DURATION, REQUESTS

UNRESOLVED = "unresolved"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        match = request.resolver_match
        route = match.view_name if match is not None else UNRESOLVED
        method = request.method if request.method in _METHODS else "other"
        REQUESTS.labels(route, method, f"{response.status_code // 100}xx").inc()
        REQUEST_DURATION.labels(route, method).observe(elapsed)
        return response
