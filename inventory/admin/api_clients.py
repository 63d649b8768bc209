"""The API clients screen: create a client, rotate its token, revoke or reactivate it.

A token is shown once, in the response to the POST that made it: never in a message
(messages travel in the session or a cookie), never in a log. The stored hash is shown
nowhere. Every change goes through `inventory.services` and into the admin history.
Viewing needs the model's view permission, creating its add permission and the
buttons its change permission; nothing on the client itself is edited by hand.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.core.validators import RegexValidator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from inventory import limits, services
from inventory.admin.common import StrictModelAdmin, object_page_urls
from inventory.admin.presentation import column, titled, when, yes_or_no
from inventory.exceptions import InventoryError
from inventory.models import ApiClient

TEMPLATES = "admin/inventory/apiclient"


class ApiClientAddForm(forms.Form):
    required_css_class = "required"

    name = forms.CharField(
        label=_("Name"),
        max_length=limits.CLIENT_NAME_MAX_LENGTH,
        validators=[
            RegexValidator(limits.CLIENT_NAME_PATTERN, _("1 to 100 characters of letters, digits and . _ @ + -"))
        ],
        help_text=ApiClient._meta.get_field("name").help_text,
        widget=forms.TextInput(attrs={"autofocus": True}),
    )
    role = forms.ChoiceField(label=_("Role"), choices=ApiClient.Role.choices)


@dataclass(frozen=True)
class ClientChange:
    """A button of a client's page: what it warns of, the service it calls, what history records."""

    title: str
    warning: str
    service: Callable[..., object]
    history: str


CLIENT_CHANGES = {
    "rotate": ClientChange(
        _("Rotate token"),
        _("The current token stops working at once. The new one is shown once, on the next page."),
        services.rotate_token,
        _("Rotated the token."),
    ),
    "revoke": ClientChange(
        _("Revoke"),
        _("The client's token stops working until the client is reactivated."),
        services.revoke_api_client,
        _("Revoked."),
    ),
    "reactivate": ClientChange(
        _("Reactivate"), _("The client's current token works again."), services.reactivate_api_client, _("Reactivated.")
    ),
}


@admin.register(ApiClient)
class ApiClientAdmin(StrictModelAdmin):
    list_display = (
        "name_column",
        "role_column",
        "active_column",
        "token_start",
        "created_column",
        "rotated_column",
        "user_column",
    )
    list_filter = (
        ("role", titled(admin.ChoicesFieldListFilter, _("role"))),
        ("is_active", titled(admin.BooleanFieldListFilter, _("active"))),
    )
    list_select_related = ("user",)
    search_fields = ("name",)
    search_help_text = _("Name, or part of it.")
    # Listed on purpose: the token's hash is not among them.
    fields = list_display
    readonly_fields = fields
    change_form_template = f"{TEMPLATES}/change_form.html"

    name_column = staticmethod(column("name", _("name")))
    user_column = staticmethod(column("user", _("user")))

    @admin.display(description=_("role"), ordering="role")
    def role_column(self, client: ApiClient) -> str:
        return client.get_role_display()

    @admin.display(description=_("active"), ordering="is_active")
    def active_column(self, client: ApiClient) -> str:
        return yes_or_no(client.is_active)

    @admin.display(description=_("created"), ordering="created_at")
    def created_column(self, client: ApiClient) -> str:
        return when(client.created_at)

    @admin.display(description=_("token rotated"), ordering="rotated_at")
    def rotated_column(self, client: ApiClient) -> str:
        return when(client.rotated_at)

    @admin.display(description=_("token"))
    def token_start(self, client: ApiClient) -> str:
        return f"{client.token_prefix}…"

    # --- Permissions: the page is view-only; the buttons need the change permission.

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the actor names in the ledger stay explained

    def may_change_clients(self, request: HttpRequest) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.{get_permission_codename('change', self.opts)}")

    def lookup_allowed(self, lookup, value, request=None):
        # No filtering by the hash through the URL either: it would answer questions about it.
        # (StrictModelAdmin refuses a NUL and an empty `_to_field` on every screen.)
        if lookup.split("__", 1)[0] == "token_hash":
            return False
        return super().lookup_allowed(lookup, value, request)

    # --- Pages -------------------------------------------------------------------

    def get_urls(self):
        return [*object_page_urls(self, self.client_change_view, CLIENT_CHANGES, "change"), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        client = self.get_object(request, unquote(object_id))
        if client is not None and self.may_change_clients(request):
            extra_context = {**(extra_context or {}), "client_changes": self._change_links(client)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _change_links(self, client: ApiClient) -> list[tuple[str, str]]:
        shown = ["rotate", "revoke" if client.is_active else "reactivate"]
        return [
            (CLIENT_CHANGES[name].title, reverse(f"admin:inventory_apiclient_{name}", args=[client.pk]))
            for name in shown
        ]

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ApiClientAddForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                issued = services.create_api_client(**form.cleaned_data)
            except InventoryError as error:
                form.add_error("name" if "name" in error.details else None, error.message)
            else:
                self.log_addition(request, issued.client, [{"added": {}}])
                return self._token_page(request, issued)
        return self._page(request, "add.html", _("Add %(name)s") % {"name": self.opts.verbose_name}, form=form)

    def client_change_view(self, request: HttpRequest, object_id: str, change: ClientChange) -> HttpResponse:
        """GET asks to confirm; POST calls the service (anyone can post here: checked again)."""
        if not self.may_change_clients(request):
            raise PermissionDenied
        client = self.get_object(request, unquote(object_id))
        if client is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if request.method != "POST":
            title = _("%(change)s: %(client)s") % {"change": change.title, "client": client.name}
            return self._page(request, "confirm.html", title, original=client, change=change)
        result = change.service(client_id=client.pk)
        if isinstance(result, services.IssuedToken):
            self.log_change(request, result.client, change.history)
            return self._token_page(request, result)
        self.log_change(request, result, change.history)
        done = _("API client %(client)s: %(change)s") % {"client": client.name, "change": change.history}
        self.message_user(request, done, messages.SUCCESS)
        return redirect("admin:inventory_apiclient_change", client.pk)

    def _token_page(self, request: HttpRequest, issued: services.IssuedToken) -> TemplateResponse:
        # Rendered on the POST's own response: the token is in no message, session or redirect.
        return self._page(
            request,
            "token.html",
            _("The token of %(client)s") % {"client": issued.client.name},
            original=issued.client,
            token=issued.token,
        )

    def _page(self, request: HttpRequest, template: str, title: str, **context) -> TemplateResponse:
        return TemplateResponse(
            request,
            f"{TEMPLATES}/{template}",
            {**self.admin_site.each_context(request), "opts": self.opts, "title": title, **context},
        )
