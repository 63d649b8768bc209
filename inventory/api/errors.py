"""The one place that turns an error into the contract's error body.

`{"error": {"code", "message", "details"}}` for the domain errors of
`inventory.exceptions` (by their code), DRF's own errors (validation, parse error,
authentication, permission, not found, method not allowed, throttled, ...) and the
404/400/403/500 pages Django answers outside the views under /api/.
"""

import logging
import math
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.log import log_response
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from inventory.api.parsers import RequestTooLarge
from inventory.exceptions import InventoryError

logger = logging.getLogger(__name__)

# The errors of the framework and of Django, by the contract's code, with their status;
# the domain's own errors carry theirs (`InventoryError.status_code`).
_FRAMEWORK_CODES = [
    (exceptions.ValidationError, "validation_error"),
    (exceptions.ParseError, "validation_error"),
    (exceptions.NotAuthenticated, "not_authenticated"),
    (exceptions.AuthenticationFailed, "not_authenticated"),
    (exceptions.PermissionDenied, "permission_denied"),
    (exceptions.NotFound, "not_found"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.NotAcceptable, "not_acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.Throttled, "throttled"),
    (RequestTooLarge, "request_too_large"),
]
SERVER_ERROR = ("server_error", 500)


def error_statuses() -> dict[str, int]:
    """Every code an error answer may carry, with its status, in order of status."""
    statuses = {code: exc_class.status_code for exc_class, code in _FRAMEWORK_CODES}
    statuses |= {code: error_class.status_code for code, error_class in InventoryError.by_code.items()}
    statuses[SERVER_ERROR[0]] = SERVER_ERROR[1]
    return dict(sorted(statuses.items(), key=lambda item: item[1]))


# The `code` enum of the OpenAPI document (SPECTACULAR_SETTINGS names it by its path).
ERROR_CODES = list(error_statuses())


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER."""
    if isinstance(exc, InventoryError):
        return Response(error_body(exc.code, exc.message, _domain_details(exc)), status=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):  # over DATA_UPLOAD_MAX_MEMORY_SIZE
        exc = RequestTooLarge()
    # DRF's handler sets the headers (WWW-Authenticate, Retry-After) and the status.
    response = drf_exception_handler(exc, context)
    if response is None:
        return _debug_server_error(exc, context)  # a bug: None outside DEBUG, answered by `server_error` below
    code = _drf_code(exc)
    message, details = _drf_message_and_details(exc, code)
    if isinstance(exc, exceptions.Throttled):
        wait = max(1, math.ceil(exc.wait or 1))
        response["Retry-After"] = str(wait)
        details = {"retry_after": wait}
    response.data = error_body(code, message, details)
    return response


def _debug_server_error(exc: Exception, context: dict[str, Any]) -> JsonResponse | None:
    """In DEBUG, a bug in a view answers the JSON `server_error` body, not Django's HTML debug page.

    Clients written against the contract (and the simulator under `make run`) read the
    body. The traceback is logged as Django logs it. Outside DEBUG this returns None:
    the exception goes on to Django, which logs it and answers through `server_error`.
    """
    if not settings.DEBUG:
        return None
    request = context["request"]._request
    response = _server_error_response()
    log_response("Internal Server Error: %s", request.path, response=response, request=request, exception=exc)
    return response


def _domain_details(exc: InventoryError) -> dict[str, Any]:
    if exc.code == "validation_error":
        # A check behind the API's own: name the field, with the message.
        return {name: [exc.message] for name in exc.details} or {"non_field_errors": [exc.message]}
    return exc.details


def _drf_code(exc: exceptions.APIException) -> str:
    for exc_class, code in _FRAMEWORK_CODES:
        if isinstance(exc, exc_class):
            return code
    # Any other APIException: its own code, or validation_error for a 400.
    if exc.status_code == status.HTTP_400_BAD_REQUEST:
        return "validation_error"
    return getattr(exc, "default_code", "") or "error"


def _drf_message_and_details(exc: exceptions.APIException, code: str) -> tuple[str, dict[str, Any]]:
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        if not isinstance(detail, dict):
            detail = {"non_field_errors": detail if isinstance(detail, list) else [detail]}
        return "The request is not valid: see details.", _plain(detail)
    detail = exc.detail
    if isinstance(detail, list | dict):
        return "The request failed.", {"errors": _plain(detail)}
    return str(detail), {}


def _plain(value: Any) -> Any:
    """ErrorDetail strings and nested containers as plain JSON values."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return str(value)


# --- Django's own error views (config.urls names them as handler400/403/404/500) -------------


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    if not _is_api(request):
        return defaults.bad_request(request, exception)
    return JsonResponse(error_body("validation_error", "Bad request."), status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    if not _is_api(request):
        return defaults.permission_denied(request, exception)
    return JsonResponse(error_body("permission_denied", "You do not have permission to do this."), status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    if not _is_api(request):
        return defaults.page_not_found(request, exception)
    return JsonResponse(error_body("not_found", "No such endpoint."), status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    if not _is_api(request):
        return defaults.server_error(request)
    return _server_error_response()


def _server_error_response() -> JsonResponse:
    code, status_code = SERVER_ERROR
    return JsonResponse(error_body(code, "Internal error; it has been logged."), status=status_code)
