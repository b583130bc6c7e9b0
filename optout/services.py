import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from addressbook.addresses import InvalidAddress, country_of, mask_phone, parse_inbound_phone
from addressbook.models import Company, Contact

from .consent import (
    NOTHING_SEEN,
    SYSTEM,
    Actor,
    ConsentProofRequired,
    Proof,
    Seen,
    default_actor,
)
from .keywords import normalize_reply
from .languages import language_for, supported
from .models import (
    ConsentEvent,
    ConsentMethod,
    CountryRule,
    DedicatedNumber,
    GatewayWebhook,
    InboundMessage,
    Keyword,
    ReplyRoute,
    Source,
    Suppression,
    new_webhook_secret,
)
from .selectors import country_rules, is_suppressed, route_for_reply, rule_for_country

logger = logging.getLogger(__name__)


def _linked_addresses(*, company: Company, address: str) -> set[str]:
    """Every other address of the company's contacts that have this one.

    An opt-out by SMS also covers that person's email, and the other way round.
    """
    linked = set()
    for phone, email in Contact.objects.filter(
        Q(phone=address) | Q(email=address), company=company
    ).values_list("phone", "email"):
        linked.update(a for a in (phone, email) if a)
    return linked - {address}


def _event(
    *, company: Company, address: str, kind: str, source: str, actor: Actor, seen: Seen, **fields
) -> ConsentEvent:
    return ConsentEvent.objects.create(
        company=company,
        address=address,
        country=country_of(address),
        kind=kind,
        source=source,
        actor_type=actor.type,
        actor_id=actor.id,
        actor_label=actor.label[:150],
        ip_address=seen.ip_address,
        user_agent=seen.user_agent[:300],
        wording_version=seen.wording_version,
        **fields,
    )


def _linked_event(event: ConsentEvent, address: str) -> ConsentEvent:
    """The event of ``address``, changed because the same person's other address was."""
    return ConsentEvent.objects.create(
        company=event.company,
        address=address,
        country=country_of(address),
        kind=event.kind,
        source=Source.LINKED,
        actor_type=event.actor_type,
        actor_id=event.actor_id,
        actor_label=event.actor_label,
        linked_event=event,
    )


@transaction.atomic
def record_optout(
    *,
    company: Company,
    address: str,
    source: str,
    campaign_id: int | None = None,
    message_sent_at: datetime | None = None,
    reason: str = "",
    reason_text: str = "",
    raw_text: str = "",
    actor: Actor | None = None,
    seen: Seen = NOTHING_SEEN,
) -> ConsentEvent:
    """Suppress ``address`` (and the same person's other addresses) for marketing.

    Every call is logged as an event; repeating it leaves one suppression per address. A
    linked address not yet suppressed gets an event of its own that names this one.
    ``message_sent_at``: when the campaign's message the person answered was sent.
    """
    if not address:
        raise ValueError("An opt-out needs an address.")
    event = _event(
        company=company,
        address=address,
        kind=ConsentEvent.Kind.OPT_OUT,
        source=source,
        actor=actor or default_actor(source),
        seen=seen,
        campaign_id=campaign_id,
        message_sent_at=message_sent_at if campaign_id is not None else None,
        reason=reason,
        reason_text=reason_text.strip(),
        raw_text=raw_text,
    )
    # The address itself points at its newest own opt-out, so a later opt-in of another
    # address of the same person cannot lift it; linked addresses keep what they had.
    # An opt-out wins over "undeliverable": the address stays suppressed when staff later
    # mark it deliverable again, until the person themself comes back.
    opted_out = Suppression.Reason.OPTED_OUT
    Suppression.objects.bulk_create(
        [
            Suppression(
                company=company,
                address=address,
                country=event.country,
                event=event,
                reason=opted_out,
            )
        ],
        update_conflicts=True,
        unique_fields=["company", "address"],
        update_fields=["event", "reason"],
    )
    others = _linked_addresses(company=company, address=address)
    already = set(
        Suppression.objects.filter(
            company=company, address__in=others, reason=opted_out
        ).values_list("address", flat=True)
    )
    for linked in sorted(others - already):
        Suppression.objects.update_or_create(
            company=company,
            address=linked,
            defaults={
                "country": country_of(linked),
                "event": _linked_event(event, linked),
                "reason": opted_out,
            },
        )
    _tell_subscribers(event)
    return event


