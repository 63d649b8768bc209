"""The service's own URLs plus `/bench/bare`, the framework's ceiling.

`/bench/bare` goes through what every internal call goes through (the token
authentication with its query, the internal-role permission, the strict JSON
parser) and answers a constant body, so the gap between it and `/reserve` is
the cost of the reserve itself.
"""

from django.urls import re_path
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import handler400, handler403, handler404, handler500
from config.urls import urlpatterns as service_urlpatterns
from inventory.api.permissions import IsInternalClient

CONSTANT_BODY = {"order_id": "bare", "reservations": []}


class BareView(APIView):
    permission_classes = (IsInternalClient,)

    def post(self, request):
        request.data  # noqa: B018 - parse the body as /reserve does
        return Response(CONSTANT_BODY, status=201)


urlpatterns = [re_path(r"^bench/bare/?$", BareView.as_view()), *service_urlpatterns]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
