"""Filters of the staff and internal lists (django-filter), strict about their values."""

from datetime import UTC

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions

from inventory import limits
from inventory.exceptions import WarehouseNotFound
from inventory.models import (
    Inventory,
    InventoryLog,
    LogOperation,
    Reservation,
    ReservationStatus,
    Transfer,
    TransferLine,
    TransferStatus,
    Warehouse,
)
from inventory.parsing import ascii_int, is_order_id

_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


class StrictIntegerFormField(forms.Field):
    def __init__(self, *, min_value: int = 1, max_value: int = limits.MAX_PRODUCT_ID, **kwargs):
        self.min_value, self.max_value = min_value, max_value
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        number = ascii_int(value, self.min_value, self.max_value)
        if number is None:
            raise ValidationError(f"An integer from {self.min_value} to {self.max_value} is required.")
        return number


class StrictBooleanFormField(forms.Field):
    def to_python(self, value):
        if value in self.empty_values:
            return None
        if value.lower() not in _BOOLEANS:
            raise ValidationError("true or false is required.")
        return _BOOLEANS[value.lower()]


class OrderIdFormField(forms.CharField):
    """The contract's order id, judged without a regular expression search over the whole value.

    Its check runs after CharField's own (NUL), like the RegexValidator it replaces,
    so the messages stay the same.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("strip", False)  # as RegexField: " A-1" is not an order id
        super().__init__(**kwargs)
        self.validators.append(_validate_order_id)


def _validate_order_id(value: str) -> None:
    if not is_order_id(value):
        raise ValidationError(_("Enter a valid value."), code="invalid")  # Django's own words, translated


class UTCIsoDateTimeFormField(IsoDateTimeField):
    """ISO 8601, turned into UTC here: the database refuses offsets past 15:59."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except (OverflowError, ValueError):
            raise ValidationError("The time is out of range.") from None


class UTCIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCIsoDateTimeFormField


@extend_schema_field({"type": "integer", "format": "int64", "minimum": 1, "maximum": limits.MAX_PRODUCT_ID})
class ProductIdFilter(django_filters.Filter):
    field_class = StrictIntegerFormField


@extend_schema_field({"type": "boolean"})
class StrictBooleanFilter(django_filters.Filter):
    field_class = StrictBooleanFormField


@extend_schema_field({"type": "string", "pattern": limits.ORDER_ID_PATTERN, "minLength": 1, "maxLength": 64})
class OrderIdFilter(django_filters.CharFilter):
    field_class = OrderIdFormField


class StableOrderingFilter(django_filters.OrderingFilter):
    """The order asked for, then product_id, so that pages never overlap."""

    def filter(self, qs, value):
        if value and not all(value):
            raise exceptions.ValidationError({"ordering": ["An empty field name is not allowed."]})
        ordering = [self.get_ordering_value(param) for param in value or []]
        if not any(field.lstrip("-") == "product_id" for field in ordering):
            ordering.append("product_id")
        return qs.order_by(*ordering)


class StrictFilterSet(django_filters.FilterSet):
    """A parameter given with an empty value is an error, not a filter left out."""

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name in self.filters:
            if name in self.data and self.data.get(name) == "":
                self.form.add_error(name, "An empty value is not allowed; leave the parameter out instead.")
                valid = False
        return valid


class InventoryFilter(StrictFilterSet):
    product_id = ProductIdFilter(field_name="product_id", help_text="Exact product id.")
    is_low_stock = StrictBooleanFilter(method="filter_low_stock", help_text="true or false.")
    ordering = StableOrderingFilter(
        fields=("product_id", "available_stock", "updated_at"),
        help_text="product_id, available_stock or updated_at; a leading - for descending. Default product_id.",
    )

    class Meta:
        model = Inventory
        fields = ["product_id", "is_low_stock"]

    def filter_low_stock(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        low = Q(available_stock__lte=F("low_stock_threshold"))
        return queryset.filter(low if value else ~low)


@extend_schema_field({"type": "string", "pattern": limits.LOCATION_CODE_PATTERN, "minLength": 1, "maxLength": 32})
class WarehouseCodeFilter(django_filters.CharFilter):
    """A warehouse by its code: a malformed code is a 400, an unknown one a 404 `warehouse_not_found`."""

    def __init__(self, **kwargs):
        kwargs.setdefault("field_name", "warehouse_id")
        kwargs.setdefault("help_text", "Only this warehouse's (its code).")
        kwargs.setdefault("validators", [_validate_location_code])
        kwargs.setdefault("strip", False)
        super().__init__(**kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        found = Warehouse.objects.filter(code=value).values_list("id", flat=True).first()
        if found is None:
            raise WarehouseNotFound(value)
        return qs.filter(**{self.field_name: found})


def _validate_location_code(value: str) -> None:
    if not limits.is_location_code(value):
        raise ValidationError(f"A code is {limits.LOCATION_CODE_RULE}.", code="invalid")


@extend_schema_field({"type": "string", "pattern": limits.LOCATION_CODE_PATTERN, "minLength": 1, "maxLength": 32})
class TierFilter(django_filters.CharFilter):
    """A customer tier (a code as a warehouse's): a malformed one is a 400."""

    def __init__(self, **kwargs):
        kwargs.setdefault("field_name", "tier")
        super().__init__(validators=[_validate_location_code], strip=False, **kwargs)


class InventoryLogFilter(StrictFilterSet):
    operation = django_filters.ChoiceFilter(choices=LogOperation.choices)
    warehouse = WarehouseCodeFilter()
    order_id = OrderIdFilter(field_name="order_id")
    since = UTCIsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Entries at or after this time (ISO 8601)."
    )
    until = UTCIsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="Entries before this time (ISO 8601)."
    )

    class Meta:
        model = InventoryLog
        fields = ["operation", "warehouse", "order_id", "since", "until"]


class ReservationFilter(StrictFilterSet):
    order_id = OrderIdFilter(field_name="order_id")
    product_id = ProductIdFilter(field_name="product_id")
    status = django_filters.ChoiceFilter(choices=ReservationStatus.choices)
    warehouse = WarehouseCodeFilter()

    class Meta:
        model = Reservation
        fields = ["order_id", "product_id", "status", "warehouse"]


class TransferFilter(StrictFilterSet):
    status = django_filters.ChoiceFilter(choices=TransferStatus.choices)
    source = WarehouseCodeFilter(field_name="source_id", help_text="From this warehouse (its code).")
    to = WarehouseCodeFilter(field_name="destination_id", help_text="To this warehouse (its code).")
    product_id = ProductIdFilter(method="filter_product", help_text="Carrying this product.")

    class Meta:
        model = Transfer
        fields = ["status", "to", "product_id"]

    def filter_product(self, queryset: QuerySet, name: str, value: int | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(Exists(TransferLine.objects.filter(transfer=OuterRef("pk"), product_id=value)))


# The query parameter is `from`, a Python keyword: renamed after the class is made.
TransferFilter.base_filters["from"] = TransferFilter.base_filters.pop("source")
