"""Replies that reach us in parts (Vonage delivers a long SMS one part per request).

Each part is stored as it comes, once (a part delivered again is found by its gateway
id). When the last part of a reply is in, in whatever order they came, the text is
joined and handed to the inbound service as one reply whose reference is the first
part's id, so however many times that happens (a repeated part, two last parts at once)
the reply is stored and acted on once.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from .gateways import InboundReply
from .models import GatewayWebhook, InboundMessage, InboundPart
from .services import process_inbound_sms, receive_inbound_sms

# A phone numbers its long messages 0-255 (or 0-65535) and starts again: parts older than
# this are never joined with new ones of the same number, and are deleted.
PART_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Received:
    inbound: InboundMessage | None  # None: parts of the reply are still missing
    parts: int = 1
    total: int = 1


def receive_reply(*, gateway: str, reply: InboundReply, webhook: GatewayWebhook | None) -> Received:
    """Store a reply from ``gateway`` and act on it, or keep its part until all are here."""
    # Gateways stop retrying within a day: older parts, joined or never completed, only
    # keep a number and words that no longer serve anyone. (A few rows: parts live a day.)
    InboundPart.objects.filter(received_at__lt=timezone.now() - PART_WINDOW).delete()
    if reply.part is None:
        return Received(_receive(reply=reply, webhook=webhook, text=reply.text))
    part = reply.part
    same = InboundPart.objects.filter(webhook=webhook, gateway=gateway, part_id=part.part_id)
    stored = same.select_related("inbound").first()
    if stored is None:
        try:
            with transaction.atomic():
                stored = InboundPart.objects.create(
                    webhook=webhook,
                    gateway=gateway,
                    part_id=part.part_id,
                    sender=reply.sender[:32],
                    recipient=reply.recipient[:32],
                    concat_ref=part.concat_ref,
                    total=part.total,
                    number=part.number,
                    text=reply.text,
                    gateway_received_at=reply.received_at[:40],
                )
        except IntegrityError:  # the same part, delivered twice at once
            stored = same.select_related("inbound").get()
    if stored.inbound is not None:
        inbound = stored.inbound
        if inbound.status == InboundMessage.Status.RECEIVED:
            inbound = process_inbound_sms(inbound=inbound)
        return Received(inbound, part.total, part.total)
    waiting = InboundPart.objects.filter(
        webhook=webhook,
        gateway=gateway,
        sender=stored.sender,
        recipient=stored.recipient,
        concat_ref=stored.concat_ref,
        total=stored.total,
        inbound__isnull=True,
        received_at__gte=timezone.now() - PART_WINDOW,
    ).order_by("number", "-received_at")
    newest = {}
    for each in waiting:
        newest.setdefault(each.number, each)
    if len(newest) < stored.total:
        return Received(None, len(newest), stored.total)
    parts = [newest[number] for number in range(1, stored.total + 1)]
    first = parts[0]
    joined = InboundReply(
        sender=first.sender,
        recipient=first.recipient,
        text="".join(each.text for each in parts),
        reference=f"{gateway}:{first.part_id}",
        received_at=first.gateway_received_at,
        signed_at=reply.signed_at,
    )
    inbound = _receive(reply=joined, webhook=webhook, text=joined.text)
    # Joined: the reply holds the number and the words now (and erasure finds them
    # there); the parts keep only what recognises a part delivered again.
    InboundPart.objects.filter(pk__in=[each.pk for each in parts]).update(
        inbound=inbound, sender="", text=""
    )
    return Received(inbound, stored.total, stored.total)


def _receive(*, reply: InboundReply, webhook: GatewayWebhook | None, text: str) -> InboundMessage:
    return receive_inbound_sms(
        sender=reply.sender,
        recipient=reply.recipient,
        text=text,
        reference=reply.reference,
        received_at=reply.received_at,
        webhook=webhook,
        digest=reply.digest,
        signed_at=reply.signed_at,
    )
