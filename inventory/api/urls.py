"""/api/v1/...: every endpoint of the API, on one router (each with and without a trailing slash)."""

from rest_framework.routers import SimpleRouter

from inventory.api.views.counts import CountSheetViewSet
from inventory.api.views.internal import OrderReservationViewSet, ReservationListViewSet
from inventory.api.views.planning import ItemPlanViewSet, PlanningViewSet
from inventory.api.views.presales import OrderLinesViewSet, PreSaleViewSet
from inventory.api.views.public import PublicCheckViewSet
from inventory.api.views.purchasing import AvailableToPromiseViewSet, PurchaseOrderViewSet
from inventory.api.views.quotas import QuotaViewSet
from inventory.api.views.snapshots import ProductHistoryViewSet, WarehouseHistoryViewSet
from inventory.api.views.staff import InventoryViewSet
from inventory.api.views.transfers import TransferViewSet
from inventory.api.views.warehouses import PoolViewSet, WarehouseViewSet


class OptionalSlashRouter(SimpleRouter):
    """Every route answers with and without the trailing slash, so nothing is redirected."""

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
# Fixed paths before the staff viewset's: /inventory/reservations is not a product.
router.register("inventory/reservations", ReservationListViewSet, basename="reservations")
router.register("inventory", OrderReservationViewSet, basename="order-reservations")
router.register("inventory/check", PublicCheckViewSet, basename="inventory-check")
router.register("inventory", AvailableToPromiseViewSet, basename="inventory-atp")
router.register("inventory", ProductHistoryViewSet, basename="inventory-history")
router.register("inventory", InventoryViewSet, basename="inventory")
router.register("transfers", TransferViewSet, basename="transfers")
router.register("warehouses", WarehouseHistoryViewSet, basename="warehouses-history")
router.register("warehouses", WarehouseViewSet, basename="warehouses")
router.register("pools", PoolViewSet, basename="pools")
router.register("purchase-orders", PurchaseOrderViewSet, basename="purchase-orders")
router.register("quotas", QuotaViewSet, basename="quotas")
router.register("presales", PreSaleViewSet, basename="presales")
router.register("orders", OrderLinesViewSet, basename="orders")
router.register("count-sheets", CountSheetViewSet, basename="count-sheets")
router.register("planning/items", ItemPlanViewSet, basename="planning-items")
router.register("planning", PlanningViewSet, basename="planning")

urlpatterns = router.urls
