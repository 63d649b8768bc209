"""A typed client of the inventory API for the order application.

    with InventoryClient("https://inventory.internal", token) as inventory:
        inventory.reserve_order("A-1001", [Line(42, 2), Line(7, 1)], pool="cn", ship_to=ShipTo(region="east"))
        inventory.deduct("A-1001")

Every call has a timeout. Connection errors, timeouts, 5xx and 429 answers are
retried with exponential backoff and full jitter (a 429's `Retry-After` is waited
for instead). Retrying is safe because every call is idempotent: reads change
nothing, and reserve, release and deduct are keyed by the order id, so a repeat
answers the first answer again. Error answers of the contract are raised as the
exceptions below, all subclasses of `InventoryAPIError`.

This module needs only httpx, not Django: the order application can vendor it.
"""

import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx

API_PREFIX = "/api/v1"
MAX_PAGE_SIZE = 200
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})


# --- Results ---------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One line of an order: how many units of which product.

    `quota` draws on that quota first (a campaign's units set aside); `backorder` lets
    the units the shelf lacks be sold ahead on the product's open pre-sale. Left at
    their defaults they are not sent.
    """

    product_id: int
    quantity: int
    quota: str | None = None
    backorder: bool = False

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"product_id": self.product_id, "quantity": self.quantity}
        if self.quota is not None:
            body["quota"] = self.quota
        if self.backorder:
            body["backorder"] = True
        return body


@dataclass(frozen=True)
class ShipTo:
    """Where an order goes, for a pool that routes by distance (`nearest`): any of the three."""

    region: str | None = None
    latitude: float | None = None
    longitude: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {field.name: value for field in fields(self) if (value := getattr(self, field.name)) is not None}


@dataclass(frozen=True)
class StockCheck:
    product_id: int
    available_stock: int
    in_stock: bool
    is_low_stock: bool
    sufficient: bool


@dataclass(frozen=True)
class BatchCheckItem:
    product_id: int
    quantity: int
    found: bool
    available_stock: int
    sufficient: bool


@dataclass(frozen=True)
class BatchCheck:
    all_available: bool
    items: tuple[BatchCheckItem, ...]


@dataclass(frozen=True)
class Reservation:
    id: int
    order_id: str
    product_id: int
    # The code of the warehouse the units are held in. A line split over several
    # warehouses is several reservations of its product, one per warehouse.
    warehouse: str
    quantity: int
    status: str  # active, confirmed, cancelled or expired
    reacquired: bool
    expires_at: datetime
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "Reservation":
        return cls(
            id=body["id"],
            order_id=body["order_id"],
            product_id=body["product_id"],
            warehouse=body["warehouse"],
            quantity=body["quantity"],
            status=body["status"],
            reacquired=body["reacquired"],
            expires_at=datetime.fromisoformat(body["expires_at"]),
            created_at=datetime.fromisoformat(body["created_at"]),
            updated_at=datetime.fromisoformat(body["updated_at"]),
        )


@dataclass(frozen=True)
class SoldAhead:
    """Units of a line sold ahead of stock on a pre-sale, as a reserve answers them."""

    product_id: int
    warehouse: str
    presale: str
    quantity: int
    filled: int
    status: str  # open, filled or cancelled
    expected_date: date | None  # when the pre-sale's purchase order expects the goods

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "SoldAhead":
        return _from_json(cls, {**body, "expected_date": _date_or_none(body["expected_date"])})


@dataclass(frozen=True)
class OrderReservations:
    order_id: str
    reservations: tuple[Reservation, ...]
    # True when a reserve held anything new (201); False for a repeat (200) and for
    # release and deduct.
    created: bool = False
    # A reserve with a line that may backorder: the order's units sold ahead, in request order.
    backorders: tuple[SoldAhead, ...] = ()

    @classmethod
    def from_json(cls, body: Mapping[str, Any], *, created: bool = False) -> "OrderReservations":
        return cls(
            order_id=body["order_id"],
            reservations=tuple(Reservation.from_json(item) for item in body["reservations"]),
            created=created,
            backorders=tuple(SoldAhead.from_json(item) for item in body.get("backorders", ())),
        )

    def by_product(self) -> dict[int, tuple[Reservation, ...]]:
        """The reservations of each product: one, or one per warehouse for a split line."""
        grouped: dict[int, list[Reservation]] = {}
        for reservation in self.reservations:
            grouped.setdefault(reservation.product_id, []).append(reservation)
        return {product_id: tuple(parts) for product_id, parts in grouped.items()}


@dataclass(frozen=True)
class Batch:
    """Units of a backorder shipped when goods arrived."""

    quantity: int
    reference: str  # the arrival: `po:<id>`, `transfer:<id>`, a restock's reference
    reason: str
    created_at: datetime


@dataclass(frozen=True)
class OrderLine:
    """What an order has of one product in one warehouse: held, and sold ahead of stock."""

    product_id: int
    warehouse: str
    held: int
    hold_status: str | None
    backordered: int
    filled: int
    cancelled: int
    outstanding: int
    backorder_status: str | None
    presale: str | None
    expected_date: date | None
    batches: tuple[Batch, ...]

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "OrderLine":
        batches = tuple(
            _from_json(Batch, {**item, "created_at": datetime.fromisoformat(item["created_at"])})
            for item in body["batches"]
        )
        return _from_json(cls, {**body, "expected_date": _date_or_none(body["expected_date"]), "batches": batches})


@dataclass(frozen=True)
class OrderLines:
    order_id: str
    lines: tuple[OrderLine, ...]  # by product, then warehouse

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "OrderLines":
        return cls(order_id=body["order_id"], lines=tuple(OrderLine.from_json(item) for item in body["lines"]))


@dataclass(frozen=True)
class ShortLine:
    product_id: int
    requested: int
    available: int


# --- Errors ----------------------------------------------------------------------


class InventoryAPIError(Exception):
    """An error answer of the API, or no answer at all (`InventoryUnavailable`)."""

    code = "inventory_api_error"

    def __init__(self, message: str, *, status: int | None = None, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.details = dict(details or {})


class InventoryUnavailable(InventoryAPIError):
    """The server could not be reached, or kept failing, after every retry."""

    code = "unavailable"


class ServerError(InventoryAPIError):
    code = "server_error"


class ValidationError(InventoryAPIError):
    code = "validation_error"


class NotAuthenticated(InventoryAPIError):
    code = "not_authenticated"


class PermissionDenied(InventoryAPIError):
    code = "permission_denied"


class NotFound(InventoryAPIError):
    code = "not_found"


class ProductNotFound(NotFound):
    code = "product_not_found"


class ReservationNotFound(NotFound):
    code = "reservation_not_found"


class BackorderNotFound(NotFound):
    """The order has no backorder (of that product) to cancel."""

    code = "backorder_not_found"


class PoolNotFound(NotFound):
    """A reserve or a check named a pool the server does not have."""

    code = "pool_not_found"


class Conflict(InventoryAPIError):
    code = "conflict"


class _ShortLinesConflict(Conflict):
    @property
    def short_lines(self) -> tuple[ShortLine, ...]:
        return tuple(_from_json(ShortLine, item) for item in self.details.get("items", []))


class InsufficientStock(_ShortLinesConflict):
    """Nothing was reserved; `short_lines` says which lines were short and by how much."""

    code = "insufficient_stock"


class ReservationExpired(_ShortLinesConflict):
    """A late payment found the expired holds' units gone: refund the order."""

    code = "reservation_expired"


class AlreadyExists(Conflict):
    code = "already_exists"


class VersionConflict(Conflict):
    code = "version_conflict"


class ReservationExists(Conflict):
    code = "reservation_exists"


class ReservationNotActive(Conflict):
    code = "reservation_not_active"


class StockWouldGoNegative(Conflict):
    code = "stock_would_go_negative"


class IdempotencyKeyReused(InventoryAPIError):
    code = "idempotency_key_reused"


class Throttled(InventoryAPIError):
    code = "throttled"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


_ERRORS_BY_CODE: dict[str, type[InventoryAPIError]] = {
    error.code: error
    for error in (
        ValidationError,
        NotAuthenticated,
        PermissionDenied,
        NotFound,
        ProductNotFound,
        ReservationNotFound,
        BackorderNotFound,
        PoolNotFound,
        InsufficientStock,
        ReservationExpired,
        AlreadyExists,
        VersionConflict,
        ReservationExists,
        ReservationNotActive,
        StockWouldGoNegative,
        IdempotencyKeyReused,
    )
}


# --- The client ------------------------------------------------------------------


class InventoryClient:
    """The inventory API as the order application uses it.

    `base_url` is the server's root (`https://inventory.internal`); `token` the
    key that `manage.py create_api_client NAME --role internal` printed.
    `timeout` bounds each attempt, `retries` is how many times a failed attempt is
    repeated, and the n-th wait is a random time up to `backoff * 2**n`, at most
    `max_backoff`. A `Retry-After` longer than `max_retry_after` is not waited for:
    `Throttled` is raised at once.
    """

    # Lists are read in pages of this many (the server serves at most 200).
    page_size = MAX_PAGE_SIZE

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 5.0,
        retries: int = 3,
        backoff: float = 0.1,
        max_backoff: float = 5.0,
        max_retry_after: float = 60.0,
        max_connections: int = 100,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + API_PREFIX,
            headers={"Authorization": f"Token {token}", "Accept": "application/json"},
            timeout=timeout,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        )

    def __enter__(self) -> "InventoryClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --- Public endpoints -------------------------------------------------------

    def check(self, product_id: int, quantity: int = 1, *, pool: str | None = None) -> StockCheck:
        """Whether `quantity` units of one product are available now (in `pool`'s warehouses; default all)."""
        params: dict[str, Any] = {"quantity": quantity}
        if pool is not None:
            params["pool"] = pool
        body = self._call("GET", f"/inventory/check/{product_id}", params=params).json()
        return _from_json(StockCheck, body)

    def check_batch(self, lines: Iterable[Line], *, pool: str | None = None) -> BatchCheck:
        """The same for up to 200 lines in one call; unknown products come back `found=False`."""
        # Only what a check reads: a line's quota and backorder are for reserves.
        payload: dict[str, Any] = {"items": [{"product_id": i.product_id, "quantity": i.quantity} for i in lines]}
        if pool is not None:
            payload["pool"] = pool
        body = self._call("POST", "/inventory/check/batch", json=payload).json()
        return BatchCheck(
            all_available=body["all_available"], items=tuple(_from_json(BatchCheckItem, item) for item in body["items"])
        )

    # --- Internal endpoints -----------------------------------------------------

    def reserve(
        self,
        order_id: str,
        product_id: int,
        quantity: int,
        *,
        ttl_seconds: int | None = None,
        pool: str | None = None,
        ship_to: ShipTo | None = None,
        split: bool | None = None,
        customer_tier: str | None = None,
        quota: str | None = None,
        backorder: bool = False,
    ) -> OrderReservations:
        """Hold one line for an order; see `reserve_order` and `Line`."""
        payload = {"order_id": order_id, **Line(product_id, quantity, quota=quota, backorder=backorder).to_json()}
        return self._reserve(
            payload, ttl_seconds=ttl_seconds, pool=pool, ship_to=ship_to, split=split, customer_tier=customer_tier
        )

    def reserve_order(
        self,
        order_id: str,
        lines: Iterable[Line],
        *,
        ttl_seconds: int | None = None,
        pool: str | None = None,
        ship_to: ShipTo | None = None,
        split: bool | None = None,
        customer_tier: str | None = None,
    ) -> OrderReservations:
        """Hold every line of an order, or none (`InsufficientStock` lists the short lines).

        `pool` names the warehouses that may hold the lines (the server's default:
        `all`), `ship_to` is where the order goes (a `nearest` pool tries the closest
        warehouse first). A line no single warehouse can hold whole is split over
        several, one reservation each, unless `split=False` (then it is short).
        `customer_tier` lets each line draw first on an open quota of that tier for
        its product (a campaign's units set aside). Options left as None are not
        sent: the server's defaults apply. A line with `backorder=True` may sell
        what the shelf lacks ahead on its product's pre-sale: the answer's
        `backorders` list those units, with the day the goods are expected.

        Repeating it with the same lines answers the same reservations with
        `created=False`; a line already held with another quantity, or whose hold
        was cancelled or expired, raises `ReservationExists`.
        """
        payload = {"order_id": order_id, "items": _lines_json(lines)}
        return self._reserve(
            payload, ttl_seconds=ttl_seconds, pool=pool, ship_to=ship_to, split=split, customer_tier=customer_tier
        )

    def release(self, order_id: str, product_id: int | None = None) -> OrderReservations:
        """Order cancelled: give back its active holds (or one product's, in every warehouse)."""
        return self._order_call("/inventory/release", order_id, product_id)

    def deduct(self, order_id: str, product_id: int | None = None) -> OrderReservations:
        """Payment succeeded: the held units leave the shop.

        `ReservationExpired` means the holds lapsed and the units were sold to
        someone else: the order must be refunded.
        """
        return self._order_call("/inventory/deduct", order_id, product_id)

    def order_reservations(self, order_id: str) -> list[Reservation]:
        """Every reservation of an order, whatever its status, newest first."""
        reservations = []
        page = 1
        while True:
            params = {"order_id": order_id, "page": page, "page_size": self.page_size}
            body = self._call("GET", "/inventory/reservations", params=params).json()
            reservations.extend(Reservation.from_json(item) for item in body["results"])
            if not body["next"]:
                return reservations
            page += 1

    def order_lines(self, order_id: str) -> OrderLines:
        """The order's lines: per product and warehouse, what is held, sold ahead, shipped and to come.

        `ReservationNotFound` when the order holds and backordered nothing.
        """
        return OrderLines.from_json(self._call("GET", f"/orders/{quote(order_id, safe='')}/lines").json())

    def cancel_backorders(self, order_id: str, product_id: int | None = None) -> OrderLines:
        """Cancel what the order's backorders (of one product) still wait for; the order's lines after it.

        The units already shipped stay shipped; the order's holds are released with
        `release`. `BackorderNotFound` when the order has none.
        """
        payload: dict[str, Any] = {} if product_id is None else {"product_id": product_id}
        path = f"/orders/{quote(order_id, safe='')}/backorders/cancel"
        return OrderLines.from_json(self._call("POST", path, json=payload).json())

    # --- Plumbing ---------------------------------------------------------------

    def _reserve(self, payload: dict[str, Any], *, ship_to: ShipTo | None, **options: Any) -> OrderReservations:
        payload.update((name, value) for name, value in options.items() if value is not None)
        if ship_to is not None:
            payload["ship_to"] = ship_to.to_json()
        response = self._call("POST", "/inventory/reserve", json=payload)
        return OrderReservations.from_json(response.json(), created=response.status_code == httpx.codes.CREATED)

    def _order_call(self, path: str, order_id: str, product_id: int | None) -> OrderReservations:
        payload: dict[str, Any] = {"order_id": order_id}
        if product_id is not None:
            payload["product_id"] = product_id
        return OrderReservations.from_json(self._call("POST", path, json=payload).json())

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send one request, retrying what may succeed on a second try; raise error answers."""
        for attempt in range(self.retries + 1):
            last_attempt = attempt == self.retries
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TransportError as failure:
                if last_attempt:
                    raise InventoryUnavailable(f"{method} {path}: {failure!r}") from failure
                self._sleep(self._backoff_delay(attempt))
                continue
            if response.status_code not in RETRIED_STATUSES or last_attempt:
                break
            delay = self._retry_delay(response, attempt)
            if delay is None:
                break
            self._sleep(delay)
        if response.is_success:
            return response
        raise _error_from(response)

    def _retry_delay(self, response: httpx.Response, attempt: int) -> float | None:
        """How long to wait before retrying this answer; None: do not retry it."""
        if response.status_code != httpx.codes.TOO_MANY_REQUESTS:
            return self._backoff_delay(attempt)
        retry_after = _retry_after_seconds(response)
        if retry_after is None:
            return self._backoff_delay(attempt)
        return retry_after if retry_after <= self.max_retry_after else None

    def _backoff_delay(self, attempt: int) -> float:
        # Full jitter: clients that failed together do not all come back together.
        return self._rng.uniform(0, min(self.max_backoff, self.backoff * 2**attempt))


def _from_json(result_type: type, body: Mapping[str, Any]):
    """A result dataclass from an answer, ignoring fields a newer server may add."""
    return result_type(**{field.name: body[field.name] for field in fields(result_type)})


def _lines_json(lines: Iterable[Line]) -> list[dict[str, Any]]:
    return [line.to_json() for line in lines]


def _date_or_none(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _retry_after_seconds(response: httpx.Response) -> float | None:
    """`Retry-After` as seconds to wait: delta-seconds or an HTTP date; None if absent or unreadable."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _error_from(response: httpx.Response) -> InventoryAPIError:
    """The exception for an error answer: by the contract's code, else by the status."""
    try:
        error = response.json()["error"]
        code, message, details = error["code"], error["message"], error.get("details") or {}
    except (ValueError, KeyError, TypeError):
        code, message, details = "", f"HTTP {response.status_code}: {response.text[:200]}", {}
    status = response.status_code
    if status == httpx.codes.TOO_MANY_REQUESTS:
        return Throttled(message, retry_after=_retry_after_seconds(response), status=status, details=details)
    if code in _ERRORS_BY_CODE:
        return _ERRORS_BY_CODE[code](message, status=status, details=details)
    if status >= httpx.codes.INTERNAL_SERVER_ERROR:
        return ServerError(message, status=status, details=details)
    by_status = {httpx.codes.NOT_FOUND: NotFound, httpx.codes.CONFLICT: Conflict}
    return by_status.get(status, InventoryAPIError)(message, status=status, details=details)
