import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from addressbook.addresses import parse_phone
from addressbook.models import Company
from optout.models import CountryRule, Suppression
from optout.selectors import country_rules, reachable_for_marketing, rule_for_country
from optout.services import note_marketing_sent

from .backends import OutboundSms, get_backend
from .models import Campaign, CampaignChunk, Message
from .personalize import (
    CONTACT_FIELDS,
    compile_body,
    compose_sms,
    new_short_code,
    placeholder_values,
    short_link,
)
from .selectors import campaign_audience

logger = logging.getLogger(__name__)


def create_campaign(
    *, company: Company, name: str, body: str, sender: str = "", created_by=None
) -> Campaign:
    compile_body(body)  # refuses unknown placeholders before anything is stored
    return Campaign.objects.create(
        company=company,
        name=name.strip(),
        body=body,
        sender=sender.strip() or company.default_sender,
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
    template = compile_body(campaign.body)
    rules = country_rules()
    todo = [row for row in contacts.values(*CONTACT_FIELDS) if row["id"] not in existing]
    # A short code may collide with one already issued; those rows are dropped by
    # ignore_conflicts and made again with a fresh code on the next pass.
    for _attempt in range(5):
        if not todo:
            return
        rows = [
            _message_for(campaign, row, row["id"] in reachable, template, rules) for row in todo
        ]
        Message.objects.bulk_create(rows, ignore_conflicts=True)
        made = set(
            Message.objects.filter(
                campaign=campaign, contact_id__in=[row["id"] for row in todo]
            ).values_list("contact_id", flat=True)
        )
        todo = [row for row in todo if row["id"] not in made]
    raise RuntimeError(f"Could not create messages for {len(todo)} contacts of {chunk}")


def _message_for(campaign, row, reachable, template, rules) -> Message:
    message = Message(
        company_id=campaign.company_id,
        campaign=campaign,
        contact_id=row["id"],
        to=row["phone"],
        country=row["country"],
        sender=campaign.sender,
    )
    if not reachable:
        message.status = Message.Status.SKIPPED
        return message
    rule = rule_for_country(rules, row["country"])
    link = ""
    if rule.method == CountryRule.Method.LINK:
        message.short_code = new_short_code()
        link = short_link(message.short_code)
    else:
        message.optout_shortcode = rule.shortcode
    values = placeholder_values(row, campaign.company.name)
    message.body = compose_sms(template, values, rule.footer(link))
    return message


def _not_suppressed(messages):
    suppressed = Suppression.objects.filter(
        company_id=OuterRef("company_id"), address=OuterRef("to")
    )
    return messages.filter(~Exists(suppressed))


def _claim(messages) -> list[Message]:
    """Move queued, still-reachable messages to SENDING; return those this worker owns.

    The re-check of the suppression list and the state change are one UPDATE, so an
    opt-out committed before it is always honoured.
    """
    candidates = list(_not_suppressed(messages.filter(status=Message.Status.QUEUED)))
    ids = [m.pk for m in candidates]
    queued = Message.objects.filter(status=Message.Status.QUEUED)
    claimed = _not_suppressed(queued.filter(pk__in=ids)).update(status=Message.Status.SENDING)
    if claimed != len(ids):
        # Another worker runs the same chunk (a redelivered task): claim row by row.
        candidates = [
            m
            for m in candidates
            if _not_suppressed(queued.filter(pk=m.pk)).update(status=Message.Status.SENDING)
        ]
    return candidates


def send_chunk(*, chunk_id: int) -> None:
    chunk = CampaignChunk.objects.select_related("campaign__company").get(pk=chunk_id)
    if chunk.done_at is not None:
        return
    campaign = chunk.campaign
    _create_messages(campaign, chunk)
    in_chunk = Message.objects.filter(
        campaign=campaign, contact_id__gt=chunk.after_id, contact_id__lte=chunk.upto_id
    )
    claimed = _claim(in_chunk)
    _hand_off(claimed)
    by_shortcode: dict[str, list[str]] = {}
    for message in claimed:
        if message.optout_shortcode:
            by_shortcode.setdefault(message.optout_shortcode, []).append(message.to)
    for shortcode, addresses in by_shortcode.items():
        note_marketing_sent(
            company=campaign.company,
            campaign_id=campaign.pk,
            shortcode=shortcode,
            addresses=addresses,
        )
    # Queued messages whose address opted out while we worked: never handed over.
    in_chunk.filter(status=Message.Status.QUEUED).update(status=Message.Status.SKIPPED)
    if CampaignChunk.objects.filter(pk=chunk.pk, done_at__isnull=True).update(
        done_at=timezone.now()
    ):
        _finish_if_done(campaign)


def _hand_off(messages: list[Message]) -> None:
    if not messages:
        return
    batch = [
        OutboundSms(reference=str(m.pk), to=m.to, sender=m.sender, body=m.body) for m in messages
    ]
    results = {r.reference: r for r in get_backend().send_messages(batch)}
    now = timezone.now()
    for message in messages:
        result = results.get(str(message.pk))
        if result and result.accepted:
            message.status = Message.Status.SENT
            message.gateway_reference = result.gateway_reference
        else:
            message.status = Message.Status.FAILED
            message.error = (result.error if result else "no answer from the gateway")[:255]
        message.sent_at = now
    Message.objects.bulk_update(
        messages, ["status", "gateway_reference", "error", "sent_at"], batch_size=1000
    )


def _finish_if_done(campaign: Campaign) -> None:
    if not campaign.chunks.filter(done_at__isnull=True).exists():
        Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.SENDING).update(
            status=Campaign.Status.SENT, finished_at=timezone.now()
        )


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
    _hand_off([message])
    return message
