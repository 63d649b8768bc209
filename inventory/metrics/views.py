"""GET /metrics: the Prometheus text format, for a scraper holding METRICS_TOKEN (docs/monitoring.md).

Who may read it:
- METRICS_TOKEN set: only a request with `Authorization: Bearer <token>` (compared in constant
  time); any other gets 401 with a `WWW-Authenticate` challenge.
- no token and DEBUG on (`make run`): anyone, so a developer can look.
- no token and DEBUG off: 404, as if there were no such page. Production never shows its
  figures by accident; turning metrics on is setting the token.

With PROMETHEUS_MULTIPROC_DIR the counters are the sum of every process's files (gunicorn
workers, Celery children); without it, this process's own registry.
"""

import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector

from inventory.metrics import multiprocess_dir
from inventory.metrics.collector import DatabaseFigures


class _Scrape:
    """What one scrape shows: the counters (every process's, or this one's) and the database's figures."""

    def __init__(self) -> None:
        path = multiprocess_dir()
        self.counted = MultiProcessCollector(None, path=path) if path else REGISTRY
        self.figures = DatabaseFigures()

    def collect(self):
        yield from self.counted.collect()
        yield from self.figures.collect()


def metrics(request: HttpRequest) -> HttpResponse:
    # Who may see the page comes first: a refused caller learns nothing, not even its methods.
    token = settings.METRICS_TOKEN
    if not token and not settings.DEBUG:
        raise Http404
    if token and not _bears(request, token):
        response = HttpResponse("A bearer token is required.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    response = HttpResponse(generate_latest(_Scrape()), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response


def _bears(request: HttpRequest, token: str) -> bool:
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    # compare_digest takes as long whatever the first differing byte: the token cannot be guessed piecewise.
    return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode())
