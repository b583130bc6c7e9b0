"""Handing claimed messages to the SMS gateway or the email server, and recording what
each one answered."""

import smtplib
from collections import defaultdict
from dataclasses import dataclass, field

from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.template import Template
from django.utils import timezone

from addressbook.models import Contact

from ..backends import OutboundSms, SendResult, TransientGatewayError, get_backend
from ..mime import CampaignEmail
from ..models import Campaign, Channel, Message
from ..personalize import (
    CONTACT_FIELDS,
    compile_body,
    compose_email_html,
    placeholder_values,
    unsubscribe_link,
    unsubscribe_mailto,
)
from .tally import count_sent

NO_ANSWER = "No answer from the gateway for this message"


@dataclass(slots=True)
class Outgoing:
    """What a hand-off reads of a message (a Message has all of it too): the sending
    engine builds these from its own rows rather than a model instance per message."""

    pk: int
    company_id: int
    campaign_id: int | None
    contact_id: int | None
    kind: str
    channel: str
    to: str
    country: str
    sender: str
    subject: str
    body: str
    short_code: str | None
    optout_shortcode: str
    campaign: Campaign | None = None
    # The contact's row (CONTACT_FIELDS) the message was composed from, where at hand:
    # an HTML body rendered at hand-off then needs no second read of it.
    contact_row: dict | None = None

    # The columns of a Message these are read from, in the order of the fields above.
    COLUMNS = (
        "id", "company_id", "campaign_id", "contact_id", "kind", "channel", "to", "country",
        "sender", "subject", "body", "short_code", "optout_shortcode",
    )  # fmt: skip


@dataclass
class HandOff:
    """Messages the gateway did not take but may take later, and why."""

    retry: list[int] = field(default_factory=list)
    retry_reason: str = ""


def hand_off(messages: list[Message] | list[Outgoing]) -> HandOff:
    """Give messages in state SENDING to the gateway; each ends SENT or FAILED, except
    those it asks to be tried again, which stay SENDING for the caller to decide."""
    if not messages:
        return HandOff()
    try:
        if messages[0].channel == Channel.EMAIL:
            results = _send_emails(messages)
        else:
            batch = [
                OutboundSms(reference=str(m.pk), to=m.to, sender=m.sender, body=m.body)
                for m in messages
            ]
            results = {r.reference: r for r in get_backend().send_messages(batch)}
    except TransientGatewayError as exc:
        return HandOff(retry=[m.pk for m in messages], retry_reason=str(exc))
    return _record(messages, results)


def _record(messages: list[Message], results: dict[str, SendResult]) -> HandOff:
    now = timezone.now()
    outcomes, accepted, handed = [], [], HandOff()
    for message in messages:
        result = results.get(str(message.pk))
        if result is None:
            outcomes.append((message.pk, Message.Status.FAILED, NO_ANSWER, ""))
        elif result.accepted:
            outcomes.append((message.pk, Message.Status.SENT, "", result.gateway_reference))
            accepted.append(message)
        elif result.retry:
            handed.retry.append(message.pk)
            handed.retry_reason = result.error
        else:
            outcomes.append((message.pk, Message.Status.FAILED, result.error[:255], ""))
    # A batch is one company's (a campaign's chunk, or one transactional message sent
    # inside the API's scope of its company). With the tally in one transaction: the
    # counters never say more or less than the rows.
    with transaction.atomic():
        record_outcomes(outcomes, at=now)
        count_sent(accepted, at=now)
    return handed


def record_outcomes(outcomes: list[tuple[int, str, str, str]], *, at) -> None:
    """Set each message's (id, status, error, gateway reference) as the gateway answered.

    Only from SENDING: a delivery report that overtook this answer has already said
    more. On PostgreSQL one UPDATE joined to the outcomes as arrays, whatever their mix;
    elsewhere one UPDATE per kind of outcome. By primary key alone (the ids are the
    claimed batch's, one company's): with the company in the condition too, a company
    the table's statistics do not know yet had its index chosen, and every batch walked
    all of its messages.
    """
    if not outcomes:
        return
    if connection.vendor == "postgresql":
        table, sending = Message._meta.db_table, Message.Status.SENDING
        with connection.cursor() as cursor:
            if all(o[1:] == (Message.Status.SENT, "", "") for o in outcomes):
                # The usual batch: every message taken, no reference to keep.
                cursor.execute(
                    f"UPDATE {table} SET status = %s, sent_at = %s "
                    "WHERE id = ANY(%s) AND status = %s",
                    [Message.Status.SENT, at, [o[0] for o in outcomes], sending],
                )
                return
            cursor.execute(
                f"UPDATE {table} AS m SET status = v.status, error = v.error, "
                "sent_at = %s, gateway_reference = CASE WHEN v.reference = '' "
                "THEN m.gateway_reference ELSE v.reference END "
                "FROM unnest(%s::bigint[], %s::varchar[], %s::varchar[], %s::varchar[]) "
                "AS v(id, status, error, reference) "
                "WHERE m.id = v.id AND m.status = %s",
                [at, *map(list, zip(*outcomes, strict=True)), sending],
            )
        return
    sending = Message.objects.filter(status=Message.Status.SENDING)
    alike: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for pk, status, error, reference in outcomes:
        alike[status, error, reference].append(pk)
    for (status, error, reference), ids in alike.items():
        update = {"status": status, "error": error, "sent_at": at}
        if reference:
            update["gateway_reference"] = reference
        sending.filter(pk__in=ids).update(**update)


