"""What the admin screens share: who acts, permission checks, the product-id search term, read-only pages."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from inventory import limits


def actor_of(request: HttpRequest) -> str:
    return request.user.get_username()


def require_perm(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def product_id_term(search_term: str) -> int | None:
    """A search term that can be a product id, as one; otherwise None."""
    term = search_term.strip()
    if term.isdigit() and 0 < int(term) <= limits.MAX_PRODUCT_ID:
        return int(term)
    return None


class ReadOnlyAdmin(admin.ModelAdmin):
    """No add, change or delete for anyone, superusers included."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
