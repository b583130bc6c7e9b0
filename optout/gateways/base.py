"""What every gateway adapter turns a request into, and the checks they all share.

An adapter only reads and verifies: it hands back a reply (``InboundReply``) or delivery
reports (``StatusReport``) in the shapes the inbound service and campaigns' delivery
reports already take, or raises ``BadRequest`` with the 4xx to answer. Nothing is stored.
"""

from dataclasses import dataclass
from datetime import datetime
from hashlib import sha256

# The statuses of campaigns.delivery's reports: an adapter maps its gateway's onto these.
DELIVERED, FAILED, ACCEPTED, REJECTED, EXPIRED, BUFFERED = (
    "delivered",
    "failed",
    "accepted",
    "rejected",
    "expired",
    "buffered",
)
MAX_REPORT_ERROR = 255


@dataclass(frozen=True)
class ReplyPart:
    """One part of a long reply that came in pieces."""

    concat_ref: str
    total: int
    number: int
    part_id: str


@dataclass(frozen=True)
class InboundReply:
    sender: str
    recipient: str
    text: str
    # "<gateway>:<its id of the reply>", or "" when it gives none (then ``digest`` tells
    # the same delivery again from a new reply).
    reference: str
    received_at: str = ""
    digest: str = ""
    signed_at: datetime | None = None
    part: ReplyPart | None = None


@dataclass(frozen=True)
class StatusReport:
    # Our reference (the message's id) when the gateway sends it back, else "".
    reference: str
    # The gateway's id of the message, which its backend kept when handing it over.
    gateway_reference: str
    status: str  # one of campaigns.delivery.OUTCOMES
    error: str = ""
    at: datetime | None = None


def body_digest(gateway: str, body: bytes) -> str:
    return sha256(gateway.encode() + b"." + body).hexdigest()


def clip(error: str) -> str:
    return error[:MAX_REPORT_ERROR]
