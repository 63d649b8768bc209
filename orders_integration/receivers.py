"""What the inventory does when another domain signals a change (connected in apps.py)."""

import logging

from inventory import services
from inventory.exceptions import AlreadyExists

PRODUCT_HOOK_ACTOR = "product-created"

logger = logging.getLogger(__name__)


def create_inventory_for_new_product(
    sender,
    *,
    product_id: int,
    initial_stock: int = 0,
    low_stock_threshold: int | None = None,
    sku: str = "",
    name: str = "",
    **kwargs,
) -> None:
    """Give a new product its inventory record.

    Idempotent: a second signal for the same product (a retried save, a replayed
    event) finds the record and leaves it as it is, whatever figures it carries.
    """
    options = {} if low_stock_threshold is None else {"low_stock_threshold": low_stock_threshold}
    try:
        services.create_inventory(
            product_id=product_id,
            available_stock=initial_stock,
            actor=PRODUCT_HOOK_ACTOR,
            reason="product created",
            sku=sku,
            name=name,
            **options,
        )
    except AlreadyExists:
        logger.info("product_created for product %s: it has an inventory record already", product_id)
