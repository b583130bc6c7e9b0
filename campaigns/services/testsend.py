"""A test of a draft: the campaign's message sent to a few addresses the marketer types.

It goes the transactional way (never suppressed, sent at once, no campaign on the
message), so it counts in none of the campaign's figures; its text starts with
``[Test]`` and ends with the opt-out text of the destination's country, as recipients
will read it. It is filled with the marketer's own name, never with a contact's: a test
goes to any address typed, and a contact's details must not travel there.
"""

import re
from datetime import timedelta

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from addressbook.addresses import InvalidAddress, Phone, normalize_email, parse_phone
from addressbook.models import AuditEvent
from addressbook.services.audit import record_audit
from optout.texts import optout_texts

from ..models import Campaign, Channel, Message
from ..personalize import (
    CODE_LENGTH,
    compile_body,
    compose_email_text,
    compose_sms,
    placeholder_values,
    render,
    short_link,
    unsubscribe_link,
)
from .lifecycle import CampaignError
from .transactional import send_transactional, send_transactional_email

TEST_PREFIX = "[Test] "
MAX_TEST_ADDRESSES = 5
# Per campaign and hour, all members together: enough to try a draft on a few phones
# after each change, too few to send a campaign to a list by hand.
TEST_SENDS_PER_HOUR = 20
# The link in a test is a sample as long as a recipient's: it opts nobody out.
SAMPLE_CODE = "x" * CODE_LENGTH
SUBJECT_LENGTH = Message._meta.get_field("subject").max_length
_SEPARATORS = re.compile(r"[,;\n]+")


class RefusedTestSend(CampaignError):
    """Nothing was sent; the message says why and what to change."""

    def __init__(self, message: str, *, rate_limited: bool = False):
        super().__init__(message)
        self.rate_limited = rate_limited


def parse_test_addresses(*, campaign: Campaign, text: str) -> list[str]:
    """The addresses typed, read as the campaign's channel needs them (phone numbers in
    the company's default country unless written with +), without repeats."""
    typed = [part.strip() for part in _SEPARATORS.split(text) if part.strip()]
    email = campaign.channel == Channel.EMAIL
    if not typed:
        what = "email address" if email else "phone number"
        raise RefusedTestSend(f"Enter a {what} to send the test to.")
    if len(typed) > MAX_TEST_ADDRESSES:
        raise RefusedTestSend(f"At most {MAX_TEST_ADDRESSES} addresses at a time.")
    addresses: list[str] = []
    for raw in typed:
        try:
            if email:
                address = normalize_email(raw)
            elif "@" in raw:
                raise InvalidAddress(f"“{raw}” is an email address; this campaign is an SMS.")
            else:
                address = parse_phone(raw, campaign.company.default_country).e164
        except InvalidAddress as exc:
            raise RefusedTestSend(str(exc)) from exc
        if address not in addresses:
            addresses.append(address)
    return addresses


def remaining_test_sends(*, campaign: Campaign) -> int:
    """How many test messages the campaign may still send this hour."""
    return max(0, TEST_SENDS_PER_HOUR - _sent_this_hour(campaign))


def _sent_this_hour(campaign: Campaign) -> int:
    events = AuditEvent.objects.filter(
        company_id=campaign.company_id,
        action=AuditEvent.Action.CAMPAIGN_TEST_SENT,
        object_id=str(campaign.pk),
        created_at__gte=timezone.now() - timedelta(hours=1),
    )
    return sum(n or 0 for n in events.values_list("details__messages", flat=True))


def send_test_messages(
    *,
    campaign: Campaign,
    text: str,
    actor: AbstractBaseUser,
    ip: str | None = None,
) -> list[Message]:
    """Send the draft to the addresses in ``text`` (one per line or comma), as a test.

    Raises ``RefusedTestSend`` before anything is sent: an address that cannot be read,
    a campaign that is no draft, or the hour's tests used up. The audit event is written
    first, under a lock on the campaign, so that two tabs cannot both take the last tests.
    """
    addresses = parse_test_addresses(campaign=campaign, text=text)
    with transaction.atomic():
        current = Campaign.objects.select_for_update().get(
            company_id=campaign.company_id, pk=campaign.pk
        )
        if current.status != Campaign.Status.DRAFT:
            raise RefusedTestSend("Only a draft can be sent as a test.")  # sent meanwhile
        left = remaining_test_sends(campaign=current)
        if len(addresses) > left:
            raise RefusedTestSend(
                f"At most {TEST_SENDS_PER_HOUR} test messages per campaign an hour; "
                f"{left} left now. Try again later.",
                rate_limited=True,
            )
        record_audit(
            company=current.company,
            action=AuditEvent.Action.CAMPAIGN_TEST_SENT,
            actor=actor,
            obj=current,
            # Text the audit log shows as it is, and the count the hour's limit adds up.
            details={
                "channel": current.channel,
                "to": ", ".join(addresses),
                "messages": len(addresses),
            },
            ip=ip,
        )
    values = _marketer_values(current, actor)
    if current.channel == Channel.EMAIL:
        return [_send_email(current, values, to) for to in addresses]
    return [_send_sms(current, values, to) for to in addresses]


def _marketer_values(campaign: Campaign, actor: AbstractBaseUser) -> dict[str, str]:
    first = getattr(actor, "first_name", "") or actor.get_username()
    person = {
        "first_name": first,
        "last_name": getattr(actor, "last_name", ""),
        "phone": "",
        "email": getattr(actor, "email", ""),
        "custom": {},
    }
    return placeholder_values(person, campaign.company.name)


def _send_sms(campaign: Campaign, values: dict[str, str], to: str) -> Message:
    company = campaign.company
    phone: Phone = parse_phone(to, company.default_country)
    footer = optout_texts(company=company).footer(phone.region)
    text = footer.text(short_link(SAMPLE_CODE) if footer.makes_link else "")
    body = compose_sms(compile_body(campaign.body), {**values, "phone": phone.e164}, text)
    return send_transactional(
        company=company, to=phone.e164, body=f"{TEST_PREFIX}{body}", sender=campaign.sender
    )


def _send_email(campaign: Campaign, values: dict[str, str], to: str) -> Message:
    values = {**values, "email": to}
    subject = " ".join(render(compile_body(campaign.subject), values).split())
    body = compose_email_text(compile_body(campaign.body), values, unsubscribe_link(SAMPLE_CODE))
    return send_transactional_email(
        company=campaign.company,
        to=to,
        subject=f"{TEST_PREFIX}{subject}"[:SUBJECT_LENGTH],
        body=body,
    )
