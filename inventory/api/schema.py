"""OpenAPI pieces shared by the views: the error answers each endpoint can give."""

import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from inventory import limits
from inventory.api.errors import error_body, error_statuses
from inventory.api.serializers.stock import ErrorSerializer
from inventory.exceptions import InventoryError

_ERROR_DESCRIPTIONS = {
    400: "`validation_error`: malformed body or query; `details` maps each field to its messages.",
    401: "`not_authenticated`: no or bad credentials (`WWW-Authenticate: Token`).",
    403: "`permission_denied`: the caller's role or permissions do not allow this.",
    404: "`not_found`: no such page.",
    405: "`method_not_allowed`",
    406: "`not_acceptable`: only application/json is served.",
    409: "a conflict",
    413: "`request_too_large`: the body is over the limit (1 MiB by default).",
    415: "`unsupported_media_type`: the body must be application/json.",
    422: "`idempotency_key_reused`: the Idempotency-Key was used with a different request.",
    429: "`throttled`: too many requests from this address; `Retry-After` says when to retry.",
}

# Errors any endpoint may give whatever it does.
COMMON = (400, 405, 406)
PUBLIC = (*COMMON, 429)
PROTECTED = (*COMMON, 401, 403)
# A list: a page past the last is a 404 `not_found`.
LIST = (*PROTECTED, 404)
WITH_BODY = (413, 415)


def errors(*statuses: int, **descriptions: str) -> dict:
    """Error answers by status; `s404="..."` etc. describe an endpoint's own codes.

    Each answer carries one example per error code its description names, so the
    examples say what the description says (without them, the documentation tools
    show the first code of the enum, `validation_error`, for every status).
    """
    responses = {}
    for status in sorted(set(statuses) | {int(name[1:]) for name in descriptions}):
        description = descriptions.get(f"s{status}", _ERROR_DESCRIPTIONS.get(status, "error"))
        responses[status] = OpenApiResponse(
            ErrorSerializer, description=description, examples=error_examples(status, description)
        )
    return responses


# A code named in a description: `insufficient_stock`, not `details.items` or `WWW-Authenticate: Token`.
_CODE_IN_TEXT = re.compile(r"`([a-z_]+)`")
# Example texts of the framework's errors; the domain's come from their classes.
_FRAMEWORK_MESSAGES = {
    "validation_error": "The request is not valid: see details.",
    "not_authenticated": "Authentication credentials were not provided.",
    "permission_denied": "You do not have permission to perform this action.",
    "not_found": "Not found.",
    "method_not_allowed": 'Method "DELETE" not allowed.',
    "not_acceptable": "Could not satisfy the request Accept header.",
    "request_too_large": "The request body is larger than 1048576 bytes.",
    "unsupported_media_type": 'Unsupported media type "text/plain" in request.',
    "throttled": "Request was throttled. Expected available in 12 seconds.",
}
_EXAMPLE_DETAILS = {
    "validation_error": {"quantity": ["Ensure this value is less than or equal to 1000000000."]},
    "throttled": {"retry_after": 12},
    "insufficient_stock": {"items": [{"product_id": 42, "requested": 5, "available": 2}]},
    "reservation_expired": {"items": [{"product_id": 42, "requested": 2, "available": 0}]},
    "version_conflict": {"current_version": 8},
}


def codes_named(status: int, description: str) -> list[str]:
    """The error codes of this status that a description names, in its order."""
    statuses = error_statuses()
    return [code for code in dict.fromkeys(_CODE_IN_TEXT.findall(description)) if statuses.get(code) == status]


def error_examples(status: int, description: str) -> list[OpenApiExample]:
    return [
        OpenApiExample(
            code,
            value=error_body(code, _example_message(code), _EXAMPLE_DETAILS.get(code)),
            response_only=True,
            status_codes=[str(status)],
        )
        for code in codes_named(status, description)
    ]


def _example_message(code: str) -> str:
    if code in _FRAMEWORK_MESSAGES:
        return _FRAMEWORK_MESSAGES[code]
    return InventoryError.by_code[code].default_message


def product_id_path_parameter() -> OpenApiParameter:
    return OpenApiParameter(
        "product_id",
        {"type": "integer", "format": "int64", "minimum": 1, "maximum": limits.MAX_PRODUCT_ID},
        OpenApiParameter.PATH,
        description="Positive integer up to 9223372036854775807 (2^63-1); anything else is a 400 `validation_error`.",
    )


IDEMPOTENCY_KEY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255},
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Makes the call safe to retry. Scoped to the calling client or user and kept 24 hours: the "
        "same key with the same request (method, path and JSON value) answers the first answer again "
        "and changes nothing; with another request, 422 `idempotency_key_reused`. Only successful "
        "answers are stored. A replayed answer carries `Idempotent-Replayed: true`."
    ),
)

