"""The roles of the API: public, staff (with a Django permission) and internal.

A denied anonymous caller is answered 401 by DRF, any other denied caller 403; the
roles are checked before a view looks anything up, so a 404 never tells a caller
without the role whether a product exists.
"""

from rest_framework.permissions import BasePermission

from inventory.api.authentication import api_client_of


def is_internal_client(request) -> bool:
    client = api_client_of(request)
    return client is not None and client.is_internal


def is_staff_with(request, perm: str | None) -> bool:
    """A staff user (by session or a staff client's token) holding `perm`.

    `perm=None` asks only for the role (used to let a 405 through for a staff caller).
    """
    client = api_client_of(request)
    if client is not None and not client.is_staff_client:
        return False
    user = request.user
    if not (user and user.is_authenticated and user.is_active and user.is_staff):
        return False
    return perm is None or user.has_perm(perm)


class IsInternalClient(BasePermission):
    """The order application: an API client in the internal (order-service) role."""

    message = "This endpoint is for the order application's API client (internal role)."

    def has_permission(self, request, view) -> bool:
        return is_internal_client(request)


class StaffActionPermission(BasePermission):
    """Staff with the Django permission that `view.staff_permissions[view.action]` names."""

    message = "This needs a staff account with the matching inventory permission."

    def has_permission(self, request, view) -> bool:
        perms = getattr(view, "staff_permissions", {})
        if view.action is None:
            # A method the view does not have: the role is enough to be told 405.
            return is_staff_with(request, None)
        if view.action not in perms:
            return False  # an action nobody listed is closed
        return is_staff_with(request, perms[view.action])


class InternalClientOrStaffAction(StaffActionPermission):
    """The order application, or staff with the permission of the action."""

    message = "This needs the order application's API client or a staff account with the matching permission."

    def has_permission(self, request, view) -> bool:
        return is_internal_client(request) or super().has_permission(request, view)
