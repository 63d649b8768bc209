"""/api/v1/inventory/...: the internal endpoints (each with and without a trailing slash)."""

from inventory.urls import OptionalSlashRouter
from orders_integration.views import OrderReservationViewSet, ReservationListViewSet

router = OptionalSlashRouter()
router.register("inventory/reservations", ReservationListViewSet, basename="reservations")
router.register("inventory", OrderReservationViewSet, basename="order-reservations")

urlpatterns = router.urls
