"""Transactional messages: receipts, one-time codes, opt-out confirmations.

Never suppressed by an opt-out (only an address that bounces gets no email), never an
opt-out text or unsubscribe header, sent at once.
"""

from django.conf import settings

from addressbook.addresses import normalize_email, parse_phone
from addressbook.models import Company
from optout.selectors import is_undeliverable

from ..models import Channel, Message
from .handoff import hand_off

SENDER_LENGTH = Message._meta.get_field("sender").max_length

# How a message the gateway could not take at all begins its error: nothing was sent, so
# sending it again later is safe (unlike a message the gateway took and then refused).
GATEWAY_DOWN = "Not sent, the gateway is unavailable:"
UNDELIVERABLE = "Not sent: mail to this address bounces (undeliverable)"


def send_transactional(*, company: Company, to: str, body: str, sender: str = "") -> Message:
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


def send_transactional_email(*, company: Company, to: str, subject: str, body: str) -> Message:
    """Sent whatever the person's consent; not to an address whose mail bounces, which
    would fail again and cost the platform's sending reputation."""
    address = normalize_email(to)
    undeliverable = is_undeliverable(company=company, address=address)
    message = Message.objects.create(
        company=company,
        kind=Message.Kind.TRANSACTIONAL,
        channel=Channel.EMAIL,
        to=address,
        sender=_from_address(company),
        subject=subject,
        body=body,
        status=Message.Status.FAILED if undeliverable else Message.Status.SENDING,
        error=UNDELIVERABLE if undeliverable else "",
    )
    return message if undeliverable else _send_now(message)


def _from_address(company: Company) -> str:
    """The company by name, at the platform's address, as its campaigns are sent."""
    name = company.name.replace("\\", "").replace('"', "")
    sender = f'"{name}" <{settings.DEFAULT_FROM_EMAIL}>'
    return sender if len(sender) <= SENDER_LENGTH else settings.DEFAULT_FROM_EMAIL


def _send_now(message: Message) -> Message:
    """No queue to come back to: a gateway that is down fails it, with why."""
    outcome = hand_off([message])
    if outcome.retry:
        Message.objects.filter(company_id=message.company_id, pk=message.pk).update(
            status=Message.Status.FAILED, error=f"{GATEWAY_DOWN} {outcome.retry_reason}"[:255]
        )
    message.refresh_from_db()
    return message


def is_gateway_outage(message: Message) -> bool:
    """Failed because the gateway could not be reached or asked to try later."""
    return message.status == Message.Status.FAILED and message.error.startswith(GATEWAY_DOWN)
