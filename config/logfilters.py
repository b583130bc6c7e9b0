import contextvars
import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# Whether the request being served came from htmx (its HX-Request header): the development
# server writes its access line after the response, in the same thread, and reads it there.
_htmx_request: contextvars.ContextVar[bool] = contextvars.ContextVar("htmx_request", default=False)


# The beat's periodic tasks, by task name and schedule entry: the campaign tick (every
# 10 s) and the webhook tick (every 30 s) would each write three lines a time.
TICKS = (
    "campaigns.tasks.tick_task",
    "campaigns-tick",
    "api.tasks.webhooks_tick_task",
    "webhooks-tick",
)


class QuietTick(logging.Filter):
    """Leave the scheduler's ticks out of the log: every few seconds, they would bury the
    lines people read (the trial's printed SMS and logins among them). Failures still show."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return True
        message = record.getMessage()
        return not any(tick in message for tick in TICKS)


class NoteHtmxRequest:
    """Notes whether a request came from htmx, for QuietHtmx to read when it is logged."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        _htmx_request.set(request.headers.get("HX-Request") == "true")
        return self.get_response(request)


class QuietHtmx(logging.Filter):
    """Leave htmx's own requests that went well out of the development server's access log:
    a campaign page polls its progress every two seconds, an import its count every second,
    the editor its preview at each keystroke; a line for each would bury the rest. Pages,
    and any htmx request that failed (4xx, 5xx), are still logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        from_htmx = _htmx_request.get()
        _htmx_request.set(False)  # the next request on this connection may not go through Django
        status = getattr(record, "status_code", None)
        return not (from_htmx and isinstance(status, int) and status < 400)
