from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from inventory.api.health import healthz, readyz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    re_path(r"^api/schema/?$", SpectacularAPIView.as_view(), name="schema"),
    re_path(r"^api/docs/?$", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/v1/", include("inventory.api.urls")),
]

# Errors Django answers itself (unknown path, bad Host, ...) get the contract's body under /api/.
handler400 = "inventory.api.errors.bad_request"
handler403 = "inventory.api.errors.permission_denied"
handler404 = "inventory.api.errors.page_not_found"
handler500 = "inventory.api.errors.server_error"
