from django.conf import settings


class ShortHostMiddleware:
    """On the short host only landing pages answer; everything else is a 404 there."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.SHORT_HOST and request.get_host().split(":")[0] == settings.SHORT_HOST:
            request.urlconf = "shorturl.urls_shorthost"
        return self.get_response(request)
