"""Retries, timeouts and error mapping of InventoryClient, over real sockets.

A small scripted HTTP server stands in for failures the real server cannot be
made to produce on demand (a 503, a 429, a stall, a closed port); the contract's
behaviour is tested against the real server in test_client_live.py.
"""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from orders_integration import client as inventory_client
from orders_integration.client import InventoryClient, Line


class ScriptedServer(ThreadingHTTPServer):
    """Answers each request with the next (status, headers, body) of its script."""

    daemon_threads = True

    def __init__(self, script):
        super().__init__(("127.0.0.1", 0), ScriptedHandler)
        self.script = list(script)
        self.requests = []

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"


class ScriptedHandler(BaseHTTPRequestHandler):
    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests.append((self.command, self.path, dict(self.headers), body))
        status, headers, payload = self.server.script.pop(0)
        if status == "stall":
            threading.Event().wait(payload)
            return
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def serve():
    servers = []

    def start(*script):
        server = ScriptedServer(script)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


class Waits(list):
    """Stands in for time.sleep: records each wait instead of sleeping."""

    def __call__(self, seconds):
        self.append(seconds)


CHECK = {"product_id": 42, "available_stock": 3, "in_stock": True, "is_low_stock": True, "sufficient": True}


def error(code, **details):
    return {"error": {"code": code, "message": f"{code} happened", "details": details}}


@pytest.fixture
def make_client():
    clients = []

    def make(url, waits, **options):
        clients.append(InventoryClient(url, "secret-token", sleep=waits, **{"retries": 3, "backoff": 0.1, **options}))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


def test_sends_the_token_and_reads_the_answer(serve, make_client):
    server = serve((200, {}, CHECK))

    check = make_client(server.url, Waits()).check(42, quantity=2)

    assert check == inventory_client.StockCheck(42, 3, True, True, True)
    method, path, headers, _ = server.requests[0]
    assert (method, path) == ("GET", "/api/v1/inventory/check/42?quantity=2")
    assert headers["Authorization"] == "Token secret-token"


def test_retries_5xx_with_growing_jittered_waits(serve, make_client):
    server = serve((503, {}, b"busy"), (502, {}, b"bad gateway"), (500, {}, error("server_error")), (200, {}, CHECK))
    waits = Waits()

    assert make_client(server.url, waits).check(42).available_stock == 3

    assert len(server.requests) == 4
    assert len(waits) == 3
    for attempt, wait in enumerate(waits):
        assert 0 <= wait <= 0.1 * 2**attempt


def test_gives_up_after_the_last_retry_with_a_server_error(serve, make_client):
    server = serve(*[(503, {}, b"busy")] * 3)

    with pytest.raises(inventory_client.ServerError) as failure:
        make_client(server.url, Waits(), retries=2).check(42)

    assert failure.value.status == 503
    assert len(server.requests) == 3


def test_waits_what_retry_after_says_on_429(serve, make_client):
    server = serve((429, {"Retry-After": "7"}, error("throttled")), (200, {}, CHECK))
    waits = Waits()

    make_client(server.url, waits).check(42)

    assert waits == [7.0]


def test_a_retry_after_too_long_to_wait_raises_throttled_at_once(serve, make_client):
    server = serve((429, {"Retry-After": "120"}, error("throttled")))

    with pytest.raises(inventory_client.Throttled) as throttled:
        make_client(server.url, Waits(), max_retry_after=60).check(42)

    assert throttled.value.retry_after == 120.0
    assert len(server.requests) == 1


def test_retries_a_timed_out_attempt(serve, make_client):
    server = serve(("stall", {}, 2.0), (200, {}, CHECK))
    waits = Waits()

    assert make_client(server.url, waits, timeout=0.2).check(42).product_id == 42

    assert len(server.requests) == 2
    assert len(waits) == 1


def test_a_server_that_cannot_be_reached_raises_unavailable(make_client):
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    waits = Waits()

    with pytest.raises(inventory_client.InventoryUnavailable):
        make_client(f"http://127.0.0.1:{port}", waits, retries=2).check(42)

    assert len(waits) == 2


def test_a_repeated_reserve_sends_the_same_request(serve, make_client):
    body = {"order_id": "A-1", "reservations": []}
    server = serve((502, {}, b""), (200, {}, body))

    result = make_client(server.url, Waits()).reserve_order("A-1", [Line(42, 2)], ttl_seconds=60)

    assert result.created is False
    sent = [json.loads(request[3]) for request in server.requests]
    assert sent == [{"order_id": "A-1", "items": [{"product_id": 42, "quantity": 2}], "ttl_seconds": 60}] * 2


