"""Scrapes of /metrics through the real URL conf, parsed by prometheus-client's own parser."""

from collections.abc import Mapping

import pytest
from prometheus_client.parser import text_string_to_metric_families

from inventory.metrics.collector import turnover_of

TOKEN = "metrics-token-of-the-tests-0123456789"
Samples = Mapping[tuple[str, frozenset], float]


@pytest.fixture
def metrics_token(settings) -> str:
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


@pytest.fixture(autouse=True)
def _fresh_turnover():
    """The turnover is kept per day and process: each test reads its own database's."""
    turnover_of.cache_clear()
    yield
    turnover_of.cache_clear()


@pytest.fixture
def scrape(client, metrics_token):
    """GET /metrics with the token; the samples by (name, labels)."""

    def read() -> Samples:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {metrics_token}")
        assert response.status_code == 200, response.content
        return parse(response.content.decode())

    return read


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """A sample's value; 0 for a series not shown yet (a counter no process has counted)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)
