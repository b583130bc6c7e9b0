import logging
import smtplib
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from addressbook.addresses import normalize_email, parse_phone
from addressbook.models import Company, Contact
from optout.models import CountryRule
from optout.selectors import (
    country_rules,
    only_suppressed,
    reachable_for_marketing,
    rule_for_country,
    without_suppressed,
)
from optout.services import note_marketing_sent

from .backends import OutboundSms, SendResult, TransientGatewayError, get_backend
from .models import Campaign, CampaignChunk, Channel, Message
from .personalize import (
    CONTACT_FIELDS,
    compile_body,
    compose_email_html,
    compose_email_text,
    compose_sms,
    new_short_code,
    placeholder_values,
    render,
    short_link,
    unsubscribe_link,
)
from .selectors import campaign_audience

logger = logging.getLogger(__name__)

# Longer than any one batch's hand-off, so a live worker never loses its chunk.
CHUNK_LEASE = timedelta(minutes=5)
UNKNOWN_OUTCOME = "Unknown: the worker stopped while handing this message to the gateway"


def create_campaign(
    *,
    company: Company,
    name: str,
    body: str,
    channel: str = Channel.SMS,
    sender: str = "",
    subject: str = "",
    html_body: str = "",
    created_by=None,
) -> Campaign:
    # Refuse unknown placeholders and tags before anything is stored.
    keys = list(company.custom_fields.values_list("key", flat=True))
    compile_body(body, custom_keys=keys)
    compile_body(subject, custom_keys=keys)
    compile_body(html_body, html=True, custom_keys=keys)
    if channel == Channel.EMAIL:
        default_sender = f'"{company.name}" <{settings.DEFAULT_FROM_EMAIL}>'
    else:
        default_sender = company.default_sender
    return Campaign.objects.create(
        company=company,
        name=name.strip(),
        channel=channel,
        subject=subject.strip(),
        body=body,
        html_body=html_body,
        sender=sender.strip() or default_sender,
        created_by=created_by,
    )


def send_campaign(*, campaign: Campaign) -> bool:
    """Start sending; a second click (or a second tab) starts nothing more."""
    from .tasks import plan_campaign_task

    started = Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.DRAFT).update(
        status=Campaign.Status.SENDING, started_at=timezone.now()
    )
    if started:
        transaction.on_commit(lambda: plan_campaign_task.delay(campaign.pk))
    return bool(started)


def plan_campaign(*, campaign_id: int) -> list[int]:
    """Cut the audience into keyset chunks and return the ids of chunks still to send."""
    campaign = Campaign.objects.get(pk=campaign_id)
    ids = campaign_audience(campaign=campaign).order_by("id").values_list("id", flat=True)
    size = settings.SEND_CHUNK_SIZE
    chunks, after = [], 0
    while True:
        # Keyset, never OFFSET: each step reads one index range.
        page = list(ids.filter(id__gt=after)[:size])
        if not page:
            break
        chunks.append(CampaignChunk(campaign=campaign, after_id=after, upto_id=page[-1]))
        after = page[-1]
    CampaignChunk.objects.bulk_create(chunks, ignore_conflicts=True)
    pending = list(
        campaign.chunks.filter(done_at__isnull=True)
        .order_by("after_id")
        .values_list("id", flat=True)
    )
    if not pending:
        _finish_if_done(campaign)
    return pending


def _create_messages(campaign: Campaign, chunk: CampaignChunk) -> None:
    """One Message per contact of the chunk: queued if reachable, skipped if opted out."""
    contacts = campaign_audience(campaign=campaign).filter(
        id__gt=chunk.after_id, id__lte=chunk.upto_id
    )
    existing = set(
        Message.objects.filter(
            campaign=campaign, contact_id__gt=chunk.after_id, contact_id__lte=chunk.upto_id
        ).values_list("contact_id", flat=True)
    )
    reachable = set(
        reachable_for_marketing(company=campaign.company, contacts=contacts).values_list(
            "id", flat=True
        )
    )
    composer = _Composer(campaign)
    todo = [row for row in contacts.values(*CONTACT_FIELDS) if row["id"] not in existing]
    # A short code may collide with one already issued; those rows are dropped by
    # ignore_conflicts and made again with a fresh code on the next pass.
    for _attempt in range(5):
        if not todo:
            return
        rows = [composer.message(row, row["id"] in reachable) for row in todo]
        Message.objects.bulk_create(rows, ignore_conflicts=True)
        made = set(
            Message.objects.filter(
                campaign=campaign, contact_id__in=[row["id"] for row in todo]
            ).values_list("contact_id", flat=True)
        )
        todo = [row for row in todo if row["id"] not in made]
    raise RuntimeError(f"Could not create messages for {len(todo)} contacts of {chunk}")


