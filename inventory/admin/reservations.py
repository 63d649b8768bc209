"""The reservations screen: read-only; a hold is released through the service, never edited."""

from datetime import timedelta

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from inventory import services
from inventory.admin.common import ReadOnlyAdmin, actor_of
from inventory.admin.paginator import EstimatedCountPaginator
from inventory.exceptions import InventoryError
from inventory.models import Reservation

EXPIRING_SOON = timedelta(minutes=5)


class ExpiryFilter(admin.SimpleListFilter):
    title = "expiry"
    parameter_name = "expiry"

    def lookups(self, request, model_admin):
        return [
            ("overdue", "Past expiry"),
            ("5m", "Within 5 minutes"),
            ("1h", "Within an hour"),
            ("later", "Later than an hour"),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        windows = {
            "overdue": Q(expires_at__lte=now),
            "5m": Q(expires_at__gt=now, expires_at__lte=now + EXPIRING_SOON),
            "1h": Q(expires_at__gt=now, expires_at__lte=now + timedelta(hours=1)),
            "later": Q(expires_at__gt=now + timedelta(hours=1)),
        }
        if self.value() in windows:
            return queryset.filter(windows[self.value()])
        return queryset


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = ("order_id", "product_id", "quantity", "status", "reacquired", "expires_at", "created_at")
    list_filter = ("status", ExpiryFilter)
    search_fields = ("=order_id",)
    search_help_text = "Exact order id."
    list_per_page = 100
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # per-filter counts are full counts too
    actions = ("release_selected",)

    def has_release_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("inventory.change_reservation")

    @admin.action(description="Release the selected active reservations", permissions=["release"])
    def release_selected(self, request: HttpRequest, queryset: QuerySet[Reservation]):
        active = list(queryset.filter(status=Reservation.Status.ACTIVE).order_by("order_id", "product_id"))
        skipped = queryset.count() - len(active)
        released, refused = 0, []
        for reservation in active:
            try:
                services.release_reservations(
                    order_id=reservation.order_id, product_id=reservation.product_id, actor=actor_of(request)
                )
                released += 1
            except InventoryError as error:
                refused.append(error.message)
        self.message_user(request, f"Released {released} reservation(s); {skipped} were not active.")
        for message in refused:
            self.message_user(request, message, messages.ERROR)
