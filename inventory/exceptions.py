"""Domain errors raised by the services: one class per error.

Each class carries its error code of the API contract and its HTTP status, and each
instance the message and details that go with it; the API's one handler
(`inventory.api.errors`) renders any of them, knowing nothing but this base, and the
admin shows the same message as a form error. Adding an error is adding a class.
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, ClassVar


class InventoryError(Exception):
    code: str = "inventory_error"
    status_code: int = 400
    default_message: str = "The inventory operation failed."
    # Every concrete error, by its code: the codes the OpenAPI document lists.
    by_code: ClassVar[dict[str, type["InventoryError"]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__name__.startswith("_"):
            return  # a private base of several errors, with no code of its own
        known = InventoryError.by_code.setdefault(cls.code, cls)
        if known is not cls and not issubclass(cls, known):
            raise TypeError(f"Two error classes claim the code {cls.code!r}: {known.__name__} and {cls.__name__}.")

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)


class InvalidInput(InventoryError):
    """An argument that no caller should have passed (the API validates first)."""

    code = "validation_error"
    status_code = 400
    default_message = "Invalid input."


class ProductNotFound(InventoryError):
    code = "product_not_found"
    status_code = 404
    default_message = "No inventory record for this product."

    def __init__(self, product_id: int) -> None:
        super().__init__(f"No inventory record for product {product_id}.", product_id=product_id)


class _UnknownCode(InventoryError):
    """A warehouse, pool or transfer that nobody created: each has its own 404 code."""

    status_code = 404
    noun = "object"

    def __init__(self, code: str | int) -> None:
        super().__init__(f"No {self.noun} {code}.", code=code)


class WarehouseNotFound(_UnknownCode):
    code = "warehouse_not_found"
    default_message = "No such warehouse."
    noun = "warehouse"


class PoolNotFound(_UnknownCode):
    code = "pool_not_found"
    default_message = "No such pool."
    noun = "pool"


class TransferNotFound(_UnknownCode):
    code = "transfer_not_found"
    default_message = "No such transfer."
    noun = "transfer"


class TransferNotOpen(InventoryError):
    code = "transfer_not_open"
    status_code = 409
    default_message = "The transfer is received or cancelled already."

    def __init__(self, transfer_id: int, status: str) -> None:
        super().__init__(f"Transfer {transfer_id} is {status}.", transfer_id=transfer_id, status=status)


class PurchaseOrderNotFound(_UnknownCode):
    code = "purchase_order_not_found"
    default_message = "No such purchase order."
    noun = "purchase order"


class PurchaseOrderNotOpen(InventoryError):
    code = "purchase_order_not_open"
    status_code = 409
    default_message = "The purchase order is received, closed or cancelled already."

    def __init__(self, order_id: int, status: str) -> None:
        super().__init__(f"Purchase order {order_id} is {status}.", purchase_order_id=order_id, status=status)


class PurchaseOrderHasReceipts(InventoryError):
    """A cancel of a purchase order that goods were received against: it is closed instead."""

    code = "purchase_order_has_receipts"
    status_code = 409
    default_message = "Goods were received against the purchase order: close it instead of cancelling it."

    def __init__(self, order_id: int) -> None:
        super().__init__(
            f"Goods were received against purchase order {order_id}: close it instead.", purchase_order_id=order_id
        )


class QuotaNotFound(_UnknownCode):
    code = "quota_not_found"
    default_message = "No such quota."
    noun = "quota"


class QuotaNotActive(InventoryError):
    """A quota that has ended, or (for a reserve that names it) is outside its start and end."""

    code = "quota_not_active"
    status_code = 409
    default_message = "The quota is not open for this."

    def __init__(self, code: str, why: str) -> None:
        super().__init__(f"Quota {code} {why}.", code=code)


class PreSaleNotFound(_UnknownCode):
    code = "presale_not_found"
    default_message = "No such pre-sale."
    noun = "pre-sale"


class PreSaleNotActive(InventoryError):
    """A change or end of a pre-sale that has ended."""

    code = "presale_not_active"
    status_code = 409
    default_message = "The pre-sale has ended."

    def __init__(self, code: str) -> None:
        super().__init__(f"Pre-sale {code} has ended.", code=code)


class BackorderNotFound(InventoryError):
    code = "backorder_not_found"
    status_code = 404
    default_message = "No backorder for this order."

    def __init__(self, order_id: str, product_id: int | None = None) -> None:
        where = f" and product {product_id}" if product_id is not None else ""
        super().__init__(f"No backorder for order {order_id}{where}.", order_id=order_id)


class AlreadyExists(InventoryError):
    code = "already_exists"
    status_code = 409
    # The same code for a product, a SKU, a warehouse or a pool: the message says which.
    default_message = "It exists already."

    def __init__(self, product_id: int) -> None:
        super().__init__(f"An inventory record for product {product_id} exists already.", product_id=product_id)


class CodeInUse(AlreadyExists):
    """A warehouse or pool code that exists already."""

    def __init__(self, code: str) -> None:
        InventoryError.__init__(self, f"{code} exists already.", code=code)


class SkuInUse(AlreadyExists):
    def __init__(self, sku: str) -> None:
        InventoryError.__init__(self, f"Another product has the SKU {sku}.", sku=sku)


@dataclass(frozen=True)
class ShortLine:
    product_id: int
    requested: int
    available: int


class InsufficientStock(InventoryError):
    code = "insufficient_stock"
    status_code = 409
    default_message = "Not enough available stock."

    def __init__(self, short_lines: Sequence[ShortLine]) -> None:
        self.short_lines = tuple(short_lines)
        ids = ", ".join(str(line.product_id) for line in self.short_lines)
        super().__init__(
            f"Not enough available stock for product(s) {ids}.",
            items=[asdict(line) for line in self.short_lines],
        )

    @property
    def product_ids(self) -> list[int]:
        return [line.product_id for line in self.short_lines]


class VersionConflict(InventoryError):
    code = "version_conflict"
    status_code = 409
    default_message = "The record was changed by someone else."

    def __init__(self, current_version: int) -> None:
        super().__init__(
            f"The record was changed meanwhile; it is now at version {current_version}.",
            current_version=current_version,
        )


class StockWouldGoNegative(InventoryError):
    code = "stock_would_go_negative"
    status_code = 409
    default_message = "The adjustment would leave available stock below zero."

    def __init__(self, product_id: int, available: int, delta: int) -> None:
        super().__init__(
            f"Adjusting product {product_id} by {delta} would leave {available + delta} available.",
            product_id=product_id,
            available_stock=available,
            delta=delta,
        )


class ReservationNotFound(InventoryError):
    code = "reservation_not_found"
    status_code = 404
    default_message = "No reservation for this order."

    def __init__(self, order_id: str, product_id: int | None = None) -> None:
        where = f" and product {product_id}" if product_id is not None else ""
        super().__init__(f"No reservation for order {order_id}{where}.", order_id=order_id)


class ReservationExists(InventoryError):
    code = "reservation_exists"
    status_code = 409
    default_message = "This order already has a reservation for this product."

    def __init__(self, order_id: str, product_id: int, quantity: int, status: str) -> None:
        super().__init__(
            f"Order {order_id} already has a {status} reservation of {quantity} for product {product_id}.",
            order_id=order_id,
            product_id=product_id,
            quantity=quantity,
            status=status,
        )


class OrderOfAnotherClient(ReservationExists):
    """The order_id is another API client's order: nothing of it is told."""

    def __init__(self, order_id: str) -> None:
        InventoryError.__init__(self, f"Order {order_id} exists already.", order_id=order_id)


