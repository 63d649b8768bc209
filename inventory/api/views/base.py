"""What every view of the API shares: strict input, staff permissions, idempotency glue."""

from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from inventory import limits
from inventory.api.authentication import idempotency_scope_of
from inventory.api.fields import parse_query_int
from inventory.services.idempotency import Answer, fingerprint, run_once

IDEMPOTENCY_HEADER = "Idempotency-Key"


class ApiViewSet(GenericViewSet):
    def validated(self, serializer_class: type[serializers.Serializer], data=None) -> dict:
        serializer = serializer_class(data=self.request.data if data is None else data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @staticmethod
    def path_product_id(raw: str) -> int:
        return parse_query_int("product_id", raw, minimum=1, maximum=limits.MAX_PRODUCT_ID)

    def paginated(self, queryset, serializer_class) -> Response:
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(serializer_class(page, many=True).data)

    def idempotent(self, change) -> Response:
        """Run `change` (returning an Answer) once per Idempotency-Key, if one was sent."""
        request = self.request
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            answer = change()
        else:
            if not 1 <= len(key) <= limits.MAX_IDEMPOTENCY_KEY_LENGTH:
                raise serializers.ValidationError(
                    {
                        IDEMPOTENCY_HEADER: [
                            f"An Idempotency-Key is 1 to {limits.MAX_IDEMPOTENCY_KEY_LENGTH} characters."
                        ]
                    }
                )
            answer = run_once(
                scope=idempotency_scope_of(request),
                key=key,
                request_fingerprint=fingerprint(method=request.method, path=request.path, data=request.data),
                change=change,
            )
        headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
        return Response(answer.body, status=answer.status, headers=headers)


__all__ = ["Answer", "ApiViewSet"]
