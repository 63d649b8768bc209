"""Signals that other domains of the monolith send to the inventory.

`product_created`: the product domain created a product. Send it with
`product_id` and optionally `initial_stock` (default 0), `low_stock_threshold`
(default None: the inventory's default threshold), `sku` and `name`:

    product_created.send(sender=Product, product_id=product.pk, sku=product.sku, name=product.name, initial_stock=25)

Sending it inside the transaction that creates the product makes the inventory
record part of that transaction. Sending it twice for one product is harmless.
"""

from django.dispatch import Signal

product_created = Signal()
