"""Input no page could store is refused at the door with a 400 that says why."""

import codecs
import re
from collections.abc import Callable, Iterable

from django.core.exceptions import BadRequest
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
    QueryDict,
)
from django.utils.http import parse_header_parameters

# NUL cannot be stored in PostgreSQL text, a lone surrogate in no UTF-8 column. Browsers
# send neither; without this check they reach a query or a save halfway through a view
# and come out as a 500.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

# The gateway's webhooks strip such characters themselves: a reply is never refused.
EXEMPT_PREFIXES = ("/hooks/",)

UNSTORABLE_MESSAGE = (
    "This request contains characters that cannot be stored (such as NUL). "
    "Remove them and try again."
)
UNREADABLE_MESSAGE = "This request cannot be read in the character set it names. Send it as UTF-8."


class BadInputMiddleware:
    """A 400 for NUL or lone surrogates in the path, the query, a header or a form field,
    and for forms in a character set that cannot be decoded as text."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(EXEMPT_PREFIXES):
            problem = _problem(request)
            if problem and request.path_info.startswith("/api/"):  # the API's error shape
                error = {"code": "invalid", "message": problem, "fields": {}}
                return JsonResponse({"error": error}, status=400)
            if problem:
                return HttpResponseBadRequest(problem, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


def _problem(request: HttpRequest) -> str | None:
    headers = (v for k, v in request.META.items() if k.startswith("HTTP_") and isinstance(v, str))
    if _unstorable([request.path_info, *headers]):
        return UNSTORABLE_MESSAGE
    try:
        # A charset such as rot13 is a codec but no text encoding: decoding raises.
        # Files in multipart forms are not looked at: they are bytes, NUL included.
        form_data = [request.GET, request.POST] if request.method == "POST" else [request.GET]
        if any(_unstorable(_strings(data)) for data in form_data):
            return UNSTORABLE_MESSAGE
    except (LookupError, UnicodeError):
        return UNREADABLE_MESSAGE
    except BadRequest as exc:  # e.g. a form that is not UTF-8: Django says which rule
        return str(exc)
    return None


def _strings(data: QueryDict) -> Iterable[str]:
    for key, values in data.lists():
        yield key
        yield from values


def _unstorable(strings: Iterable[str]) -> bool:
    return any(UNSTORABLE.search(s) for s in strings)


def refuse_unreadable_charset(application: Callable) -> Callable:
    """WSGI wrapper: a 400 for a Content-Type naming a codec that is no text encoding.

    Django decodes the query string in that charset while it builds the request, before
    any middleware runs, so ``?lang=en`` with ``charset=rot13`` escapes Django as a
    LookupError and the server answers 500.
    """

    def guarded(environ: dict, start_response: Callable) -> Iterable[bytes]:
        _, params = parse_header_parameters(environ.get("CONTENT_TYPE", ""))
        if not _is_readable(params.get("charset", "")):
            start_response("400 Bad Request", [("Content-Type", "text/plain; charset=utf-8")])
            return [UNREADABLE_MESSAGE.encode()]
        return application(environ, start_response)

    return guarded


def _is_readable(charset: str) -> bool:
    try:
        codecs.lookup(charset or "utf-8")
    except LookupError:
        return True  # a name Python does not know: Django ignores it and reads UTF-8
    try:
        b"a".decode(charset or "utf-8", errors="ignore")  # b"" would decode even in rot13
    except LookupError:
        return False
    return True
