"""`?page=N&page_size=M`: 50 by default, a larger M than 200 is served as 200."""

from django.utils.functional import cached_property
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

from inventory.api.fields import parse_query_int
from inventory.selectors import whole_inventory_count
from inventory.selectors.paging import KeysFirstPaginator

MAX_PAGE_NUMBER = 10**9


class InventoryCountPaginator(KeysFirstPaginator):
    """Pages read keys first (inventory/selectors/paging.py); the unfiltered inventory list takes
    its exact size from the trigger-kept counter: a `COUNT(*)` of a million rows took 60-100 ms.
    Every other count is exact too (the contract's `count`), from an index-only scan where an
    index leads with the filter (the reservations list's do)."""

    @cached_property
    def count(self) -> int:
        known = whole_inventory_count(self.object_list)
        return super().count if known is None else known


class ContractPagination(PageNumberPagination):
    django_paginator_class = InventoryCountPaginator
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    page_size_query_description = "Results per page, 1 or more; default 50, and more than 200 is served as 200."
    page_query_description = "Page number from 1; a page past the last is a 404 `not_found`."

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        significant = raw.lstrip("0")
        if not raw.isascii() or not raw.isdigit() or not significant:
            raise ValidationError({"page_size": ["A positive integer is required."]})
        # Any number longer than the largest size is served as it; int() would refuse
        # one of more than 4,300 digits.
        if len(significant) > len(str(self.max_page_size)):
            return self.max_page_size
        return min(int(significant), self.max_page_size)

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param)
        if raw not in (None, *self.last_page_strings):
            parse_query_int(self.page_query_param, raw, minimum=1, maximum=MAX_PAGE_NUMBER)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"] = {"type": "integer", "minimum": 1}
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["maximum"] = MAX_PAGE_NUMBER
        return parameters
