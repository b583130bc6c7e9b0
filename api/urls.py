"""``/api/v1/``: each area of the API has its module; the schema and docs sit beside them.

Paths have no trailing slash (``/api/v1/contacts/12``); one sent with it reaches the same
endpoint (``api.middleware.ApiMiddleware``).
"""

from django.urls import include, path, re_path
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework import exceptions
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny

from .docs import docs

app_name = "api"


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@authentication_classes([])
@permission_classes([AllowAny])
def not_found(request, *args, **kwargs):
    raise exceptions.NotFound("No such endpoint. The endpoints are listed at /api/v1/docs.")


v1 = [
    # The description of the API is public: it holds no company's data.
    path(
        "schema",
        SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[AllowAny]),
        name="schema",
    ),
    path("docs", docs, name="docs"),
    path("", include("api.suppressions")),
    path("", include("api.contacts")),
    path("", include("api.privacy")),
    path("", include("api.groups")),
    path("", include("api.events")),
    path("", include("api.campaigns")),
    path("", include("api.messages")),
    path("", include("api.webhook_endpoints")),
]

urlpatterns = [
    path("v1/", include(v1)),
    # Any path, newlines included (a %0A in a path is still a path of the API).
    re_path(r"^[\s\S]*$", not_found, name="not-found"),
]
