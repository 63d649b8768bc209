"""What the screens of documents with steps share (transfers, purchase orders, quotas, pre-sales,
backorders): a form that calls one service and shows its refusal as its own error, a form with
a start and an end, a step that sends only the terms the person changed, the form of a step
that takes a quantity per line, and an admin whose documents are made on the add page and
changed only by their steps, each a page under the document's URL that calls its service.

A screen says what is its own: its forms, its steps, its templates folder, the permission
its steps need and its messages (each a sentence of its own, for the translators).
"""

from collections.abc import Callable, Iterable, Iterator, Mapping

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.admin.common import StrictModelAdmin, actor_of, object_page_urls, require_perm
from inventory.admin.forms import MomentField
from inventory.admin.presentation import domain_message
from inventory.exceptions import InventoryError


class ServiceForm(forms.Form):
    """A form that calls one service and shows its refusal as its own error."""

    required_css_class = "required"
    # Where a refusal's details point on this form: the service's names -> the form's fields.
    detail_fields: dict[str, str] = {}

    def call(self, service, **arguments):
        """The service's answer; None, with its refusal added to the form, if it refused."""
        try:
            return service(**arguments)
        except InventoryError as error:
            self.refused(error)
            return None

    def refused(self, error: InventoryError) -> None:
        field = next((self.detail_fields[name] for name in error.details if name in self.detail_fields), None)
        self.add_error(field, domain_message(error))


class WindowForm(ServiceForm):
    """A form with a document's start and end (a quota's, a pre-sale's): the end after the start, in the future."""

    starts_at = MomentField(label=_("Starts"))
    ends_at = MomentField(label=_("Ends"))
    # Each screen's own sentences, for the translators.
    ends_after_start: str
    ends_in_future: str

    def clean(self):
        cleaned = super().clean()
        starts, ends = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts is not None and ends is not None and ends <= starts:
            self.add_error("ends_at", self.ends_after_start)
        elif ends is not None and ends <= timezone.now():
            # The service judges it again by the database's clock.
            self.add_error("ends_at", self.ends_in_future)
        return cleaned


class ChangesForm(ServiceForm):
    """A step that shows a document's terms as they are (`shown`) and sends only what the person changed."""

    def __init__(self, data=None, *, shown: Mapping[str, object], **kwargs):
        self.shown = dict(shown)
        super().__init__(data, initial=self.shown, **kwargs)

    def changes(self) -> dict:
        # A moment shown to the second and posted back as it was is no change (its microseconds were not shown).
        return {
            name: value for name, value in self.cleaned_data.items() if name in self.shown and value != self.shown[name]
        }


class LineQuantitiesForm(ServiceForm):
    """A box per line of a document for the units this step takes of it (by default what is
    outstanding), at least one of them more than 0; its lines as they are now, with their boxes."""

    box_size = 8

    def __init__(self, data, *, lines: Iterable, most: Callable[[object], int]):
        super().__init__(data)
        self.lines = list(lines)
        for line in self.lines:
            label = _("Received now of product %(product)s") % {"product": line.product_id}
            self.fields[self.name_of(line)] = forms.IntegerField(
                label=label,
                min_value=0,
                max_value=most(line),
                initial=line.outstanding,
                widget=forms.NumberInput(attrs={"aria-label": label, "size": self.box_size}),
            )
        if self.lines:
            self.fields[self.name_of(self.lines[0])].widget.attrs["autofocus"] = True

    @staticmethod
    def name_of(line) -> str:
        return f"line_{line.product_id}"

    def lines_now(self) -> Iterable:
        """The document's lines as they are now, with their products (the rows show them)."""
        raise NotImplementedError

    def rows(self) -> Iterator[tuple[object, forms.BoundField]]:
        """Each line the form was made with, as it is now, with its box."""
        now = {line.product_id: line for line in self.lines_now()}
        for line in self.lines:
            yield now[line.product_id], self[self.name_of(line)]

    def quantities(self) -> list[tuple[int, int]]:
        """(product_id, units) of each line given more than 0."""
        given = [(line.product_id, self.cleaned_data[self.name_of(line)]) for line in self.lines]
        return [(product_id, units) for product_id, units in given if units]

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not any(cleaned.get(self.name_of(line)) for line in self.lines):
            raise forms.ValidationError(_("Give a quantity received for at least one line."))
        return cleaned


class DocumentAdmin(StrictModelAdmin):
    """A document made on the add page and changed only by its steps' services."""

    templates: str  # the folder of the screen's templates
    step_permission: str
    steps: Mapping[str, type[ServiceForm]]
    add_form: type[ServiceForm]
    add_title: str
    add_template = "add.html"
    # The keyword the steps' forms take the document by.
    document_argument: str

    def is_open(self, document: Model) -> bool:
        """Whether the document still takes steps."""
        return document.is_open

    def added(self, document: Model) -> str:
        """The message that the add page made `document`."""
        raise NotImplementedError

    def not_open(self, document: Model) -> str:
        """The warning that `document` takes no more steps."""
        raise NotImplementedError

    def step_title(self, step: type[ServiceForm], document: Model) -> str:
        raise NotImplementedError

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def may_step(self, request: HttpRequest) -> bool:
        return request.user.has_perm(self.step_permission)

    def steps_for(self, document: Model) -> list[str]:
        """The steps an open document takes (the URL names of `steps`): all of them, unless a screen says."""
        return list(self.steps)

    def step_links(self, request: HttpRequest, document: Model) -> list[tuple[str, str]]:
        """(title, URL) of each step the person may take on the document now."""
        if not (self.is_open(document) and self.may_step(request)):
            return []
        return [
            (
                self.steps[name].title,
                reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}", args=[document.pk]),
            )
            for name in self.steps_for(document)
        ]

    def get_urls(self):
        return [*object_page_urls(self, self.step_view, self.steps, "step"), *super().get_urls()]

    def _change_page(self, document: Model):
        return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", document.pk)

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = self.add_form(request.POST if request.method == "POST" else None)
        if form.is_valid():
            document = form.submit(actor=actor_of(request))
            if document is not None:
                self.log_addition(request, document, [{"added": {}}])
                self.message_user(request, self.added(document), messages.SUCCESS)
                return self._change_page(document)
        return self.page(request, self.add_template, self.add_title, form=form)

    def step_view(self, request: HttpRequest, object_id: str, step: type[ServiceForm]) -> HttpResponse:
        """GET shows the step's form; POST calls the service (which checks everything again)."""
        require_perm(request, self.step_permission)
        document = self.get_object(request, unquote(object_id))
        if document is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.is_open(document):
            self.message_user(request, self.not_open(document), messages.WARNING)
            return self._change_page(document)
        form = step(request.POST if request.method == "POST" else None, **{self.document_argument: document})
        if form.is_valid():
            after = form.submit(actor=actor_of(request))
            if after is not None:
                done = form.done(after)
                self.log_change(request, after, done)
                self.message_user(request, done, messages.SUCCESS)
                return self._change_page(document)
            document = self.get_object(request, unquote(object_id))  # as the refusal found it
        return self.page(request, form.template, self.step_title(step, document), original=document, form=form)

    def page(self, request: HttpRequest, template: str, title: str, **context) -> TemplateResponse:
        # The screen's own template, else the one the screens share (form.html).
        return TemplateResponse(
            request,
            [f"{self.templates}/{template}", f"admin/inventory/{template}"],
            {**self.admin_site.each_context(request), "opts": self.opts, "title": title, **context},
        )
