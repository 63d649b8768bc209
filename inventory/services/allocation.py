"""Which stock rows a line may take, in which order: the one seam every store asks.

Today a product has one stock row, so a line takes its product's row. Stock per
warehouse (and bucket rows of a hot product) will change this function, and only
this one: the ORM store evaluates the queryset, the PostgreSQL store compiles the
same queryset into its statements (`store/postgresql.py`), so both choose alike.

The order is the global lock order: rows are locked by (product_id, id), so any
two orders that share stock rows lock them in the same order and never deadlock.
"""

from django.db.models import Expression, QuerySet

from inventory.models import Inventory

LOCK_ORDER = ("product_id", "id")


def stock_rows(product_ids: "list[int] | Expression") -> QuerySet[Inventory]:
    """The stock rows lines of these products may take (a list, or an SQL subquery), in lock order."""
    return Inventory.objects.filter(product_id__in=product_ids).order_by(*LOCK_ORDER)
