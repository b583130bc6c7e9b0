"""The project's URLs plus the floor: a Django view that does nothing, through the same
middleware, so what the landing page costs above Django itself shows."""

from django.http import HttpResponse
from django.urls import include, path


def floor(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/floor", floor), path("", include("config.urls"))]
