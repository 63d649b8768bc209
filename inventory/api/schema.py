"""OpenAPI pieces shared by the views: the error answers each endpoint can give."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from inventory.api.serializers.stock import ErrorSerializer

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
    """Error answers by status; `s404="..."` etc. describe an endpoint's own codes."""
    responses = {}
    for status in sorted(set(statuses) | {int(name[1:]) for name in descriptions}):
        description = descriptions.get(f"s{status}", _ERROR_DESCRIPTIONS.get(status, "error"))
        responses[status] = OpenApiResponse(ErrorSerializer, description=description)
    return responses


def product_id_path_parameter() -> OpenApiParameter:
    return OpenApiParameter(
        "product_id",
        {"type": "integer", "format": "int64", "minimum": 1, "maximum": 2**63 - 1},
        OpenApiParameter.PATH,
        description="Positive integer up to 2^63-1; anything else is a 400 `validation_error`.",
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

INSUFFICIENT_STOCK_EXAMPLE = OpenApiExample(
    "insufficient_stock",
    value={
        "error": {
            "code": "insufficient_stock",
            "message": "Not enough available stock for product(s) 42.",
            "details": {"items": [{"product_id": 42, "requested": 5, "available": 2}]},
        }
    },
    response_only=True,
    status_codes=["409"],
)

# Bounds that drf-spectacular does not carry over from a ListSerializer.
ARRAY_BOUNDS = {
    ("BatchCheckInputRequest", "items"): (1, 200),
    ("ReserveOrderRequest", "items"): (1, 100),
}


def complete_schema(result, generator, request, public):
    """SPECTACULAR_SETTINGS postprocessing hook: what drf-spectacular leaves out.

    minItems/maxItems of the bounded lists, and every request body is required
    (a oneOf body, from a PolymorphicProxySerializer, is not marked so), an array
    query parameter (`ordering`) has at least one item. Paths are
    written as the contract writes them, without the trailing slash (both forms
    answer, with no redirect).
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
    schemas = result.get("components", {}).get("schemas", {})
    for (component, field), (minimum, maximum) in ARRAY_BOUNDS.items():
        prop = schemas.get(component, {}).get("properties", {}).get(field)
        if prop is not None:
            prop["minItems"], prop["maxItems"] = minimum, maximum
    return result


__all__ = ["IDEMPOTENCY_KEY_HEADER", "OpenApiTypes", "errors", "product_id_path_parameter"]

PRODUCT_NOT_FOUND = "`product_not_found`: no inventory record for that product_id."