def test_sends_the_routing_it_is_given_and_nothing_else(serve, make_client):
    body = {"order_id": "A-1", "reservations": []}
    server = serve(*[(201, {}, body)] * 3)
    client = make_client(server.url, Waits())

    client.reserve("A-1", 42, 2, pool="cn", ship_to=inventory_client.ShipTo(latitude=31.2, longitude=121.5))
    client.reserve_order("A-1", [Line(42, 2)], ship_to=inventory_client.ShipTo(region="east"), split=False)
    client.reserve("A-1", 42, 2)

    sent = [json.loads(request[3]) for request in server.requests]
    assert sent == [
        {
            "order_id": "A-1",
            "product_id": 42,
            "quantity": 2,
            "pool": "cn",
            "ship_to": {"latitude": 31.2, "longitude": 121.5},
        },
        {
            "order_id": "A-1",
            "items": [{"product_id": 42, "quantity": 2}],
            "split": False,
            "ship_to": {"region": "east"},
        },
        {"order_id": "A-1", "product_id": 42, "quantity": 2},
    ]


def test_a_pool_check_sends_the_pool(serve, make_client):
    server = serve((200, {}, CHECK), (200, {}, {"all_available": True, "items": []}))
    client = make_client(server.url, Waits())

    client.check(42, pool="cn")
    client.check_batch([Line(42, 1)], pool="cn")

    assert server.requests[0][1] == "/api/v1/inventory/check/42?quantity=1&pool=cn"
    assert json.loads(server.requests[1][3]) == {"items": [{"product_id": 42, "quantity": 1}], "pool": "cn"}


def test_the_parts_of_a_split_line_come_back_by_product(serve, make_client):
    def part(reservation_id, product_id, warehouse, quantity):
        stamp = "2026-01-01T00:00:00Z"
        return {
            "id": reservation_id,
            "order_id": "A-1",
            "product_id": product_id,
            "warehouse": warehouse,
            "quantity": quantity,
            "status": "active",
            "reacquired": False,
            "expires_at": stamp,
            "created_at": stamp,
            "updated_at": stamp,
        }

    body = {"order_id": "A-1", "reservations": [part(1, 7, "sh-1", 1), part(2, 42, "bj-1", 2), part(3, 42, "sh-1", 1)]}
    server = serve((201, {}, body))

    held = make_client(server.url, Waits()).reserve_order("A-1", [Line(7, 1), Line(42, 3)])

    assert held.created is True
    assert {
        product_id: [(r.warehouse, r.quantity) for r in parts] for product_id, parts in held.by_product().items()
    } == {
        7: [("sh-1", 1)],
        42: [("bj-1", 2), ("sh-1", 1)],
    }


@pytest.mark.parametrize(
    ("status", "code", "exception"),
    [
        (400, "validation_error", inventory_client.ValidationError),
        (401, "not_authenticated", inventory_client.NotAuthenticated),
        (403, "permission_denied", inventory_client.PermissionDenied),
        (404, "product_not_found", inventory_client.ProductNotFound),
        (404, "reservation_not_found", inventory_client.ReservationNotFound),
        (404, "pool_not_found", inventory_client.PoolNotFound),
        (409, "reservation_exists", inventory_client.ReservationExists),
        (409, "reservation_not_active", inventory_client.ReservationNotActive),
        (409, "some_future_conflict", inventory_client.Conflict),
    ],
)
def test_error_answers_are_raised_by_code_and_not_retried(serve, status, code, exception, make_client):
    server = serve((status, {}, error(code, order_id="A-1")))

    with pytest.raises(exception) as raised:
        make_client(server.url, Waits()).deduct("A-1")

    assert (raised.value.status, raised.value.details) == (status, {"order_id": "A-1"})
    assert raised.value.message == f"{code} happened"
    assert isinstance(raised.value, inventory_client.InventoryAPIError)
    assert len(server.requests) == 1


def test_insufficient_stock_carries_the_short_lines(serve, make_client):
    items = [{"product_id": 42, "requested": 5, "available": 2}]
    server = serve((409, {}, error("insufficient_stock", items=items)))

    with pytest.raises(inventory_client.InsufficientStock) as short:
        make_client(server.url, Waits()).reserve("A-1", 42, 5)

    assert short.value.short_lines == (inventory_client.ShortLine(42, 5, 2),)
