"""The language of the back office: Django's LocaleMiddleware, on the back office's pages only.

The API answers in the contract's English whatever the client's Accept-Language (DRF would
translate its own messages), and gets no Content-Language or Vary header it did not have.
A person's choice is the language cookie Django's set_language view (`/i18n/setlang/`) sets.
"""

from django.http import HttpRequest, HttpResponseBase
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

# The admin and the view that switches its language (config/urls.py).
BACK_OFFICE_PREFIXES = ("/admin/", "/i18n/")


def is_back_office(request: HttpRequest) -> bool:
    return request.path_info.startswith(BACK_OFFICE_PREFIXES)


class BackOfficeLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        if is_back_office(request):
            super().process_request(request)
        else:
            # A thread's language outlives its request: an API call after an admin page in
            # Chinese would otherwise answer in Chinese.
            translation.deactivate()

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if is_back_office(request):
            return super().process_response(request, response)
        return response
