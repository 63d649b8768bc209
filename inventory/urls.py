"""/api/v1/inventory/...: the public and staff endpoints (each with and without a trailing slash)."""

from rest_framework.routers import SimpleRouter

from inventory.views import InventoryViewSet, PublicCheckViewSet


class OptionalSlashRouter(SimpleRouter):
    """Every route answers with and without the trailing slash, so nothing is redirected."""

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
router.register("inventory/check", PublicCheckViewSet, basename="inventory-check")
router.register("inventory", InventoryViewSet, basename="inventory")

urlpatterns = router.urls