class ReservationNotActive(InventoryError):
    code = "reservation_not_active"
    status_code = 409
    default_message = "The reservation is no longer active."

    def __init__(self, order_id: str, product_id: int, status: str) -> None:
        super().__init__(
            f"The reservation of order {order_id} for product {product_id} is {status}.",
            order_id=order_id,
            product_id=product_id,
            status=status,
        )


class ReservationExpired(InventoryError):
    code = "reservation_expired"
    status_code = 409
    default_message = "The reservation expired and its units are no longer available."

    def __init__(self, order_id: str, short_lines: Sequence[ShortLine]) -> None:
        self.short_lines = tuple(short_lines)
        super().__init__(
            f"The reservation of order {order_id} expired and the units are gone.",
            order_id=order_id,
            items=[asdict(line) for line in short_lines],
        )


class IdempotencyKeyReused(InventoryError):
    code = "idempotency_key_reused"
    status_code = 422
    default_message = "This Idempotency-Key was used with a different request."

    def __init__(self, key: str) -> None:
        super().__init__("This Idempotency-Key was used within 24 hours with a different request.", idempotency_key=key)


class CountSheetNotFound(_UnknownCode):
    code = "count_sheet_not_found"
    default_message = "No such count sheet."
    noun = "count sheet"


class CountSheetNotOpen(InventoryError):
    """A count, approval or cancel of a sheet that is posted or cancelled (a post of a posted one is not)."""

    code = "count_sheet_not_open"
    status_code = 409
    default_message = "The count sheet is posted or cancelled already."

    def __init__(self, sheet_id: int, status: str) -> None:
        super().__init__(f"Count sheet {sheet_id} is {status}.", sheet_id=sheet_id, status=status)


class CountLineNotFound(InventoryError):
    """A product that a list or cycle sheet does not list (a full sheet takes any product of its warehouse)."""

    code = "count_line_not_found"
    status_code = 404
    default_message = "The count sheet does not list this product."

    def __init__(self, sheet_id: int, product_ids: Sequence[int]) -> None:
        ids = ", ".join(str(product_id) for product_id in product_ids)
        super().__init__(
            f"Count sheet {sheet_id} does not list product(s) {ids}.", sheet_id=sheet_id, product_ids=list(product_ids)
        )


class _CountNotPostable(InventoryError):
    """A post refused because of some lines: nothing of the sheet was posted."""

    status_code = 409
    why = "cannot be posted"

    def __init__(self, sheet_id: int, product_ids: Sequence[int], **details: Any) -> None:
        ids = ", ".join(str(product_id) for product_id in product_ids)
        super().__init__(
            f"Count sheet {sheet_id} {self.why}: product(s) {ids}.",
            sheet_id=sheet_id,
            product_ids=list(product_ids),
            **details,
        )


class CountIncomplete(_CountNotPostable):
    code = "count_incomplete"
    default_message = "Some lines of the count sheet are not counted yet."
    why = "has lines not counted yet"


class CountNeedsApproval(_CountNotPostable):
    code = "count_needs_approval"
    default_message = "Some variances are over the sheet's tolerance and need a manager's approval."
    why = "has variances over its tolerance that nobody approved"


class CountWouldGoNegative(_CountNotPostable):
    """A variance larger than the level's available stock now (reserved units stay held)."""

    code = "count_would_go_negative"
    default_message = "Posting the count would leave available stock below zero."
    why = "would leave available stock below zero"