class _Composer:
    """Makes one campaign's Message rows: the body each contact reads, with its opt-out."""

    def __init__(self, campaign: Campaign):
        self.campaign = campaign
        self.email = campaign.channel == Channel.EMAIL
        self.body = compile_body(campaign.body)
        self.subject = compile_body(campaign.subject) if self.email else None
        self.rules = {} if self.email else country_rules()

    def message(self, row: dict, reachable: bool) -> Message:
        campaign = self.campaign
        message = Message(
            company_id=campaign.company_id,
            campaign=campaign,
            contact_id=row["id"],
            channel=campaign.channel,
            to=row["email"] if self.email else row["phone"],
            country=row["country"],
            sender=campaign.sender,
        )
        if not reachable:
            message.status = Message.Status.SKIPPED
            return message
        values = placeholder_values(row, campaign.company.name)
        if self.email:
            message.short_code = new_short_code()
            # A name imported with a line break must not break the Subject header.
            message.subject = " ".join(render(self.subject, values).split())
            link = unsubscribe_link(message.short_code)
            message.body = compose_email_text(self.body, values, link)
            return message
        rule = rule_for_country(self.rules, row["country"])
        link = ""
        if rule.method == CountryRule.Method.LINK:
            message.short_code = new_short_code()
            link = short_link(message.short_code)
        else:
            message.optout_shortcode = rule.shortcode
        message.body = compose_sms(self.body, values, rule.footer(link))
        return message


class ChunkBusy(Exception):
    """Another worker holds this chunk's lease; try again after it ends or expires."""


class LeaseLost(Exception):
    """This worker held the chunk longer than its lease; another may have taken over."""


def _take_lease(chunk_id: int) -> str | None:
    now = timezone.now()
    token = uuid.uuid4().hex
    taken = (
        CampaignChunk.objects.filter(pk=chunk_id, done_at__isnull=True)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .update(lease=token, leased_until=now + CHUNK_LEASE)
    )
    return token if taken else None


def _renew_lease(chunk: CampaignChunk, token: str) -> None:
    renewed = CampaignChunk.objects.filter(pk=chunk.pk, lease=token).update(
        leased_until=timezone.now() + CHUNK_LEASE
    )
    if not renewed:
        raise LeaseLost(f"Lost the lease of {chunk}")


def send_chunk(*, chunk_id: int, last_attempt: bool = False) -> None:
    """Send one chunk; safe to run again, and never twice at once for the same chunk.

    A lease on the chunk row keeps a redelivered task from working beside the first
    one, so every message of the chunk has one owner at a time.
    """
    token = _take_lease(chunk_id)
    if token is None:
        if CampaignChunk.objects.filter(pk=chunk_id, done_at__isnull=True).exists():
            raise ChunkBusy(chunk_id)
        return  # already done
    chunk = CampaignChunk.objects.select_related("campaign__company").get(pk=chunk_id)
    campaign = chunk.campaign
    in_chunk = Message.objects.filter(
        campaign=campaign, contact_id__gt=chunk.after_id, contact_id__lte=chunk.upto_id
    )
    # Left in SENDING by a worker that died during a hand-off: the gateway may or may not
    # have them, and sending again could deliver twice. Say so rather than guess.
    in_chunk.filter(status=Message.Status.SENDING).update(
        status=Message.Status.FAILED, error=UNKNOWN_OUTCOME
    )
    _create_messages(campaign, chunk)
    queued = in_chunk.filter(status=Message.Status.QUEUED).order_by("id")
    ids = list(queued.values_list("id", flat=True))
    for start in range(0, len(ids), settings.SEND_BATCH_SIZE):
        _renew_lease(chunk, token)
        claimed = _claim(ids[start : start + settings.SEND_BATCH_SIZE])
        _note_reply_routes(campaign, claimed)
        try:
            _hand_off(claimed)
        except TransientGatewayError as exc:
            if not last_attempt:
                # Nothing was accepted: put the batch back and let the task retry.
                Message.objects.filter(pk__in=[m.pk for m in claimed]).update(
                    status=Message.Status.QUEUED
                )
                CampaignChunk.objects.filter(pk=chunk.pk, lease=token).update(leased_until=None)
                raise
            _mark_failed(claimed, str(exc))
    # Still queued now means the address opted out between listing and claiming.
    only_suppressed(in_chunk.filter(status=Message.Status.QUEUED), address_field="to").update(
        status=Message.Status.SKIPPED
    )
    if CampaignChunk.objects.filter(pk=chunk.pk, lease=token, done_at__isnull=True).update(
        done_at=timezone.now(), leased_until=None
    ):
        _finish_if_done(campaign)


def _claim(ids: list[int]) -> list[Message]:
    """Move these queued, still-reachable messages to SENDING and return them.

    The suppression re-check and the state change are one UPDATE, so an opt-out
    committed before it always wins; the chunk's lease makes every SENDING row ours.
    """
    queued = Message.objects.filter(pk__in=ids, status=Message.Status.QUEUED)
    without_suppressed(queued, address_field="to").update(status=Message.Status.SENDING)
    return list(Message.objects.filter(pk__in=ids, status=Message.Status.SENDING))