# The sources on which an address comes back by the person's own act, and how they count as
# consent; any other opt-in needs a recorded proof.
_OWN_CONSENT = {
    Source.SMS_KEYWORD: ConsentMethod.KEYWORD,
    Source.LANDING_PAGE: ConsentMethod.LANDING_UNDO,
}


@transaction.atomic
def record_optin(
    *,
    company: Company,
    address: str,
    source: str,
    raw_text: str = "",
    actor: Actor | None = None,
    seen: Seen = NOTHING_SEEN,
    proof: Proof | None = None,
) -> ConsentEvent:
    """Lift what this address's opt-outs suppressed, on the person's own act or with proof.

    A START reply and the landing page's undo are the person's act; anything else (a
    marketer, the API, staff, a confirmed double opt-in) must bring ``proof`` of how the
    person consented, else ``ConsentProofRequired``. The proof goes into the event.
    """
    if proof is None and source in _OWN_CONSENT:
        # What they did is the consent: the reply they sent, or the version of the page they
        # pressed it on; failing both, what kind of act it was.
        method = _OWN_CONSENT[source]
        wording = raw_text or seen.wording_version or ConsentMethod(method).label
        proof = Proof(method=method, given_at=timezone.now(), wording=wording)
    if proof is None:
        raise ConsentProofRequired(
            "Record how the person consented again (form, double opt-in, paper or phone), "
            "when, and the wording they saw."
        )
    proof.check()
    event = _event(
        company=company,
        address=address,
        kind=ConsentEvent.Kind.OPT_IN,
        source=source,
        actor=actor or default_actor(source),
        seen=seen,
        raw_text=raw_text,
        consent_method=proof.method,
        consent_given_at=proof.given_at,
        consent_wording=proof.wording.strip(),
        consent_document=proof.document,
    )
    # The address itself, and the linked addresses its own opt-outs suppressed (each with
    # an event of its own); an email the person unsubscribed separately stays unsubscribed.
    linked = list(
        Suppression.objects.filter(
            company=company,
            event__source=Source.LINKED,
            event__linked_event__address=address,
        )
        .exclude(address=address)
        .values_list("address", flat=True)
    )
    for other in linked:
        _linked_event(event, other)
    # An undeliverable address stays so: coming back does not make a mailbox work again.
    Suppression.objects.filter(
        company=company, address__in=[address, *linked], reason=Suppression.Reason.OPTED_OUT
    ).delete()
    _tell_subscribers(event)
    return event


@transaction.atomic
def record_undeliverable(
    *,
    company: Company,
    address: str,
    campaign_id: int | None = None,
    raw_text: str = "",
    actor: Actor = SYSTEM,
) -> ConsentEvent:
    """Stop all of the company's email to ``address``: mail to it bounces.

    Not an opt-out: the person's other addresses are untouched, the company's systems are
    not told of a consent change, and staff lift it (``restore_deliverable``) once the
    address is fixed. An address already opted out stays suppressed as such.
    """
    if not address:
        raise ValueError("An undeliverable address needs an address.")
    event = _event(
        company=company,
        address=address,
        kind=ConsentEvent.Kind.UNDELIVERABLE,
        source=Source.BOUNCE,
        actor=actor,
        seen=NOTHING_SEEN,
        campaign_id=campaign_id,
        raw_text=raw_text,
    )
    Suppression.objects.bulk_create(
        [
            Suppression(
                company=company,
                address=address,
                country=event.country,
                event=event,
                reason=Suppression.Reason.UNDELIVERABLE,
            )
        ],
        ignore_conflicts=True,
    )
    return event


class NotUndeliverable(ValueError):
    """The address is not suppressed as undeliverable: there is nothing to lift."""


@transaction.atomic
def restore_deliverable(*, company: Company, address: str, actor: Actor) -> ConsentEvent:
    """Staff say the address receives mail again: lift its "undeliverable", on the record."""
    lifted = (
        Suppression.objects.select_for_update()
        .filter(company=company, address=address, reason=Suppression.Reason.UNDELIVERABLE)
        .first()
    )
    if lifted is None:
        raise NotUndeliverable(f"{address} is not suppressed as undeliverable.")
    event = _event(
        company=company,
        address=address,
        kind=ConsentEvent.Kind.DELIVERABLE,
        source=Source.ADMIN,
        actor=actor,
        seen=NOTHING_SEEN,
    )
    lifted.delete()
    return event


def _tell_subscribers(event: ConsentEvent) -> None:
    # In the event's own transaction, so what a subscriber writes (the webhook outbox)
    # exists exactly when the event does. Dotted paths: optout imports nothing above it.
    for subscriber in settings.OPTOUT_EVENT_SUBSCRIBERS:
        import_string(subscriber)(event=event)


