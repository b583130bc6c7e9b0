"""Twilio: incoming messages and status callbacks, form-encoded, signed.

| ours                 | Twilio                         | note                              |
| -------------------- | ------------------------------ | --------------------------------- |
| reply: sender        | ``From``                       | E.164                             |
| reply: recipient     | ``To``                         | our Twilio number                 |
| reply: text          | ``Body``                       | Twilio joins long replies itself  |
| reply: reference     | ``MessageSid``                 | ``twilio:SM…``                    |
| report: gw reference | ``MessageSid``                 | as TwilioBackend kept it          |
| report: status       | ``MessageStatus``              | see STATUSES                      |
| report: error        | ``ErrorCode``                  | Twilio's error code               |

``X-Twilio-Signature`` is checked with the ``twilio`` package's own RequestValidator
against the URL as Twilio called it: ``request.build_absolute_uri()``, so behind a proxy
the scheme and host must be the public ones (``BEHIND_TLS_PROXY`` sets
SECURE_PROXY_SSL_HEADER; the proxy must pass ``Host``). Twilio's signature holds no time:
a replayed reply is the same ``MessageSid``, acted on once; a replayed report settles a
message that is already settled, which changes nothing.
"""

from django.http import HttpRequest, QueryDict
from django.utils import timezone
from twilio.request_validator import RequestValidator, get_signature_algorithm

from ..webhooks import BadRequest, form_fields, read_body, text_fields
from .base import (
    ACCEPTED,
    BUFFERED,
    DELIVERED,
    FAILED,
    InboundReply,
    StatusReport,
    clip,
)

NAME = "twilio"
SIGNATURE_HEADER = "X-Twilio-Signature"
SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
STATUSES = {
    "delivered": DELIVERED,
    "undelivered": FAILED,
    "failed": FAILED,
    "canceled": FAILED,
    "accepted": ACCEPTED,
    "scheduled": ACCEPTED,
    "queued": ACCEPTED,
    "sending": BUFFERED,
    "sent": "sent",
    # A delivered message read on the phone (RCS, WhatsApp): it arrived.
    "read": DELIVERED,
    "partially_delivered": BUFFERED,
}
# The answer Twilio expects to an incoming message: no reply of its own. The confirmation
# goes out through our own sending, as every other one does.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def verify(request: HttpRequest, *, secret: str) -> QueryDict:
    body = read_body(request)
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        raise BadRequest(f"Missing {SIGNATURE_HEADER} header.", status=401)
    if request.content_type != "application/x-www-form-urlencoded":
        raise BadRequest("Twilio posts form fields (application/x-www-form-urlencoded).", 415)
    fields = form_fields(body)
    algorithm = get_signature_algorithm(request.headers.get(SETTINGS_HEADER, ""))
    if not RequestValidator(secret).validate(
        request.build_absolute_uri(), fields, signature, algorithm
    ):
        raise BadRequest("X-Twilio-Signature does not match this URL and these fields.", 401)
    return fields


def parse_inbound(request: HttpRequest, *, secret: str) -> InboundReply:
    fields = text_fields(
        verify(request, secret=secret).dict(), ("From", "To", "Body", "MessageSid")
    )
    return InboundReply(
        sender=fields["From"],
        recipient=fields["To"],
        text=fields["Body"],
        reference=f"{NAME}:{fields['MessageSid']}",
        signed_at=timezone.now(),
    )


def parse_status(request: HttpRequest, *, secret: str) -> list[StatusReport]:
    fields = text_fields(verify(request, secret=secret).dict(), ("MessageSid", "MessageStatus"))
    status = fields["MessageStatus"].lower()
    if status not in STATUSES:
        raise BadRequest(f"Unknown MessageStatus: {fields['MessageStatus']!r}.")
    code = fields.get("ErrorCode") or ""
    error = clip(f"Twilio error {code}") if code and STATUSES[status] == FAILED else ""
    # TwilioBackend's StatusCallback names our message (?reference=<id>), signed with the
    # URL: the report then finds it even before the hand-off has recorded the sid.
    ours = request.GET.get("reference", "")
    return [StatusReport(ours, fields["MessageSid"], STATUSES[status], error)]