def _note_reply_routes(campaign: Campaign, messages: list[Message]) -> None:
    """Before the hand-off, so a STOP to any message that went out finds its company."""
    by_shortcode: dict[str, list[str]] = {}
    for message in messages:
        if message.optout_shortcode:
            by_shortcode.setdefault(message.optout_shortcode, []).append(message.to)
    for shortcode, addresses in by_shortcode.items():
        note_marketing_sent(
            company=campaign.company,
            campaign_id=campaign.pk,
            shortcode=shortcode,
            addresses=addresses,
        )


def _hand_off(messages: list[Message]) -> None:
    if not messages:
        return
    if messages[0].channel == Channel.EMAIL:
        accepted = _send_emails(messages)
    else:
        batch = [
            OutboundSms(reference=str(m.pk), to=m.to, sender=m.sender, body=m.body)
            for m in messages
        ]
        accepted = {r.reference: r for r in get_backend().send_messages(batch)}
    now = timezone.now()
    for message in messages:
        result = accepted.get(str(message.pk))
        if result and result.accepted:
            message.status = Message.Status.SENT
            message.gateway_reference = result.gateway_reference
        else:
            message.status = Message.Status.FAILED
            message.error = (result.error if result else "no answer from the gateway")[:255]
        message.sent_at = now
    Message.objects.bulk_update(messages, ["status", "gateway_reference", "error", "sent_at"])


def _send_emails(messages: list[Message]) -> dict[str, SendResult]:
    """Through Django's email backend; marketing email carries RFC 8058 one-click headers."""
    html = _html_bodies(messages)
    emails = []
    for message in messages:
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.body,
            from_email=message.sender or None,
            to=[message.to],
            headers=_unsubscribe_headers(message),
        )
        if message.pk in html:
            email.attach_alternative(html[message.pk], "text/html")
        emails.append(email)
    # One at a time, each with its own outcome: a batch that failed half-way and was put
    # back would send its first half twice.
    results = {}
    try:
        connection = get_connection()
        connection.open()
    except (OSError, smtplib.SMTPException) as exc:
        raise TransientGatewayError(f"Email server: {exc}") from exc
    try:
        for message, email in zip(messages, emails, strict=True):
            try:
                connection.send_messages([email])
            except (OSError, smtplib.SMTPException, ValueError) as exc:
                results[str(message.pk)] = SendResult(str(message.pk), False, error=str(exc))
            else:
                results[str(message.pk)] = SendResult(str(message.pk), True)
    finally:
        connection.close()
    return results


def _unsubscribe_headers(message: Message) -> dict[str, str]:
    if message.kind != Message.Kind.MARKETING:
        return {}
    token_url = unsubscribe_link(message.short_code)
    targets = [f"<{token_url}>"]
    if settings.UNSUBSCRIBE_MAILTO:
        targets.append(f"<mailto:{settings.UNSUBSCRIBE_MAILTO}?subject=unsubscribe>")
    return {
        "List-Unsubscribe": ", ".join(targets),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def _html_bodies(messages: list[Message]) -> dict[int, str]:
    """HTML versions, rendered at hand-off from the campaign's HTML body (not stored)."""
    campaign = messages[0].campaign
    if campaign is None or not campaign.html_body:
        return {}
    template = compile_body(campaign.html_body, html=True)
    contacts = {
        row["id"]: row
        for row in Contact.objects.filter(pk__in=[m.contact_id for m in messages]).values(
            *CONTACT_FIELDS
        )
    }
    return {
        m.pk: compose_email_html(
            template,
            placeholder_values(contacts[m.contact_id], campaign.company.name),
            unsubscribe_link(m.short_code),
        )
        for m in messages
        if m.contact_id in contacts
    }


def _mark_failed(messages: list[Message], error: str) -> None:
    Message.objects.filter(pk__in=[m.pk for m in messages]).update(
        status=Message.Status.FAILED, error=error[:255]
    )


def _finish_if_done(campaign: Campaign) -> None:
    if not campaign.chunks.filter(done_at__isnull=True).exists():
        Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.SENDING).update(
            status=Campaign.Status.SENT, finished_at=timezone.now()
        )


def _send_now(message: Message) -> Message:
    """A transactional message goes at once; a gateway that is down fails it, with why."""
    try:
        _hand_off([message])
    except TransientGatewayError as exc:
        _mark_failed([message], str(exc))
        message.refresh_from_db()
    return message


def send_transactional_email(*, company: Company, to: str, subject: str, body: str) -> Message:
    """Receipts and notices by email: never suppressed, no unsubscribe headers or link."""
    message = Message.objects.create(
        company=company,
        kind=Message.Kind.TRANSACTIONAL,
        channel=Channel.EMAIL,
        to=normalize_email(to),
        subject=subject,
        body=body,
        status=Message.Status.SENDING,
    )
    return _send_now(message)


def send_transactional(*, company: Company, to: str, body: str, sender: str = "") -> Message:
    """One-time passwords, receipts, notices: never suppressed, never an opt-out text."""
    phone = parse_phone(to, company.default_country)
    message = Message.objects.create(
        company=company,
        kind=Message.Kind.TRANSACTIONAL,
        to=phone.e164,
        country=phone.region,
        sender=sender or company.default_sender,
        body=body,
        status=Message.Status.SENDING,
    )
    return _send_now(message)
