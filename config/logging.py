"""How the product logs: a line per event, JSON in production, and no personal data.

Call sites log ids, not phone numbers or addresses. ``MaskPersonalData`` is the safety net
behind them: whatever reaches the console handler at INFO or above has its E.164 numbers,
email addresses, tokens in URLs and configured secrets masked, so a message built from a
database error, a gateway's reply or an access log's path cannot leak them either.
"""

import contextvars
import logging
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

MASK = "***"
# +31612345678, CM's own spelling of it (0031612345678), and either in a query string,
# encoded once or, inside a login's ?next=, twice.
_PHONE = re.compile(r"(?<![\w+%])(?:\+|%2B|%252B|00)[1-9]\d{6,14}(?!\d)", re.I)
_EMAIL = re.compile(r"[\w.%+-]+(?:@|%40|%2540)([\w-]+(?:\.[\w-]+)+)", re.I)
# Paths that carry a token: the email unsubscribe link, invitations, password reset
# links (not their fixed pages), the per-company webhook keys.
_TOKEN_PATHS = [
    re.compile(r"(/u/)[^/?#\s\\\"']+"),
    re.compile(r"(/c/)[^/?#\s\\\"']+"),
    re.compile(r"(/invitations/)[^/?#\s\\\"']+"),
    re.compile(r"(/password-reset/)(?!sent/|done/)[^?#\s\\\"']+"),
    # /hooks/sms/<key>/… and /hooks/sms/<gateway>/<key>/…, not the gateways' own names.
    re.compile(
        r"(/hooks/sms/(?:(?:cm|twilio|vonage)/)?)(?!(?:inbound|status|cm|twilio|vonage)/)"
        r"[^/?#\s\\\"']+"
    ),
]
# Query parameters that carry one (the landing page's undo token and the like), and the
# dashboard's search, which holds whatever a marketer looked for (names, numbers), and
# a login's ?next=, which holds such a URL in turn.
_TOKEN_PARAMS = re.compile(r"([?&](?:t|token|key|code|signature|sig|q|next)=)[^&#\s\\\"']+", re.I)
# Anything else that looks like a value of Django's signing: parts joined by ':', the last
# one a long signature.
_SIGNED = re.compile(r"\b[\w-]+(?::[\w-]+)*:[\w-]{26,}")

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
_REQUEST_ID = re.compile(r"[\w.-]{1,64}")


def mask(text: str, *, secrets: tuple[str, ...] = ()) -> str:
    """``text`` with numbers, email addresses, tokens and the given secrets masked."""
    for secret in secrets:
        text = text.replace(secret, MASK)
    text = _EMAIL.sub(lambda m: f"{MASK}@{m.group(1)}", text)
    for pattern in _TOKEN_PATHS:
        text = pattern.sub(rf"\g<1>{MASK}", text)
    text = _TOKEN_PARAMS.sub(rf"\g<1>{MASK}", text)
    text = _SIGNED.sub(MASK, text)
    return _PHONE.sub(lambda m: f"{m.group(0)[:3]}{MASK}{m.group(0)[-2:]}", text)


# The email services' keys and the webhooks' password among django-anymail's settings.
_ANYMAIL_SECRETS = ("_KEY", "_TOKEN", "WEBHOOK_SECRET")


def configured_secrets() -> tuple[str, ...]:
    """The secrets in settings, longest first; short ones would mask ordinary words."""
    names = (
        "SECRET_KEY",
        "SMS_WEBHOOK_SECRET",
        "CM_PRODUCT_TOKEN",
        "CM_WEBHOOK_TOKEN",
        "TWILIO_AUTH_TOKEN",
        "VONAGE_API_SECRET",
        "VONAGE_SIGNATURE_SECRET",
        "EMAIL_HOST_PASSWORD",
    )
    anymail = getattr(settings, "ANYMAIL", {})
    extra = [v for k, v in anymail.items() if isinstance(v, str) and k.endswith(_ANYMAIL_SECRETS)]
    values = {str(getattr(settings, name, "") or "") for name in names} | set(extra)
    return tuple(sorted((v for v in values if len(v) >= 8), key=len, reverse=True))


class MaskPersonalData(logging.Filter):
    """Masks the formatted message (and so its arguments) of records at INFO or above.

    On the handler, so it covers every logger that reaches it: ours, Django's, Celery's.
    DEBUG lines are left whole for a developer's own machine.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.INFO:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a call site's bad arguments: keep the line, not the arguments
            message = f"{record.msg} (its arguments could not be formatted)"
        record.msg, record.args = mask(str(message), secrets=configured_secrets()), ()
        return True


class RequestIdFilter(logging.Filter):
    """Puts the id of the request being served (empty outside one) on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class RequestIdMiddleware:
    """Gives each request an id, the proxy's ``X-Request-ID`` if it sent a sane one, so the
    lines one request logged can be found together; the response carries it back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Request-ID", "")
        # Left set once the response is out, so that Django's own line about a 4xx or 5xx
        # (logged after the middleware) carries it too; the next request replaces it.
        request_id.set(given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id.get()
        return response


class _Masked:
    """Masks the whole line too: a traceback holds values (a unique violation names the
    number), and so may what callers pass in ``extra``."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        return mask(line, secrets=configured_secrets()) if record.levelno >= logging.INFO else line


class TextFormatter(_Masked, logging.Formatter):
    """For people: the trial's terminal."""

    def __init__(self, fmt: str = "%(asctime)s %(levelname)s %(name)s %(message)s", **kwargs):
        super().__init__(fmt, **kwargs)


class JsonFormatter(_Masked, BaseJsonFormatter):
    """For machines: one JSON object per line, with time, level, logger, message and the
    request id, then ``exc_info`` and whatever a caller passed in ``extra``."""

    def __init__(self):
        super().__init__(
            ["asctime", "levelname", "name", "message", "request_id"],
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            # Django passes the request (or runserver its socket) along: a repr, no use.
            reserved_attrs=[*RESERVED_ATTRS, "request", "server_time"],
            json_ensure_ascii=False,
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
