"""The reservations screen: read-only; a hold is released through the service, never edited."""

from collections import Counter
from datetime import timedelta

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory import services
from inventory.admin.common import ReadOnlyAdmin, actor_of
from inventory.admin.paginator import EstimatedCountPaginator
from inventory.admin.presentation import ProductColumn, column, domain_message, figure, titled, when, yes_or_nothing
from inventory.exceptions import InventoryError
from inventory.models import Reservation

EXPIRING_SOON = timedelta(minutes=5)
# The release confirmation lists this many of the holds it will release; its count covers them all.
RELEASE_LISTED = 100


class ExpiryFilter(admin.SimpleListFilter):
    title = _("expiry")
    parameter_name = "expiry"

    def lookups(self, request, model_admin):
        return [
            ("overdue", _("Past expiry")),
            ("5m", _("Within 5 minutes")),
            ("1h", _("Within an hour")),
            ("later", _("Later than an hour")),
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
class ReservationAdmin(ProductColumn, ReadOnlyAdmin):
    # The client column: staff see every order, and whose it is.
    list_display = (
        "order_column",
        "client_column",
        "product_column",
        "warehouse_column",
        "quantity_column",
        "status_column",
        "reacquired_column",
        "expires_column",
        "created_column",
    )
    # A reservation's page: the same, and when it last changed.
    fields = (*list_display, "updated_column")
    list_filter = (
        ("status", titled(admin.ChoicesFieldListFilter, _("status"))),
        ExpiryFilter,
        ("warehouse", titled(admin.RelatedFieldListFilter, _("warehouse"))),
        ("client", titled(admin.RelatedFieldListFilter, _("client"))),
    )
    list_select_related = ("client", "product", "warehouse")
    search_fields = ("=order_id",)
    search_help_text = _("Exact order id.")
    list_per_page = 100
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # per-filter counts are full counts too
    actions = ("release_selected",)

    order_column = staticmethod(column("order_id", _("order")))
    client_column = staticmethod(column("client", _("client")))
    warehouse_column = staticmethod(column("warehouse", _("warehouse"), sortable=False))

    @admin.display(description=_("quantity"), ordering="quantity")
    def quantity_column(self, reservation: Reservation):
        return figure(reservation.quantity)

    @admin.display(description=_("status"), ordering="status")
    def status_column(self, reservation: Reservation) -> str:
        return reservation.get_status_display()

    @admin.display(description=_("taken again"), ordering="reacquired")
    def reacquired_column(self, reservation: Reservation) -> str:
        return yes_or_nothing(reservation.reacquired)

    @admin.display(description=_("expires"), ordering="expires_at")
    def expires_column(self, reservation: Reservation) -> str:
        return when(reservation.expires_at)

    @admin.display(description=_("created"), ordering="created_at")
    def created_column(self, reservation: Reservation) -> str:
        return when(reservation.created_at)

    @admin.display(description=_("last change"))
    def updated_column(self, reservation: Reservation) -> str:
        return when(reservation.updated_at)

    def has_release_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("inventory.change_reservation")

    @admin.action(description=_("Release the selected active reservations"), permissions=["release"])
    def release_selected(self, request: HttpRequest, queryset: QuerySet[Reservation]):
        released_with = self._released_with(queryset)
        if request.POST.get("post") != "yes":
            return self._release_confirmation(request, queryset, released_with)
        skipped = queryset.count() - queryset.filter(status=Reservation.Status.ACTIVE).count()
        # The service releases an order's product in all its warehouses at once: one call for each.
        holds = Counter((reservation.order_id, reservation.product_id) for reservation in released_with)
        released, refused = 0, []
        for (order_id, product_id), count in holds.items():
            try:
                services.release_reservations(order_id=order_id, product_id=product_id, actor=actor_of(request))
                released += count
            except InventoryError as error:
                refused.append(domain_message(error))
        self.message_user(
            request,
            _("Released %(released)s reservation(s); %(skipped)s were not active.")
            % {"released": released, "skipped": skipped},
        )
        for message in refused:
            self.message_user(request, message, messages.ERROR)

    @staticmethod
    def _released_with(queryset: QuerySet[Reservation]) -> QuerySet[Reservation]:
        """The active holds a release of the selection ends: with each selected one, its order's holds
        of the same product in other warehouses (a line split over warehouses moves together)."""
        selected = queryset.filter(
            status=Reservation.Status.ACTIVE, order_id=OuterRef("order_id"), product_id=OuterRef("product_id")
        )
        return (
            Reservation.objects.filter(status=Reservation.Status.ACTIVE)
            .filter(Exists(selected))
            .order_by("order_id", "product_id", "warehouse__priority", "warehouse__code")
        )

    def _release_confirmation(self, request: HttpRequest, queryset, released_with) -> TemplateResponse:
        """The page that asks before releasing; confirming posts the same selection back with post=yes."""
        active_count = released_with.count()
        selected_active = queryset.filter(status=Reservation.Status.ACTIVE).count()
        return TemplateResponse(
            request,
            "admin/inventory/reservation/release_confirmation.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("Release reservations"),
                "listed": released_with.select_related("product", "warehouse")[:RELEASE_LISTED],
                "active_count": active_count,
                "together": active_count - selected_active,
                "skipped": queryset.count() - selected_active,
                "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
                "select_across": request.POST.get("select_across", "0"),
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )
