import pytest


@pytest.fixture
def actor() -> str:
    return "tester"