def note_marketing_sent(
    *,
    company: Company,
    campaign_id: int | None,
    shortcode: str,
    addresses: Iterable[str],
    sent_at: datetime | None = None,
) -> None:
    """Remember who sent marketing to these numbers through ``shortcode``, for replies."""
    note_reply_routes(
        company=company,
        campaign_id=campaign_id,
        routes=[(shortcode, address) for address in addresses],
        sent_at=sent_at,
    )


def note_reply_routes(
    *,
    company: Company,
    campaign_id: int | None,
    routes: Iterable[tuple[str, str]],
    sent_at: datetime | None = None,
) -> None:
    """Remember who sent marketing to each (shortcode, number), for replies.

    Called for every batch a campaign hands over: on PostgreSQL one statement over
    arrays, whatever the shortcodes, with no model instances to build.
    """
    sent_at = sent_at or timezone.now()
    routes = sorted(set(routes))
    if not routes:
        return
    if connection.vendor == "postgresql":
        shortcodes, addresses = map(list, zip(*routes, strict=True))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {ReplyRoute._meta.db_table} "
                "(shortcode, address, company_id, campaign_id, sent_at) "
                "SELECT shortcode, address, %s, %s, %s "
                "FROM unnest(%s::varchar[], %s::varchar[]) AS r(shortcode, address) "
                "ON CONFLICT (shortcode, address) DO UPDATE SET company_id = "
                "EXCLUDED.company_id, campaign_id = EXCLUDED.campaign_id, "
                "sent_at = EXCLUDED.sent_at",
                [company.pk, campaign_id, sent_at, shortcodes, addresses],
            )
        return
    ReplyRoute.objects.bulk_create(
        [
            ReplyRoute(
                shortcode=shortcode,
                address=address,
                company=company,
                campaign_id=campaign_id,
                sent_at=sent_at,
            )
            for shortcode, address in routes
        ],
        update_conflicts=True,
        unique_fields=["shortcode", "address"],
        update_fields=["company", "campaign_id", "sent_at"],
    )


@dataclass(frozen=True)
class KeywordMatch:
    action: str
    language: str


def match_keyword(text: str, *, country: str = "") -> KeywordMatch | None:
    """The action a whole-message reply asks for, if any, for a sender in ``country``."""
    word = normalize_reply(text)
    if not word:
        return None
    keyword = Keyword.objects.filter(word=word).first()
    if keyword and (not keyword.countries or country in keyword.countries.upper().split(",")):
        return KeywordMatch(keyword.action, keyword.language)
    if word in Keyword.PROTECTED:
        return KeywordMatch(Keyword.PROTECTED[word], "en")
    return None


def _digits(number: str) -> str:
    digits = "".join(ch for ch in number if ch.isdigit())
    return digits[2:] if digits.startswith("00") else digits


def rotate_webhook_secrets(*, webhooks: QuerySet[GatewayWebhook]) -> int:
    """A new secret for each; what the old one signed is refused from now on."""
    rotated, now = list(webhooks), timezone.now()
    for webhook in rotated:
        webhook.secret, webhook.updated_at = new_webhook_secret(), now
    GatewayWebhook.objects.bulk_update(rotated, ["secret", "updated_at"])
    return len(rotated)


def _attribute(
    *, recipient: str, sender: str, webhook: GatewayWebhook | None
) -> tuple[Company | None, ReplyRoute | None]:
    """The company a reply belongs to, and the marketing it answers if known."""
    route = route_for_reply(shortcode=recipient, address=sender)
    if webhook is not None:
        # The company's own gateway account: its replies are its own, whoever else once
        # sent to that number.
        same = route is not None and route.company_id == webhook.company_id
        return webhook.company, route if same else None
    dedicated = DedicatedNumber.objects.filter(number=recipient).select_related("company").first()
    if dedicated:
        same = route is not None and route.company_id == dedicated.company_id
        return dedicated.company, route if same else None
    if route:
        return route.company, route
    return None, None


def _reply_moment(received_at: str, signed_at: datetime | None) -> datetime | None:
    """When the person replied: the gateway's ``received_at`` (ISO 8601 or unix seconds),
    never later than the gateway signed the delivery; else the signing time."""
    moment = None
    text = received_at.strip()
    try:
        if text.isascii() and text.isdigit():
            moment = datetime.fromtimestamp(int(text), tz=UTC)
        elif text:
            moment = datetime.fromisoformat(text)
            moment = moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        moment = None
    if moment is None or (signed_at is not None and moment > signed_at):
        return signed_at
    return moment