# `errors()` gives this example to every 409 that names `insufficient_stock`; the views name it too.
(INSUFFICIENT_STOCK_EXAMPLE,) = error_examples(409, "`insufficient_stock`")

# Bounds that drf-spectacular does not carry over from a ListSerializer.
ARRAY_BOUNDS = {
    ("BatchCheckInputRequest", "items"): (1, limits.MAX_BATCH_ITEMS),
    ("ReserveOrderRequest", "items"): (1, limits.MAX_LINES_PER_ORDER),
    ("CreateTransferInputRequest", "lines"): (1, limits.MAX_TRANSFER_LINES),
    ("ReceiveTransferInputRequest", "lines"): (1, limits.MAX_TRANSFER_LINES),
}


def complete_schema(result, generator, request, public):
    """SPECTACULAR_SETTINGS postprocessing hook: what drf-spectacular leaves out.

    minItems/maxItems of the bounded lists, and every request body is required
    (a oneOf body, from a PolymorphicProxySerializer, is not marked so), an array
    query parameter (`ordering`) has at least one item. Paths are
    written as the contract writes them, without the trailing slash (both forms
    answer, with no redirect). Public endpoints need no credentials (see
    `_no_credentials`), and the 2^63-1 bounds are spelled out (see `_spell_out_int64_bounds`).
    """
    result["paths"] = {
        (path.rstrip("/") if path.startswith("/api/v1/") else path): item for path, item in result["paths"].items()
    }
    for item in result.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                operation["requestBody"]["required"] = True
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("schema", {}).get("type") == "array":
                    parameter["schema"]["minItems"] = 1  # `ordering=` alone is refused
            if isinstance(operation, dict):
                _no_credentials(operation)
    schemas = result.get("components", {}).get("schemas", {})
    for (component, field), (minimum, maximum) in ARRAY_BOUNDS.items():
        prop = schemas.get(component, {}).get("properties", {}).get(field)
        if prop is not None:
            prop["minItems"], prop["maxItems"] = minimum, maximum
    _spell_out_int64_bounds(result)
    _blank_text_any_of(result)
    _optional_in_answers(schemas)
    return result


def _blank_text_any_of(node) -> None:
    """drf-spectacular writes a text field that may be blank and has a pattern as `oneOf`
    [the pattern, an empty string]; where the pattern admits "" too (a label), "" matches
    both and a strict validator (schemathesis) takes it as invalid: `anyOf` says what we mean."""
    if isinstance(node, dict):
        alternatives = node.get("oneOf")
        if isinstance(alternatives, list) and {"type": "string", "maxLength": 0} in alternatives:
            node["anyOf"] = node.pop("oneOf")
        for value in node.values():
            _blank_text_any_of(value)
    elif isinstance(node, list):
        for value in node:
            _blank_text_any_of(value)


# Fields an answer carries only sometimes (read-only fields are otherwise marked required).
OPTIONAL_ANSWER_FIELDS = {"Inventory": ("sku", "name")}


def _optional_in_answers(schemas: dict) -> None:
    for component, fields in OPTIONAL_ANSWER_FIELDS.items():
        schema = schemas.get(component, {})
        schema["required"] = [name for name in schema.get("required", []) if name not in fields]


def _no_credentials(operation: dict) -> None:
    """An endpoint open to anyone has `security: []`, not drf-spectacular's `[{}]`.

    `[{}]` reads as "one requirement, met by no scheme"; client generators
    (openapi-python-client) take any non-empty list to mean credentials are needed.
    """
    if operation.get("security") == [{}]:
        operation["security"] = []


def _spell_out_int64_bounds(node) -> None:
    """Say 2^63-1 in digits in the description of every schema bounded by it.

    The document carries the exact integer, but JavaScript (the interactive docs)
    reads a JSON number as a double and shows 9223372036854776000.
    """
    if isinstance(node, list):
        for item in node:
            _spell_out_int64_bounds(item)
        return
    if not isinstance(node, dict):
        return
    # A parameter shows its own description, not its schema's.
    bounded = node.get("schema", {}) if "in" in node else node
    if bounded.get("maximum") == limits.MAX_PRODUCT_ID:
        if str(limits.MAX_PRODUCT_ID) not in node.get("description", ""):
            bound = f"At most {limits.MAX_PRODUCT_ID} (2^63-1)."
            node["description"] = f"{node['description']} {bound}" if node.get("description") else bound
        if bounded is not node:
            return
    for value in node.values():
        _spell_out_int64_bounds(value)


__all__ = ["IDEMPOTENCY_KEY_HEADER", "OpenApiTypes", "errors", "product_id_path_parameter"]

PRODUCT_NOT_FOUND = "`product_not_found`: no inventory record for that product_id."
