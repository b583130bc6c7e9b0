"""The landing bench's URLs (the project's, and its readiness view) plus the API's floor:
a bare DRF view with no key, no database and the API's JSON renderer, so what the
suppression check costs above DRF itself shows."""

from django.urls import include, path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


class Floor(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [path("bench/api-floor", Floor.as_view()), path("", include("bench.landing_urls"))]
