"""The back office as one product: its name, where "View site" leads (the dashboard), its language switch."""

from django.contrib import admin
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("Inventory back office")
admin.site.site_title = _("Inventory back office")
admin.site.index_title = _("Warehouse")
# There is no public site: "View site" leads to the stock dashboard.
admin.site.site_url = reverse_lazy("admin:inventory_dashboard")
# The screens are few: the header links to them (templates/admin/base_site.html), and the
# sidebar's 240 px go to the lists' columns, which then fit a 1366 px screen.
admin.site.enable_nav_sidebar = False
