from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from inventory.admin.locale import set_language_and_remember
from inventory.api.health import healthz, readyz
from inventory.metrics.views import metrics

urlpatterns = [
    path("admin/", admin.site.urls),
    # The back office's language switch: Django's set_language, and the choice saved with the account.
    path("i18n/setlang/", set_language_and_remember, name="set_language"),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    # Prometheus scrapes it with METRICS_TOKEN (docs/monitoring.md).
    path("metrics", metrics, name="metrics"),
    re_path(r"^api/schema/?$", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file (?script), as the Content-Security-Policy asks.
    re_path(r"^api/docs/?$", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    path("api/v1/", include("inventory.api.urls")),
]

# Errors Django answers itself (unknown path, bad Host, ...) get the contract's body under /api/.
handler400 = "inventory.api.errors.bad_request"
handler403 = "inventory.api.errors.permission_denied"
handler404 = "inventory.api.errors.page_not_found"
handler500 = "inventory.api.errors.server_error"