def receive_inbound_sms(
    *,
    sender: str,
    recipient: str,
    text: str,
    reference: str = "",
    received_at: str = "",
    webhook: GatewayWebhook | None = None,
    digest: str = "",
    signed_at: datetime | None = None,
) -> InboundMessage:
    """Store the reply first (a crash after this loses nothing), then act on it.

    The same delivery again (the same ``reference`` from the same gateway account, or with
    none the same signed bytes, ``digest``) returns the stored reply; if acting on it did
    not finish the first time, it is acted on now.
    """
    reference = reference[:64]
    same = InboundMessage.objects.filter(webhook=webhook)
    if reference:
        same = same.filter(reference=reference)
    elif digest:
        same = same.filter(reference="", digest=digest)
    else:
        same = same.none()
    inbound = same.first()
    if inbound is None:
        try:
            with transaction.atomic():
                inbound = InboundMessage.objects.create(
                    sender=sender[:32],
                    recipient=_digits(recipient)[:32] or recipient[:32],
                    text=text,
                    reference=reference,
                    webhook=webhook,
                    digest=digest,
                    gateway_received_at=received_at[:40],
                    replied_at=_reply_moment(received_at, signed_at),
                )
        except IntegrityError:  # the same reply, delivered twice at once
            return same.get()
    if inbound.status == InboundMessage.Status.RECEIVED:
        return process_inbound_sms(inbound=inbound)
    return inbound


def _is_outdated(*, inbound: InboundMessage, company: Company, address: str) -> bool:
    """A reply sent before the address's latest consent change, delivered after it.

    Gateways reorder and retry: a START that arrives after a later STOP must not undo it.
    Seconds are compared, the precision gateways give, so a choice made in the same second
    counts as the later one.
    """
    moment = (inbound.replied_at or inbound.received_at).replace(microsecond=0)
    later = moment + timedelta(seconds=1)
    # Its own events, linked ones included: the opt-out of another address of the person
    # that suppressed this one is recorded on this one too.
    return ConsentEvent.objects.filter(
        company=company, address=address, created_at__gte=later
    ).exists()


def process_inbound_sms(
    *, inbound: InboundMessage, assign_to: Company | None = None
) -> InboundMessage:
    """Act on a stored reply once; returns it as it then stands.

    ``assign_to``: staff's answer for a reply no company was found for; it is then acted
    on as a reply to that company (a STOP opts the sender out of its marketing).
    """
    Status = InboundMessage.Status
    with transaction.atomic():
        # Two deliveries of one reply at once: the second waits here, then finds it done.
        inbound = InboundMessage.objects.select_for_update().get(pk=inbound.pk)
        assigning = assign_to is not None and inbound.status == Status.UNATTRIBUTED
        if inbound.status != Status.RECEIVED and not assigning:
            return inbound
        try:
            phone = parse_inbound_phone(inbound.sender)
        except InvalidAddress:
            inbound.status = Status.UNATTRIBUTED
            inbound.save(update_fields=["status"])
            logger.info("Inbound SMS %s from an unreadable number: unattributed", inbound.pk)
            return inbound
        inbound.sender_e164 = phone.e164
        match = match_keyword(inbound.text, country=phone.region)
        company, route = _attribute(
            recipient=inbound.recipient, sender=phone.e164, webhook=inbound.webhook
        )
        if assigning and company != assign_to:
            company, route = assign_to, None
        campaign_id = route.campaign_id if route else None
        inbound.company, inbound.campaign_id = company, campaign_id
        changed = False
        if company is None:
            inbound.status = Status.UNATTRIBUTED
        elif match is None:
            inbound.status = Status.UNMATCHED
        elif match.action == Keyword.Action.STOP:
            # Applied however late it arrives: an opt-out wins every race.
            changed = not is_suppressed(company=company, address=phone.e164)
            inbound.event = record_optout(
                company=company,
                address=phone.e164,
                source=Source.SMS_KEYWORD,
                campaign_id=campaign_id,
                message_sent_at=route.sent_at if route else None,
                raw_text=inbound.text,
            )
            inbound.status = Status.OPTED_OUT
        elif match.action == Keyword.Action.START:
            if _is_outdated(inbound=inbound, company=company, address=phone.e164):
                inbound.status = Status.SUPERSEDED
            else:
                changed = is_suppressed(company=company, address=phone.e164)
                inbound.event = record_optin(
                    company=company,
                    address=phone.e164,
                    source=Source.SMS_KEYWORD,
                    raw_text=inbound.text,
                )
                inbound.status = Status.OPTED_IN
        else:
            changed = True
            inbound.status = Status.HELP
        inbound.save(update_fields=["sender_e164", "company", "campaign_id", "status", "event"])
    # Never the number itself: logs travel further than the database.
    logger.info("Inbound SMS %s from %s: %s", inbound.pk, mask_phone(phone.e164), inbound.status)
    if changed:
        _confirm(inbound=inbound, keyword_language=match.language)
    return inbound


