from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

PREFIX = "/api/"


class ApiPathMiddleware:
    """The API's paths are written without a trailing slash; one that has it is the same.

    Clients add or drop the slash as their habits go, and a redirect would turn a POST
    into a GET on the way: so the slash is dropped before the URL is resolved.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path.startswith(PREFIX) and path.endswith("/") and len(path) > len(PREFIX):
            request.path_info = path.rstrip("/")
        return self.get_response(request)
