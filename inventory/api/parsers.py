"""The only body the API reads: a JSON document of bounded size."""

import json

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


class StrictJSONParser(JSONParser):
    """JSON only: no NaN or Infinity, bounded size and depth, UTF-8.

    Reads at most one byte more than the limit, so a body of many megabytes is
    refused without being held in memory; any decoding problem is a ParseError (400).
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.INVENTORY_API_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise RequestTooLarge(f"The request body is over {limit} bytes.")
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge(f"The request body is over {limit} bytes.")
        try:
            text = raw.decode("utf-8")
            data = json.loads(text, parse_constant=_refuse_constant)
            _require_encodable(data)
            return data
        except RecursionError:
            raise exceptions.ParseError("JSON parse error: nested too deeply.") from None
        except ValueError as error:  # also UnicodeDecodeError and over-long integers
            raise exceptions.ParseError(f"JSON parse error: {error}") from None


def _require_encodable(value) -> None:
    """A lone surrogate (`"\\ud800"`) parses, but no database can store it: refuse it here."""
    if isinstance(value, str):
        value.encode("utf-8")
    elif isinstance(value, dict):
        for key, item in value.items():
            key.encode("utf-8")
            _require_encodable(item)
    elif isinstance(value, list):
        for item in value:
            _require_encodable(item)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")