def optout_from_reply(*, inbound: InboundMessage, actor: Actor | None = None) -> ConsentEvent:
    """A marketer reads a free-text reply ("please stop texting me") as the opt-out it is."""
    # The reply answered the marketing its route still names, unless another campaign has
    # written to the number since: then when it was sent is not known.
    route = ReplyRoute.objects.filter(
        company_id=inbound.company_id, shortcode=inbound.recipient, address=inbound.sender_e164
    ).first()
    answered = route is not None and route.campaign_id == inbound.campaign_id
    with transaction.atomic():
        event = record_optout(
            company=inbound.company,
            address=inbound.sender_e164,
            source=Source.SMS_REPLY,
            campaign_id=inbound.campaign_id,
            message_sent_at=route.sent_at if answered else None,
            raw_text=inbound.text,
            actor=actor,
        )
        InboundMessage.objects.filter(company_id=inbound.company_id, pk=inbound.pk).update(
            status=InboundMessage.Status.OPTED_OUT, event=event
        )
    inbound.status = InboundMessage.Status.OPTED_OUT
    _confirm(inbound=inbound)
    return event


def dismiss_reply(*, inbound: InboundMessage) -> None:
    InboundMessage.objects.filter(
        company_id=inbound.company_id, pk=inbound.pk, status=InboundMessage.Status.UNMATCHED
    ).update(status=InboundMessage.Status.DISMISSED)


def _help_answer(*, company: Company, region: str) -> str:
    """The answer to HELP: the wording the sender's country requires where its rule has one
    (the US: CTIA's, with "Msg&data rates may apply"), else a plain one in the active
    language, with none of another country's boilerplate."""
    values = {"company": company.name, "contact": company.help_contact or company.name}
    try:
        template = rule_for_country(country_rules(), region).help_template
    except CountryRule.DoesNotExist:
        template = ""
    if template:
        try:
            return template.format(**values)
        except (KeyError, IndexError, ValueError):
            # A rule saved before its text was checked: answer all the same.
            logger.warning("The HELP text of the %s rule cannot be filled in", region)
    plain = _("%(company)s marketing messages. Help: %(contact)s. Reply STOP to unsubscribe.")
    return plain % values


def _confirm(*, inbound: InboundMessage, keyword_language: str = "") -> None:
    """One transactional reply, in the recipient's language, naming the company.

    A reply in a language of its own (ARRET) is answered in it; STOP, which every country
    uses, in the language of the sender's country. Sent through the configured
    transactional sender (campaigns owns the gateways); a failure is logged, never undoes
    the opt-out.
    """
    own = supported(keyword_language) if keyword_language != "en" else ""
    region = parse_inbound_phone(inbound.sender_e164).region
    language = own or language_for(country=region)
    company = inbound.company
    with translation.override(language):
        if inbound.status == InboundMessage.Status.OPTED_OUT:
            body = _(
                "%(company)s: you are unsubscribed and will get no more marketing messages. "
                "Reply START to subscribe again."
            ) % {"company": company.name}
        elif inbound.status == InboundMessage.Status.OPTED_IN:
            body = _("%(company)s: you are subscribed again. Reply STOP to unsubscribe.") % {
                "company": company.name
            }
        else:
            body = _help_answer(company=company, region=region)
    try:
        import_string(settings.OPTOUT_CONFIRMATION_SENDER)(
            company=company, to=inbound.sender_e164, body=body, sender=inbound.recipient
        )
    except Exception:
        logger.exception("Could not send the confirmation for inbound SMS %s", inbound.pk)


def apply_send_hours_change() -> None:
    """Sending hours changed (a country rule saved or removed): messages that wait for
    them are judged again now, not at the opening the old rule gave them."""
    import_string(settings.OPTOUT_SEND_HOURS_CHANGED)()
