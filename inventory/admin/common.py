"""What the admin screens share: who acts, permission checks, reading typed ids and terms, read-only pages.

Every id or term a person types (or a crafted URL carries) is read here, in linear
time and strictly: '²' is not a number, U+0000 never reaches the database (which
refuses it), and nothing malformed answers 500.
"""

from datetime import datetime, time
from functools import partial

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import BadRequest, FieldDoesNotExist, PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from inventory import limits
from inventory.parsing import ascii_int, has_nul, is_order_id


def actor_of(request: HttpRequest) -> str:
    return request.user.get_username()


def require_perm(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def product_id_term(search_term: str) -> int | None:
    """A search term that can be a product id, as one; otherwise None."""
    return ascii_int(search_term.strip(), 1, limits.MAX_PRODUCT_ID)


def code_or_product(queryset: QuerySet, search_term: str) -> QuerySet:
    """The rows whose code starts with the term, or of the product it names (the quota and pre-sale lists)."""
    term = search_term.strip()
    if not term:
        return queryset
    # Codes are lower case; a term that cannot start one matches no code (and never reaches the database).
    code = term.lower()
    matches = Q(code__startswith=code) if limits.is_location_code(code) else Q(pk__in=[])
    number = product_id_term(term)
    if number is not None:
        matches |= Q(product_id=number)
    return queryset.filter(matches)


def order_id_term(search_term: str) -> str | None:
    """A search term that can be an order id, as it is; otherwise None (no stored order id could match)."""
    term = search_term.strip()
    return term if is_order_id(term) else None


def is_actor_text(value: str) -> bool:
    """Whether `value` could be the actor of a log entry (a user name or an API client's)."""
    return len(value) <= limits.MAX_ACTOR_LENGTH and not has_nul(value)


def primary_keys(values: list[str]) -> list[int]:
    """The posted values that can be row ids (bigint, as product ids are); the others are left out."""
    keys = (ascii_int(value, 1, limits.MAX_PRODUCT_ID) for value in values)
    return [key for key in keys if key is not None]


def changelist_of(model_admin: admin.ModelAdmin, request: HttpRequest) -> ChangeList:
    """The change list `request` asks for, outside the change list page (the CSV export).

    The page answers a filter it cannot apply with an error page; here that is a 400,
    where Django would let IncorrectLookupParameters through as a 500.
    """
    try:
        return model_admin.get_changelist_instance(request)
    except IncorrectLookupParameters as error:
        raise BadRequest("The list's filters or search cannot be applied.") from error


class StrictDateFieldListFilter(admin.DateFieldListFilter):
    """Django's date filter, with a bound typed into the URL without an offset read in the site's time zone.

    Django would pass it on naive, which is a RuntimeWarning on every query (and an
    error in the tests); a bound that is no date is left to Django, which answers it
    with the change list's error page.
    """

    def queryset(self, request, queryset):
        self.used_parameters = {
            name: [aware_bound(value) for value in values] for name, values in self.used_parameters.items()
        }
        return super().queryset(request, queryset)


def aware_bound(value):
    """A date or datetime text as an aware datetime, when it is one; otherwise the value unchanged."""
    if not isinstance(value, str):
        return value
    try:
        moment = parse_datetime(value)
        if moment is None and (day := parse_date(value)) is not None:
            moment = datetime.combine(day, time())
    except ValueError:  # well formed, but no such date or time
        return value
    if moment is None:
        return value
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


class StrictModelAdmin(admin.ModelAdmin):
    """A ModelAdmin that answers malformed input the way it answers any other input it cannot use.

    Django's own ModelAdmin filters an action's rows by the posted ids as they are:
    an empty or non-numeric one is a 500; so are an empty `?_to_field=` and a list
    filter's value with U+0000. And its `=field` search is `iexact`, which
    compares UPPER(field) and so reads the whole table; ids here are case-sensitive,
    so `=field` is an exact match, which an index answers.
    """

    def get_search_results(self, request, queryset, search_term):
        fields = self.get_search_fields(request)
        if not fields or not all(name.startswith("=") for name in fields):
            return super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if not term:
            return queryset, False
        matches = Q(pk__in=[])
        for name in fields:
            matches |= Q(**{name[1:]: term})
        return queryset.filter(matches), False

    def lookup_allowed(self, lookup, value, request=None):
        # A list filter hands its value to the database as it is, and PostgreSQL
        # refuses U+0000 (a 500); refused here, it is a 400 (DisallowedModelAdminLookup).
        if has_nul(str(value)):
            return False
        return super().lookup_allowed(lookup, value, request)

    def to_field_allowed(self, request, to_field):
        # A hidden reverse relation (related_name "+", as TransferLine.product's) is found by
        # its name "+" and has no primary_key: Django's own check would fail on it (a 500).
        try:
            field = self.opts.get_field(to_field)
        except FieldDoesNotExist:
            return False
        return field.concrete and super().to_field_allowed(request, to_field)

    def get_object(self, request, object_id, from_field=None):
        # Django checks `?_to_field=` only when it is not empty, then looks the empty
        # name up as a field (FieldDoesNotExist, a 500): empty means the primary key.
        return super().get_object(request, object_id, from_field or None)

    def response_action(self, request, queryset):
        posted = request.POST.copy()
        posted.setlist(ACTION_CHECKBOX_NAME, [str(key) for key in primary_keys(posted.getlist(ACTION_CHECKBOX_NAME))])
        request.POST = posted  # none selected, if none was an id: Django then asks to select some
        return super().response_action(request, queryset)


class ReadOnlyAdmin(StrictModelAdmin):
    """No add, change or delete for anyone, superusers included."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def object_page_urls(model_admin: admin.ModelAdmin, view, pages: dict[str, object], keyword: str) -> list[URLPattern]:
    """A page under each object's own URL per entry of `pages`: `<id>/<name>/`, named `<app>_<model>_<name>`.

    `view` is called with the entry as the keyword argument `keyword`; it checks its own permission.
    """
    opts = model_admin.opts
    return [
        path(
            f"<path:object_id>/{name}/",
            model_admin.admin_site.admin_view(partial(view, **{keyword: page})),
            name=f"{opts.app_label}_{opts.model_name}_{name}",
        )
        for name, page in pages.items()
    ]
