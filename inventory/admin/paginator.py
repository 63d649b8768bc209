"""A paginator for the admin's big lists that does not count every row.

`SELECT COUNT(*)` over a few hundred thousand rows takes long enough to notice on
every page of the change list. The whole inventory list reads its exact size from
the counter that triggers keep (`whole_inventory_count`). Other lists, on PostgreSQL,
read the planner's row estimate instead (`EXPLAIN`, no execution) and take the
exact count only when the estimate says the list is small enough for it to be cheap.
"""

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.utils.functional import cached_property

from inventory.selectors import whole_inventory_count
from inventory.selectors.paging import KeysFirstPaginator

# Below this many rows (as estimated) an exact count is cheap and worth having.
EXACT_COUNT_LIMIT = 20_000


class EstimatedCountPaginator(KeysFirstPaginator):
    # Whether `count` is the planner's estimate rather than an exact count.
    is_estimate = False

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        known = whole_inventory_count(queryset)
        if known is not None:
            return known
        connection = connections[queryset.db]
        if connection.vendor != "postgresql":
            return super().count
        estimate = planner_row_estimate(queryset)
        if estimate < EXACT_COUNT_LIMIT:
            return super().count
        self.is_estimate = True
        return estimate


def planner_row_estimate(queryset) -> int:
    """How many rows PostgreSQL's planner expects `queryset` to return."""
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:  # e.g. `.none()`: Django knows there is nothing to fetch
        return 0
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    return int(plan[0]["Plan"]["Plan Rows"])
