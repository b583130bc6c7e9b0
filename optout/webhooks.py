"""Signed gateway webhooks.

Every request carries ``X-Timestamp: <unix seconds>`` and ``X-Signature: sha256=<hex
HMAC-SHA256 of "<timestamp>." + raw body>``, as Stripe and Slack sign theirs. The timestamp
is inside the signed content, so captured bytes cannot be sent again later with a new
time; one outside ``WEBHOOK_TOLERANCE_SECONDS`` of our clock is refused, and within that
window the receivers recognise the same delivery by its ``digest``.
"""

import hmac
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import sha256

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.http import HttpRequest, QueryDict

from .models import Gateway, GatewayWebhook

SIGNATURE_HEADER = "X-Signature"
TIMESTAMP_HEADER = "X-Timestamp"
MAX_BODY_BYTES = 64 * 1024
# What PostgreSQL cannot store in text: NUL, and halves of a surrogate pair that JSON
# may spell out ("\ud800") and UTF-8 cannot encode. Gateways pass them on from handsets.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class BadRequest(ValueError):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class SignedRequest:
    fields: dict
    signed_at: datetime
    # The same signed timestamp and body give the same digest: a delivery sent twice.
    digest: str


def sign(body: bytes, secret: str, timestamp: int | str) -> str:
    mac = hmac.new(secret.encode(), _signed_content(body, timestamp), sha256)
    return "sha256=" + mac.hexdigest()


def _signed_content(body: bytes, timestamp: int | str) -> bytes:
    return f"{timestamp}.".encode() + body


def webhook_for(key: str | None, gateway: str = Gateway.SIGNED) -> GatewayWebhook | None:
    """The company's own gateway account a URL names; None for the platform's shared one.

    An account posts only through its own gateway's URLs: the key of a Twilio account on
    Vonage's URL, or on the generic signed one, names nothing.
    """
    if key is None:
        return None
    accounts = GatewayWebhook.objects.select_related("company")
    webhook = accounts.filter(key=key, gateway=gateway).first()
    if webhook is None:
        raise BadRequest("No such webhook.", status=404)
    return webhook


def secret_of(webhook: GatewayWebhook | None) -> str:
    return settings.SMS_WEBHOOK_SECRET if webhook is None else webhook.secret


def read_body(request: HttpRequest) -> bytes:
    """The raw body, refused before it is read when it says it is too large."""
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError as exc:
        raise BadRequest("Content-Length is not a number.") from exc
    if length > MAX_BODY_BYTES:
        raise BadRequest(f"Body larger than {MAX_BODY_BYTES} bytes.", status=413)
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        raise BadRequest(f"Body larger than {MAX_BODY_BYTES} bytes.", status=413)
    return body


def verify_request(
    request: HttpRequest, *, secret: str, required: tuple[str, ...] = ()
) -> SignedRequest:
    """The request's fields, once its size, signature, age and shape have all been checked."""
    body = read_body(request)
    given = request.headers.get(SIGNATURE_HEADER, "")
    if not given:
        raise BadRequest(f"Missing {SIGNATURE_HEADER} header.", status=401)
    stamp = request.headers.get(TIMESTAMP_HEADER, "")
    if not stamp:
        raise BadRequest(f"Missing {TIMESTAMP_HEADER} header (unix seconds).", status=401)
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
        raise BadRequest(f"{TIMESTAMP_HEADER} must be unix seconds.")
    if not hmac.compare_digest(given.encode(), sign(body, secret, stamp).encode()):
        raise BadRequest("Signature does not match the timestamp and body.", status=401)
    tolerance = settings.WEBHOOK_TOLERANCE_SECONDS
    drift = int(stamp) - int(time.time())
    if abs(drift) > tolerance:
        raise BadRequest(
            f"{TIMESTAMP_HEADER} is {abs(drift)} seconds {'ahead of' if drift > 0 else 'behind'} "
            f"our clock, more than the {tolerance} allowed: sign each delivery, retries too, "
            "when it is sent.",
            status=401,
        )
    return SignedRequest(
        fields=_fields(request, body, required),
        signed_at=datetime.fromtimestamp(int(stamp), tz=UTC),
        digest=sha256(_signed_content(body, stamp)).hexdigest(),
    )


def _fields(request: HttpRequest, body: bytes, required: tuple[str, ...]) -> dict:
    if request.content_type == "application/json":
        return text_fields(json_object(body), required)
    return text_fields(form_fields(body).dict(), required)


def form_fields(body: bytes) -> QueryDict:
    try:
        return QueryDict(body, encoding="utf-8")
    except TooManyFieldsSent as exc:
        raise BadRequest(
            f"More than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} form fields."
        ) from exc


def json_object(body: bytes) -> dict:
    try:
        fields = json.loads(body)
    # ValueError: also a number too long to convert; RecursionError: nesting too deep.
    except (ValueError, RecursionError) as exc:
        raise BadRequest("Body is not valid JSON.") from exc
    if not isinstance(fields, dict):
        raise BadRequest("Body must be a JSON object.")
    return fields


def text_fields(fields: dict, required: tuple[str, ...]) -> dict:
    """``fields`` rid of what the database cannot store, with ``required`` all text."""
    fields = storable(fields)
    missing = [name for name in required if not isinstance(fields.get(name), str)]
    if missing:
        raise BadRequest("Missing or non-text field(s): " + ", ".join(missing) + ".")
    return fields


def storable(value):
    """``value`` with every string rid of what the database cannot store; the rest kept."""
    if isinstance(value, str):
        return UNSTORABLE.sub("", value)
    if isinstance(value, dict):
        return {storable(key): storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [storable(item) for item in value]
    return value
