import logging
from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from addressbook.addresses import InvalidAddress, parse_inbound_phone
from addressbook.models import Company, Contact

from .keywords import normalize_reply
from .models import ConsentEvent, InboundMessage, Keyword, ReplyRoute, Source, Suppression
from .selectors import route_for_reply

logger = logging.getLogger(__name__)


def _linked_addresses(*, company: Company, address: str) -> set[str]:
    """The address and every other address of the company's contacts that have it.

    An opt-out by SMS also covers that person's email, and the other way round.
    """
    linked = {address}
    for phone, email in Contact.objects.filter(
        Q(phone=address) | Q(email=address), company=company
    ).values_list("phone", "email"):
        linked.update(a for a in (phone, email) if a)
    return linked


@transaction.atomic
def record_optout(
    *,
    company: Company,
    address: str,
    source: str,
    campaign_id: int | None = None,
    reason: str = "",
    reason_text: str = "",
    raw_text: str = "",
) -> ConsentEvent:
    """Suppress ``address`` (and the same person's other addresses) for marketing.

    Every call is logged as an event; repeating it leaves one suppression per address.
    """
    if not address:
        raise ValueError("An opt-out needs an address.")
    event = ConsentEvent.objects.create(
        company=company,
        address=address,
        kind=ConsentEvent.Kind.OPT_OUT,
        source=source,
        campaign_id=campaign_id,
        reason=reason,
        reason_text=reason_text.strip(),
        raw_text=raw_text,
    )
    # The address itself points at its newest own opt-out, so a later opt-in of another
    # address of the same person cannot lift it; linked addresses keep what they had.
    Suppression.objects.bulk_create(
        [Suppression(company=company, address=address, event=event)],
        update_conflicts=True,
        unique_fields=["company", "address"],
        update_fields=["event"],
    )
    Suppression.objects.bulk_create(
        [
            Suppression(company=company, address=a, event=event)
            for a in sorted(_linked_addresses(company=company, address=address) - {address})
        ],
        ignore_conflicts=True,
    )
    return event


@transaction.atomic
def record_optin(
    *, company: Company, address: str, source: str, raw_text: str = ""
) -> ConsentEvent:
    """Lift what this address's opt-outs suppressed; only the person's own act calls this."""
    event = ConsentEvent.objects.create(
        company=company,
        address=address,
        kind=ConsentEvent.Kind.OPT_IN,
        source=source,
        raw_text=raw_text,
    )
    # The address itself, and the linked addresses its own opt-outs suppressed; an email
    # the person unsubscribed separately stays unsubscribed.
    Suppression.objects.filter(company=company).filter(
        Q(address=address) | Q(event__address=address)
    ).delete()
    return event


def note_marketing_sent(
    *,
    company: Company,
    campaign_id: int,
    shortcode: str,
    addresses: Iterable[str],
    sent_at: datetime | None = None,
) -> None:
    """Remember who sent marketing to these numbers through ``shortcode``, for replies."""
    sent_at = sent_at or timezone.now()
    ReplyRoute.objects.bulk_create(
        [
            ReplyRoute(
                shortcode=shortcode,
                address=a,
                company=company,
                campaign_id=campaign_id,
                sent_at=sent_at,
            )
            for a in addresses
        ],
        update_conflicts=True,
        unique_fields=["shortcode", "address"],
        update_fields=["company", "campaign_id", "sent_at"],
    )


def match_keyword(text: str) -> str | None:
    word = normalize_reply(text)
    if not word:
        return None
    return Keyword.objects.filter(word=word).values_list("action", flat=True).first()


def receive_inbound_sms(
    *, sender: str, recipient: str, text: str, reference: str = ""
) -> InboundMessage:
    """Store the reply first (a crash after this loses nothing), then act on it."""
    inbound = InboundMessage.objects.create(
        sender=sender[:32], recipient=recipient[:32], text=text, reference=reference[:64]
    )
    process_inbound_sms(inbound=inbound)
    return inbound


@transaction.atomic
def process_inbound_sms(*, inbound: InboundMessage) -> InboundMessage:
    Status = InboundMessage.Status
    try:
        inbound.sender_e164 = parse_inbound_phone(inbound.sender).e164
    except InvalidAddress:
        inbound.status = Status.UNATTRIBUTED
        inbound.save(update_fields=["sender_e164", "status"])
        return inbound

    route = route_for_reply(shortcode=inbound.recipient.strip(), address=inbound.sender_e164)
    action = match_keyword(inbound.text)
    if route is None:
        inbound.status = Status.UNATTRIBUTED
    else:
        inbound.company = route.company
        if action == Keyword.Action.STOP:
            record_optout(
                company=route.company,
                address=inbound.sender_e164,
                source=Source.SMS_KEYWORD,
                campaign_id=route.campaign_id,
                raw_text=inbound.text,
            )
            inbound.status = Status.OPTED_OUT
        elif action == Keyword.Action.START:
            record_optin(
                company=route.company,
                address=inbound.sender_e164,
                source=Source.SMS_KEYWORD,
                raw_text=inbound.text,
            )
            inbound.status = Status.OPTED_IN
        elif action == Keyword.Action.HELP:
            inbound.status = Status.HELP
        else:
            inbound.status = Status.UNMATCHED
    inbound.save(update_fields=["sender_e164", "company", "status"])
    logger.info("Inbound SMS %s from %s: %s", inbound.pk, inbound.sender_e164, inbound.status)
    return inbound
