import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

PREFIX = "/api/"
request_logger = logging.getLogger("django.request")


class ApiMiddleware:
    """What the API's paths get before and after their views, as programs expect.

    - A path is written without a trailing slash; one that has it is the same. Clients add
      or drop the slash as their habits go, and a redirect would turn a POST into a GET on
      the way: so the slash is dropped before the URL is resolved.
    - An error nobody foresaw is still the API's error shape, not the dashboard's HTML
      page: a program that parses ``{"error": …}`` can say what happened.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path.startswith(PREFIX) and path.endswith("/") and len(path) > len(PREFIX):
            request.path_info = path.rstrip("/")
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path_info.startswith(PREFIX):
            return None
        # Logged as Django logs the server errors it answers itself, traceback included.
        request_logger.error(
            "Internal Server Error: %s",
            request.path,
            exc_info=exception,
            extra={"status_code": 500, "request": request},
        )
        error = {
            "code": "server_error",
            "message": "Something went wrong on our side. Retry later: with the same "
            "Idempotency-Key a retry does nothing twice. Quote this answer's X-Request-ID "
            "if you write to us about it.",
            "fields": {},
        }
        return JsonResponse({"error": error}, status=500)
