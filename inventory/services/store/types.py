"""What the services hand a store, and what a store hands back."""

from dataclasses import dataclass

from inventory.models import Backorder, Reservation

# A stock row's (available_stock, reserved_stock), and a change of them.
Counters = tuple[int, int]
Deltas = tuple[int, int]
# A stock level: (product_id, warehouse_id).
LevelKey = tuple[int, int]
# A stock row: (product_id, warehouse_id, bucket); bucket 0 is the level's own row.
RowKey = tuple[int, int, int]


@dataclass(frozen=True)
class Movement:
    """One ledger entry's worth of change to one stock row."""

    product_id: int
    warehouse_id: int
    operation: str
    quantity: int
    available_delta: int = 0
    reserved_delta: int = 0
    order_id: str = ""
    reason: str = ""
    reference: str = ""
    bucket: int = 0
    # A quota's units: the change of the row's `allotted_stock`, and the quota's id.
    allotted_delta: int = 0
    quota_id: int | None = None
    # A `backorder_fill`: the backorder the units were shipped to.
    backorder_id: int | None = None

    @property
    def level(self) -> LevelKey:
        return self.product_id, self.warehouse_id

    @property
    def row(self) -> RowKey:
        return self.product_id, self.warehouse_id, self.bucket


@dataclass(frozen=True)
class LineOutcome:
    """What a store's `take` did with one line of an order."""

    product_id: int
    quantity: int
    # The line's guarded update found too little stock in the pool (or no product).
    short: bool
    # The new holds (one per warehouse the line was taken from), when the order went
    # through; their ledger entries are written and announced.
    reservations: tuple[Reservation, ...]
    # Available stock in the pool as the store found it (before its own change); None: no such product.
    available: int | None
    # Only looked up for a short line: an overdue hold of the product keeps units back.
    has_overdue_holds: bool  # or a quota past its end that still sets units aside
    # The order has this line already: nothing was taken, the service decides.
    has_reservation_already: bool
    # The line's units sold ahead of stock on a pre-sale (a line that may backorder), when the order went through.
    backorders: tuple[Backorder, ...] = ()


@dataclass(frozen=True)
class Ending:
    """How `settle` ends an order's active holds."""

    status: str
    operation: str
    # The held units go back to available stock (a release), or leave the shop (a payment).
    to_available: bool
    # Leave the order alone when a hold is past `expires_at` (a late payment has its own rules).
    refuse_overdue: bool


@dataclass(frozen=True)
class Draw:
    """A line's claim on a quota (`take`): the quota, its level's warehouse, and whether
    what the quota lacks may come from free stock."""

    quota_id: int
    warehouse_id: int
    overflow: bool
