"""Wiring of the production security features: the Content-Security-Policy middleware and
the client address of the admin-login lockout (docs/operations.md)."""

from csp.middleware import CSPMiddleware
from django.http import HttpRequest, HttpResponseBase
from rest_framework.throttling import BaseThrottle

# A response that is not a page loads nothing; the JSON API is most of the traffic.
NOT_A_PAGE_POLICY = "default-src 'none'; frame-ancestors 'none'"


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's policy (CONTENT_SECURITY_POLICY) on HTML pages, and a fixed "load nothing"
    policy on every other answer: django-csp builds its header anew per response, which cost
    ~70 µs of CPU on each API call, and a JSON body needs no sources at all."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if response.get("Content-Type", "").startswith("text/html"):
            return super().process_response(request, response)
        response.headers.setdefault("Content-Security-Policy", NOT_A_PAGE_POLICY)
        return response


def client_address(request: HttpRequest) -> str:
    """The address django-axes counts admin-login failures by (AXES_CLIENT_IP_CALLABLE): the one
    the API's throttles use, REMOTE_ADDR or the X-Forwarded-For entry that INVENTORY_NUM_PROXIES
    trusted proxies appended, so that a client cannot pick its own key."""
    return BaseThrottle().get_ident(request)
