"""The quotas screen: set units of a level aside for a campaign or a customer tier, change a
quota's units and terms, end it.

Every change goes through `inventory.services` with the staff member as actor, and into the
admin history; a refusal of the service is shown on the form, and nothing is half done. The
list and a quota's page (its figures and its log entries) are read-only and need
`view_quota`; creating, changing and ending need `manage_quota`, as in the API.
"""

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.validators import MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory import limits, services
from inventory.admin.common import code_or_product
from inventory.admin.documents import ChangesForm, DocumentAdmin, ServiceForm, WindowForm
from inventory.admin.forms import NoControlCharacters, WarehouseChoiceField, code_field, shown_moment
from inventory.admin.presentation import (
    NOTHING,
    ProductColumn,
    StatusColumn,
    column,
    figure_column,
    titled,
    when_column,
    yes_or_no,
)
from inventory.models import Quota
from inventory.selectors.quotas import quota_entries
from inventory.templatetags.back_office import grouped

TEMPLATES = "admin/inventory/quota"
MANAGE_PERMISSION = "inventory.manage_quota"


class QuotaTermsForm(WindowForm):
    """What a quota's creation and its change share: the units, the window and the terms."""

    quantity = forms.IntegerField(label=_("Units"), min_value=1, max_value=limits.MAX_QUANTITY)
    tier = code_field(
        _("Customer tier"),
        _("The orders of this tier draw on the quota without naming it; empty: only lines that name it."),
        required=False,
    )
    priority = forms.IntegerField(
        label=_("Priority"),
        min_value=limits.MIN_QUOTA_PRIORITY,
        max_value=limits.MAX_QUOTA_PRIORITY,
        initial=Quota._meta.get_field("priority").default,
        help_text=_("Lower is served first: among a tier's quotas, and kept longest when a count finds units gone."),
    )
    overflow = forms.BooleanField(
        label=_("Overflow into free stock"),
        required=False,
        initial=Quota._meta.get_field("overflow").default,
        help_text=_("A line may take what the quota lacks from free stock."),
    )
    name = forms.CharField(
        label=_("Name"), required=False, max_length=limits.QUOTA_NAME_MAX_LENGTH, validators=[NoControlCharacters()]
    )
    reason = forms.CharField(
        label=_("Why"), required=False, max_length=limits.MAX_REASON_LENGTH, widget=forms.Textarea(attrs={"rows": 2})
    )
    # The field a refusal's details name (a shortage's `items` are the units asked for).
    detail_fields = {"items": "quantity", "quantity": "quantity", "starts_at": "starts_at", "ends_at": "ends_at"}
    ends_after_start = _("A quota ends after it starts.")
    ends_in_future = _("A quota ends in the future.")


class QuotaAddForm(QuotaTermsForm):
    template = "form.html"
    intro = ""
    button = _("Create the quota")

    code = code_field(
        _("Code"), _("Names the quota everywhere, in the API and on reserve lines too; it never changes.")
    )
    product_id = forms.IntegerField(label=_("Product id"), min_value=1, max_value=limits.MAX_PRODUCT_ID)
    warehouse = WarehouseChoiceField(label=_("Warehouse"), initial=limits.DEFAULT_WAREHOUSE)
    field_order = ["code", "product_id", "warehouse", "quantity", "starts_at", "ends_at"]
    detail_fields = {**QuotaTermsForm.detail_fields, "code": "code", "product_id": "product_id"}

    def __init__(self, data=None):
        super().__init__(data)
        self.fields["quantity"].help_text = _("Set aside now, from the free stock of the product in this warehouse.")
        self.fields["starts_at"].initial = shown_moment(timezone.now())

    def submit(self, *, actor: str) -> Quota | None:
        data = dict(self.cleaned_data)
        data["warehouse"] = data["warehouse"].code
        return self.call(services.create_quota, **data, actor=actor)


class QuotaChangeForm(ChangesForm, QuotaTermsForm):
    """The quota's units and terms as they are; only what the person changes is sent."""

    title = _("Change the quota")
    template = "form.html"
    intro = _(
        "Units are the quota's units in all, those drawn included: more sets more aside from free stock, "
        "fewer return units to it."
    )
    button = _("Save the changes")

    def __init__(self, data=None, *, quota: Quota):
        self.quota = quota
        shown = {
            "quantity": quota.quantity,
            "starts_at": shown_moment(quota.starts_at),
            "ends_at": shown_moment(quota.ends_at),
            "tier": quota.tier,
            "priority": quota.priority,
            "overflow": quota.overflow,
            "name": quota.name,
        }
        super().__init__(data, shown=shown)
        if quota.drawn > 1:  # never fewer than drawn: the service would refuse it in English
            self.fields["quantity"].validators.append(MinValueValidator(quota.drawn))
            self.fields["quantity"].widget.attrs["min"] = quota.drawn
        self.fields["quantity"].help_text = _("%(drawn)s drawn already.") % {"drawn": grouped(quota.drawn)}

    def submit(self, *, actor: str) -> Quota | None:
        return self.call(
            services.change_quota,
            code=self.quota.code,
            **self.changes(),
            reason=self.cleaned_data["reason"],
            actor=actor,
        )

    def done(self, after: Quota) -> str:
        if not self.changes():
            return _("Quota %(code)s: nothing was changed.") % {"code": after.code}
        return _("Quota %(code)s changed: %(allotted)s units set aside, %(drawn)s drawn.") % {
            "code": after.code,
            "allotted": grouped(after.allotted),
            "drawn": grouped(after.drawn),
        }


