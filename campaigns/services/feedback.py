"""What email services report after they took a message: bounces and spam complaints, and
mail to the List-Unsubscribe mailto: address. Each is applied to the company whose message
it names, never another's."""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from optout.consent import Actor
from optout.models import ConsentEvent, Source, Suppression
from optout.services import record_optout, record_undeliverable

from ..models import Channel, EmailFeedback, Message
from ..personalize import code_from_mailto

logger = logging.getLogger(__name__)

SOFT_BOUNCE_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class EmailReport:
    """One report of an email service, as django-anymail reads it."""

    esp: str
    kind: str  # an EmailFeedback.Kind
    recipient: str
    message_id: str = ""
    # What we gave the message when sending (company and message ids), echoed back.
    metadata: dict = field(default_factory=dict)
    event_id: str = ""
    description: str = ""


def _message_of(report: EmailReport) -> Message | None:
    """Our email the report is about, by the service's message id, else by the ids we put
    in its metadata; None when the two disagree on the company, or nothing fits."""
    claimed_company = str(report.metadata.get("company", ""))
    message = None
    if report.message_id:
        # The partial index on (gateway_reference) of email messages: its predicate, repeated.
        message = (
            Message.objects.filter(channel=Channel.EMAIL, gateway_reference=report.message_id)
            .exclude(gateway_reference="")
            .first()
        )
    if message is None and str(report.metadata.get("message", "")).isdigit():
        message = Message.objects.filter(
            pk=int(report.metadata["message"]),
            channel=Channel.EMAIL,
            company_id=int(claimed_company) if claimed_company.isdigit() else None,
        ).first()
    if message is None:
        return None
    if claimed_company and claimed_company != str(message.company_id):
        logger.warning("Email report for message %s names another company; ignored", message.pk)
        return None
    # The report is about the address the message went to, not one it merely names.
    if report.recipient and report.recipient.strip().lower() != message.to.lower():
        logger.warning("Email report for message %s names another recipient; ignored", message.pk)
        return None
    return message


@transaction.atomic
def record_email_report(*, report: EmailReport) -> EmailFeedback | None:
    """Apply a bounce or complaint to the company of the message it is about.

    A complaint opts the address out of the company's marketing, as the person's own act;
    a hard bounce suppresses the address for all the company's email as undeliverable, and
    so do ``EMAIL_SOFT_BOUNCE_LIMIT`` soft bounces (of as many messages) in 30 days. A
    report seen before, or about no message of ours, changes nothing.
    """
    message = _message_of(report)
    if message is None:
        logger.info("Email report (%s, %s) matches no message of ours", report.esp, report.kind)
        return None
    try:
        with transaction.atomic():
            feedback = EmailFeedback.objects.create(
                company_id=message.company_id,
                message=message,
                campaign_id=message.campaign_id,
                address=message.to,
                kind=report.kind,
                esp=report.esp[:32],
                event_id=report.event_id[:255],
                description=report.description[:255],
            )
    except IntegrityError:  # delivered twice, or this message's soft bounce already counted
        return None
    actor = Actor.gateway(report.esp)
    if report.kind == EmailFeedback.Kind.COMPLAINT:
        record_optout(
            company=message.company,
            address=message.to,
            source=Source.COMPLAINT,
            campaign_id=message.campaign_id,
            message_sent_at=message.sent_at,
            raw_text=report.description,
            actor=actor,
        )
    elif report.kind == EmailFeedback.Kind.HARD_BOUNCE or _soft_bounces_exceeded(feedback):
        record_undeliverable(
            company=message.company,
            address=message.to,
            campaign_id=message.campaign_id,
            raw_text=report.description,
            actor=actor,
        )
    return feedback


def _soft_bounces_exceeded(feedback: EmailFeedback) -> bool:
    if feedback.kind != EmailFeedback.Kind.SOFT_BOUNCE:
        return False
    recent = EmailFeedback.objects.filter(
        company_id=feedback.company_id,
        address=feedback.address,
        kind=EmailFeedback.Kind.SOFT_BOUNCE,
        received_at__gte=timezone.now() - SOFT_BOUNCE_WINDOW,
    ).count()
    return recent >= settings.EMAIL_SOFT_BOUNCE_LIMIT


def record_mailto_unsubscribe(
    *, recipients: list[str], subject: str, sender: str = ""
) -> ConsentEvent | None:
    """A mail to one of our List-Unsubscribe mailto: addresses: the message's address opts
    out of that message's company, as if by its one-click link. Without a genuine token
    (in the address or the subject) nothing happens."""
    code = code_from_mailto(recipients=recipients, subject=subject)
    if code is None:
        return None
    message = (
        Message.objects.filter(short_code=code, channel=Channel.EMAIL)
        .select_related("company")
        .first()
    )
    if message is None or not message.to:
        return None
    if Suppression.objects.filter(
        company=message.company, address=message.to, reason=Suppression.Reason.OPTED_OUT
    ).exists():
        return None  # a second mail, or the mail program retrying: already out
    return record_optout(
        company=message.company,
        address=message.to,
        source=Source.MAILTO,
        campaign_id=message.campaign_id,
        message_sent_at=message.sent_at,
        raw_text=f"From: {sender}\nSubject: {subject}"[:1000],
    )
