"""CM.com: incoming messages (MO) and status reports, as JSON posts.

Where each field comes from (CM's "Incoming Messages" and "Incoming Status Reports"
pages; configure both webhooks in CM's Channels app, status reports in JSON):

| ours                 | CM                                   | note                        |
| -------------------- | ------------------------------------ | --------------------------- |
| reply: sender        | ``from.number``                      | +316…, 00316… or 316…       |
| reply: recipient     | ``to.number``                        | our number or shortcode     |
| reply: text          | ``message.text``                     |                             |
| reply: received_at   | ``timeUtc``                          | yyyy-MM-ddTHH:mm:ss, UTC    |
| reply: reference     | none: the body's hash                | CM's ``reference`` names the |
|                      |                                      | message replied to, not the |
|                      |                                      | reply, so it cannot tell a  |
|                      |                                      | new reply from a retry      |
| report: reference    | ``messages.msg.reference``           | ours, as CmBackend sent it  |
| report: status       | ``messages.msg.status.code``         | see STATUS_CODES            |
| report: error        | ``status.errorDescription``,         |                             |
|                      | else ``status.errorCode``            |                             |
| report: at           | ``messages.msg.received``            | unsure: read as UTC when it |
|                      |                                      | carries no offset           |

CM signs neither webhook (its documentation describes no signature), so the URL given to
CM carries a secret token, ``?token=…``, compared in constant time; replays are harmless
(the same reply is recognised by its body, a report settles a message once).
"""

import hmac
from datetime import UTC, datetime

from django.http import HttpRequest
from django.utils import timezone

from ..webhooks import BadRequest, json_object, read_body, storable
from .base import (
    ACCEPTED,
    DELIVERED,
    FAILED,
    REJECTED,
    InboundReply,
    StatusReport,
    body_digest,
    clip,
)

NAME = "cm"
# CM's status codes. Unsure: whether CM sends other codes for SMS; any other is refused
# with a 400 (CM then tries again for up to 7 days), so none is silently misread.
STATUS_CODES = {"0": ACCEPTED, "1": REJECTED, "2": DELIVERED, "3": FAILED}
MAX_REPORTS = 1000


def verify(request: HttpRequest, *, secret: str) -> bytes:
    body = read_body(request)
    token = request.GET.get("token", "")
    if not token:
        raise BadRequest("Missing ?token= in the webhook URL.", status=401)
    if not hmac.compare_digest(token.encode(), secret.encode()):
        raise BadRequest("Wrong token.", status=401)
    return body


def parse_inbound(request: HttpRequest, *, secret: str) -> InboundReply:
    body = verify(request, secret=secret)
    fields = storable(json_object(body))
    sender = _dig(fields, "from", "number")
    recipient = _dig(fields, "to", "number")
    text = _dig(fields, "message", "text")
    if sender is None or recipient is None or text is None:
        raise BadRequest("Missing or non-text field(s): from.number, to.number, message.text.")
    received = fields.get("timeUtc")
    return InboundReply(
        sender=sender,
        recipient=recipient,
        text=text,
        reference="",
        received_at=received if isinstance(received, str) else "",
        digest=body_digest(NAME, body),
        signed_at=timezone.now(),
    )


def parse_status(request: HttpRequest, *, secret: str) -> list[StatusReport]:
    body = verify(request, secret=secret)
    fields = storable(json_object(body))
    messages = fields.get("messages")
    items = messages.get("msg") if isinstance(messages, dict) else None
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_REPORTS:
        raise BadRequest(f"messages.msg must hold 1 to {MAX_REPORTS} status reports.")
    return [_report(item, number) for number, item in enumerate(items, start=1)]


def _report(item, number: int) -> StatusReport:
    if not isinstance(item, dict):
        raise BadRequest(f"Report {number} is not an object.")
    reference = item.get("reference")
    if not isinstance(reference, str | int) or isinstance(reference, bool) or reference == "":
        raise BadRequest(f"Report {number} has no reference.")
    status = item.get("status")
    code = status.get("code") if isinstance(status, dict) else None
    if str(code) not in STATUS_CODES or isinstance(code, bool):
        raise BadRequest(f"Report {number} has an unknown status code: {code!r}.")
    error = ""
    if STATUS_CODES[str(code)] in (FAILED, REJECTED):
        error = str(status.get("errorDescription") or status.get("errorCode") or "")
        error = clip(f"CM: {error}") if error else ""
    return StatusReport(
        reference=str(reference),
        gateway_reference="",
        status=STATUS_CODES[str(code)],
        error=error,
        at=_moment(item.get("received")),
    )


def _dig(fields: dict, outer: str, inner: str) -> str | None:
    value = fields.get(outer)
    value = value.get(inner) if isinstance(value, dict) else None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return value if isinstance(value, str) else None


def _moment(value) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None  # a time we cannot read only loses when it arrived
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)