class QuotaEndForm(ServiceForm):
    title = _("End the quota")
    template = "form.html"
    intro = _("End this quota now? The units it still sets aside return to free stock, and nothing draws on it again.")
    button = _("Yes, end it")

    reason = forms.CharField(
        label=_("Why"), required=False, max_length=limits.MAX_REASON_LENGTH, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, data=None, *, quota: Quota):
        super().__init__(data)
        self.quota = quota

    def submit(self, *, actor: str) -> Quota | None:
        return self.call(services.end_quota, code=self.quota.code, reason=self.cleaned_data["reason"], actor=actor)

    def done(self, after: Quota) -> str:
        return _("Quota %(code)s ended: %(units)s units returned to free stock.") % {
            "code": after.code,
            "units": grouped(self.quota.allotted),
        }


# The steps of an active quota, each a page under the quota's URL: URL name -> form.
QUOTA_STEPS: dict[str, type[QuotaChangeForm | QuotaEndForm]] = {"terms": QuotaChangeForm, "end": QuotaEndForm}


@admin.register(Quota)
class QuotaAdmin(StatusColumn, ProductColumn, DocumentAdmin):
    """Created through the add page, changed only by the steps' services."""

    templates = TEMPLATES
    step_permission = MANAGE_PERMISSION
    steps = QUOTA_STEPS
    add_form = QuotaAddForm
    add_title = _("Create a quota")
    add_template = "form.html"
    document_argument = "quota"

    list_display = (
        "code_column",
        "name_column",
        "product_column",
        "warehouse_column",
        "tier_column",
        "priority_column",
        "overflow_column",
        "quantity_column",
        "allotted_column",
        "drawn_column",
        "status_column",
        "starts_column",
        "ends_column",
    )
    fields = (*list_display, "actor_column", "created_column", "updated_column")
    readonly_fields = fields
    list_filter = (
        ("status", titled(admin.ChoicesFieldListFilter, _("status"))),
        ("warehouse", titled(admin.RelatedFieldListFilter, _("warehouse"))),
        ("tier", titled(admin.AllValuesFieldListFilter, _("customer tier"))),
    )
    list_select_related = ("product", "warehouse")
    search_fields = ("code",)
    search_help_text = _("A quota's code, or the start of one; a product id.")
    list_per_page = 100
    change_form_template = f"{TEMPLATES}/change_form.html"

    code_column = staticmethod(column("code", _("code")))
    name_column = staticmethod(column("name", _("name"), sortable=False))
    warehouse_column = staticmethod(column("warehouse", _("warehouse"), sortable=False))
    priority_column = staticmethod(column("priority", _("priority")))
    actor_column = staticmethod(column("actor", _("created by"), sortable=False))
    quantity_column = staticmethod(figure_column("quantity", _("units")))
    allotted_column = staticmethod(figure_column("allotted", _("set aside")))
    drawn_column = staticmethod(figure_column("drawn", _("drawn")))
    starts_column = staticmethod(when_column("starts_at", _("starts")))
    ends_column = staticmethod(when_column("ends_at", _("ends")))
    created_column = staticmethod(when_column("created_at", _("created")))
    updated_column = staticmethod(when_column("updated_at", _("last change")))

    @admin.display(description=_("customer tier"), ordering="tier")
    def tier_column(self, quota: Quota) -> str:
        return quota.tier or NOTHING

    @admin.display(description=_("overflow"))
    def overflow_column(self, quota: Quota) -> str:
        return yes_or_no(quota.overflow)

    def has_add_permission(self, request):
        return request.user.has_perm(MANAGE_PERMISSION)

    def get_search_results(self, request, queryset, search_term):
        return code_or_product(queryset, search_term), False

    # --- Pages -----------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        quota = self.get_object(request, unquote(object_id))
        if quota is not None:
            extra_context = {
                **(extra_context or {}),
                "entries": quota_entries(quota),
                "step_links": self.step_links(request, quota),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def is_open(self, document: Quota) -> bool:
        return document.status == Quota.Status.ACTIVE

    def added(self, document: Quota) -> str:
        return _("Quota %(code)s created: %(units)s units of product %(product)s set aside in %(warehouse)s.") % {
            "code": document.code,
            "units": grouped(document.quantity),
            "product": document.product_id,
            "warehouse": document.warehouse.code,
        }

    def not_open(self, document: Quota) -> str:
        return _("Quota %(code)s has ended: it can no longer be changed.") % {"code": document.code}

    def step_title(self, step: type[ServiceForm], document: Quota) -> str:
        return _("%(step)s: quota %(code)s") % {"step": step.title, "code": document.code}
