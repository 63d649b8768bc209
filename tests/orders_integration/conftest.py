from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import F

from inventory.models import Reservation


def create_api_client(name: str, role: str) -> str:
    out = StringIO()
    call_command("create_api_client", name, "--role", role, stdout=out)
    return out.getvalue().strip()


@pytest.fixture
def internal_token(transactional_db) -> str:
    return create_api_client("order-app", "internal")


def make_overdue(order_id: str) -> None:
    """Move an order's holds a day into the past, as if the order had been abandoned."""
    Reservation.objects.filter(order_id=order_id).update(expires_at=F("expires_at") - timedelta(days=1))
