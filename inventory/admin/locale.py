"""The language of the back office: Django's LocaleMiddleware, on the back office's pages only.

The API answers in the contract's English whatever the client's Accept-Language (DRF would
translate its own messages), and gets no Content-Language or Vary header it did not have.
The language is the person's own (picked in the header and saved with the account,
`set_language_and_remember`), else the one picked on this browser (Django's language
cookie), else the browser's Accept-Language.
"""

from django.http import HttpRequest, HttpResponseBase
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.views.i18n import set_language

from inventory import selectors, services

# The admin and the view that switches its language (config/urls.py).
BACK_OFFICE_PREFIXES = ("/admin/", "/i18n/")


def is_back_office(request: HttpRequest) -> bool:
    return request.path_info.startswith(BACK_OFFICE_PREFIXES)


class BackOfficeLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        if is_back_office(request):
            saved = selectors.preferred_language(getattr(request, "user", None))
            if saved is None:
                super().process_request(request)
            else:
                translation.activate(saved)
                request.LANGUAGE_CODE = translation.get_language()
        else:
            # A thread's language outlives its request: an API call after an admin page in
            # Chinese would otherwise answer in Chinese.
            translation.deactivate()

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if is_back_office(request):
            return super().process_response(request, response)
        return response


def set_language_and_remember(request: HttpRequest) -> HttpResponseBase:
    """Django's set_language (the cookie, then back to the page), and for a signed-in person
    the choice saved with their account, so that it follows them to another browser."""
    response = set_language(request)
    language = request.POST.get("language")
    if request.method == "POST" and request.user.is_authenticated and translation.check_for_language(language or ""):
        services.remember_language(
            user_id=request.user.pk, language=translation.get_supported_language_variant(language)
        )
    return response