def _send_emails(messages: list[Message]) -> dict[str, SendResult]:
    """Through Django's email backend; marketing email carries RFC 8058 one-click headers.

    Each message's signed link is made once, for its List-Unsubscribe and its HTML body; a
    CampaignEmail builds its bytes without the email package's per-message work."""
    links = {
        m.pk: unsubscribe_link(m.short_code) for m in messages if m.kind == Message.Kind.MARKETING
    }
    html = _html_bodies(messages, links)
    emails = []
    for message in messages:
        email = CampaignEmail(
            subject=message.subject,
            body=message.body,
            from_email=message.sender or None,
            to=[message.to],
            headers=_unsubscribe_headers(message, links.get(message.pk)),
        )
        if message.pk in html:
            email.attach_alternative(html[message.pk], "text/html")
        # Echoed back by the email service with its bounce and complaint reports (through
        # django-anymail; plain SMTP ignores them): whose message it was.
        email.metadata = {"company": str(message.company_id), "message": str(message.pk)}
        email.tags = [message.kind]
        emails.append(email)
    # One at a time, each with its own outcome: a batch that failed half-way and was put
    # back would send its first half twice.
    results = {}
    try:
        server = get_connection()
        server.open()
    except (OSError, smtplib.SMTPException) as exc:
        raise TransientGatewayError(f"Email server: {exc}") from exc
    try:
        for sent, (message, email) in enumerate(zip(messages, emails, strict=True)):
            reference = str(message.pk)
            try:
                server.send_messages([email])
            except smtplib.SMTPServerDisconnected as exc:
                lost = exc
            except (smtplib.SMTPException, ValueError, AnymailRecipientsRefused) as exc:
                # this message refused
                results[reference] = SendResult(reference, False, error=str(exc)[:255])
                continue
            except AnymailAPIError as exc:  # an email service's API (anymail backends)
                if not _service_refused(exc):
                    lost = exc
                else:
                    results[reference] = SendResult(reference, False, error=str(exc)[:255])
                    continue
            except OSError as exc:  # the connection, not the message
                lost = exc
            else:
                results[reference] = SendResult(reference, True, _service_message_id(email))
                continue
            # The connection is gone: this message failed with it, and the rest were never
            # tried; they go back to be sent later.
            results[reference] = SendResult(reference, False, error=f"Email server: {lost}")
            for later in messages[sent + 1 :]:
                error = f"Email server: {lost}"
                results[str(later.pk)] = SendResult(str(later.pk), False, retry=True, error=error)
            break
    finally:
        server.close()
    return results


def _service_refused(exc: AnymailAPIError) -> bool:
    """The service answered that it will not take this message (a 4xx other than 429);
    anything else (unreachable, overloaded, a 5xx) may pass if tried later."""
    status = getattr(exc, "status_code", None)
    return status is not None and 400 <= status < 500 and status != 429


def _service_message_id(email: EmailMultiAlternatives) -> str:
    """The email service's id of the message, as its reports will name it ("" for SMTP)."""
    status = getattr(email, "anymail_status", None)
    if status is None or status.message_id is None:
        return ""
    return str(status.message_id)


def _unsubscribe_headers(message: Message, link: str | None = None) -> dict[str, str]:
    """RFC 8058's headers of a marketing message; ``link``: its unsubscribe_link, if made."""
    if message.kind != Message.Kind.MARKETING:
        return {}
    token_url = link or unsubscribe_link(message.short_code)
    targets = [f"<{token_url}>"]
    if settings.UNSUBSCRIBE_MAILTO:
        targets.append(f"<{unsubscribe_mailto(message.short_code)}>")
    return {
        "List-Unsubscribe": ", ".join(targets),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def _html_bodies(messages: list[Message], links: dict[int, str] | None = None) -> dict[int, str]:
    """HTML versions, rendered at hand-off from the campaign's HTML body (not stored);
    ``links``: the messages' unsubscribe_link, where made already."""
    campaign = messages[0].campaign
    if campaign is None or not campaign.html_body:
        return {}
    template = _html_template(campaign.html_body)
    links = links or {}
    company_name = campaign.company.name
    contacts = {m.contact_id: m.contact_row for m in messages if getattr(m, "contact_row", None)}
    if missing := [m.contact_id for m in messages if m.contact_id not in contacts]:
        contacts |= {
            row["id"]: row for row in Contact.objects.filter(pk__in=missing).values(*CONTACT_FIELDS)
        }
    return {
        m.pk: compose_email_html(
            template,
            placeholder_values(contacts[m.contact_id], company_name),
            links.get(m.pk) or unsubscribe_link(m.short_code),
        )
        for m in messages
        if m.contact_id in contacts
    }


_html_templates: dict[str, Template] = {}


def _html_template(html_body: str) -> Template:
    """A campaign's HTML body compiled once per worker process, not once per batch: keyed
    by the body itself, so an edited one is compiled afresh."""
    template = _html_templates.get(html_body)
    if template is None:
        if len(_html_templates) >= 32:
            _html_templates.clear()
        template = _html_templates[html_body] = compile_body(html_body, html=True)
    return template
