"""Vonage (Nexmo) SMS API: inbound messages and delivery receipts, signed with ``sig``.

| ours                 | Vonage                         | note                              |
| -------------------- | ------------------------------ | --------------------------------- |
| reply: sender        | ``msisdn``                     | 447700900001, no +                |
| reply: recipient     | ``to``                         | our virtual number                |
| reply: text          | ``text``                       |                                   |
| reply: reference     | ``messageId``                  | ``vonage:…``; of the first part   |
|                      |                                | for a reply in several parts      |
| reply: received_at   | ``message-timestamp``          | YYYY-MM-DD HH:MM:SS, UTC          |
| reply: part          | ``concat``, ``concat-ref``,    | parts are kept until all are here |
|                      | ``concat-total``,              | (optout.multipart)                |
|                      | ``concat-part``                |                                   |
| report: reference    | ``client-ref``                 | ours, as VonageBackend sent it    |
| report: gw reference | ``messageId``                  | the part's id                     |
| report: status       | ``status``                     | see STATUSES                      |
| report: error        | ``err-code``                   | 0: none                           |

The signature (Vonage's "signed webhooks" for the SMS API): every parameter but ``sig``,
sorted by name, each as ``&name=value`` with ``&`` and ``=`` in values replaced by ``_``;
then the MD5 of that string followed by the signature secret (``md5hash``), or its HMAC
keyed with the secret (``md5``, ``sha1``, ``sha256``, ``sha512``), in hex. The signed
``timestamp`` must be within WEBHOOK_TOLERANCE_SECONDS of our clock. Vonage posts form
fields or JSON (set POST in the dashboard; GET is not taken).
"""

import hashlib
import hmac
import time
from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpRequest

from ..webhooks import BadRequest, form_fields, json_object, read_body, text_fields
from .base import (
    ACCEPTED,
    BUFFERED,
    DELIVERED,
    EXPIRED,
    FAILED,
    REJECTED,
    InboundReply,
    ReplyPart,
    StatusReport,
    clip,
)

NAME = "vonage"
METHODS = {
    "md5": hashlib.md5,
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha512": hashlib.sha512,
}
STATUSES = {
    "delivered": DELIVERED,
    "expired": EXPIRED,
    "failed": FAILED,
    "rejected": REJECTED,
    "accepted": ACCEPTED,
    "buffered": BUFFERED,
    "unknown": BUFFERED,
}
MAX_PARTS = 255


def signature(params: dict, secret: str, method: str) -> str:
    """Vonage's ``sig`` of ``params`` (all but ``sig`` itself), lower-case hex."""
    signed = "".join(
        "&{}={}".format(name, str(params[name]).replace("&", "_").replace("=", "_"))
        for name in sorted(params)
        if name != "sig"
    )
    # A lone surrogate ("\ud800" in JSON) cannot be UTF-8: signed as it came, never a 500.
    data = signed.encode(errors="surrogatepass")
    if method == "md5hash":
        return hashlib.md5(data + secret.encode()).hexdigest()
    if method not in METHODS:
        raise BadRequest(f"Unknown Vonage signature method {method!r}.", status=503)
    return hmac.new(secret.encode(), data, METHODS[method]).hexdigest()


def verify(request: HttpRequest, *, secret: str, method: str) -> dict:
    body = read_body(request)
    if request.content_type == "application/json":
        raw = json_object(body)
        # Signed as text: numbers and booleans as JSON writes them.
        params = {k: _as_text(v) for k, v in raw.items()}
    else:
        params = form_fields(body).dict()
    given = params.get("sig")
    if not isinstance(given, str) or not given:
        raise BadRequest("Missing sig: turn on signed webhooks for this account.", status=401)
    stamp = params.get("timestamp")
    if not isinstance(stamp, str) or not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
        raise BadRequest("Missing or unreadable timestamp (unix seconds).", status=401)
    expected = signature(params, secret, method)
    if not hmac.compare_digest(given.lower().encode(), expected.encode()):
        raise BadRequest("sig does not match the parameters.", status=401)
    drift = int(stamp) - int(time.time())
    if abs(drift) > settings.WEBHOOK_TOLERANCE_SECONDS:
        raise BadRequest(
            f"timestamp is {abs(drift)} seconds from our clock, more than the "
            f"{settings.WEBHOOK_TOLERANCE_SECONDS} allowed.",
            status=401,
        )
    return params


def parse_inbound(request: HttpRequest, *, secret: str, method: str) -> InboundReply:
    params = verify(request, secret=secret, method=method)
    fields = text_fields(params, ("msisdn", "to", "messageId"))
    # A binary or empty message has no text: "" (kept for review, never a keyword).
    text = fields.get("text") if isinstance(fields.get("text"), str) else ""
    stamp = datetime.fromtimestamp(int(params["timestamp"]), tz=UTC)
    received = fields.get("message-timestamp") or ""
    return InboundReply(
        sender=fields["msisdn"],
        recipient=fields["to"],
        text=text,
        reference=f"{NAME}:{fields['messageId']}",
        received_at=received.replace(" ", "T") if isinstance(received, str) else "",
        signed_at=stamp,
        part=_part(fields),
    )


def parse_status(request: HttpRequest, *, secret: str, method: str) -> list[StatusReport]:
    params = verify(request, secret=secret, method=method)
    fields = text_fields(params, ("messageId", "status"))
    status = fields["status"].lower()
    if status not in STATUSES:
        raise BadRequest(f"Unknown status: {fields['status']!r}.")
    code = fields.get("err-code") or "0"
    error = clip(f"Vonage err-code {code}") if code != "0" else ""
    client_ref = fields.get("client-ref") or ""
    return [StatusReport(client_ref, fields["messageId"], STATUSES[status], error)]


def _part(fields: dict) -> ReplyPart | None:
    if str(fields.get("concat", "")).lower() != "true":
        return None
    ref, total, number = (fields.get(k) for k in ("concat-ref", "concat-total", "concat-part"))
    if not (isinstance(ref, str) and ref and _small(total) and _small(number)):
        raise BadRequest("concat-ref, concat-total and concat-part must name the part.")
    if not 1 <= int(number) <= int(total):
        raise BadRequest("concat-part must be between 1 and concat-total.")
    return ReplyPart(ref[:32], int(total), int(number), fields["messageId"])


def _small(value) -> bool:
    digits = isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 3
    return digits and 1 <= int(value) <= MAX_PARTS


def _as_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
