"""The List-Unsubscribe mailto: works: a mail to it, delivered to our inbound webhook by
the email service, opts the message's address out of the message's company."""

import hashlib
import hmac
import re
import uuid
from email.message import EmailMessage

import pytest
from django.core import mail

from campaigns.models import Campaign
from campaigns.services import create_campaign
from optout.models import ConsentEvent, Source, Suppression
from tests.factories import ContactFactory

from .running import run_campaign
from .test_email_feedback import MAILGUN_KEY, WEBHOOK_AUTH, _auth

MAILTO = re.compile(r"<mailto:([^?>]+)\?subject=unsubscribe%20([^>]+)>")


@pytest.fixture(autouse=True)
def _inbound(settings):
    settings.UNSUBSCRIBE_MAILTO = "unsubscribe@mail.acme.example"
    settings.ANYMAIL = {"WEBHOOK_SECRET": WEBHOOK_AUTH, "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY}


def _mailto_of(company, address: str) -> tuple[str, str]:
    """Sends a campaign to ``address``; the mailto: address and subject token it offers."""
    mail.outbox.clear()
    campaign = create_campaign(
        company=company,
        name=f"News {uuid.uuid4().hex[:6]}",
        channel="email",
        subject="Hi",
        body="Hi",
    )
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
    run_campaign(campaign)
    [email] = [e for e in mail.outbox if e.to == [address]]
    to, token = MAILTO.search(email.extra_headers["List-Unsubscribe"]).groups()
    return to, token


def _postmark_inbound(*, to: str, subject: str, sender: str) -> dict:
    """Postmark's inbound webhook, as its documentation's example has it."""
    return {
        "FromName": "Sanne",
        "From": sender,
        "FromFull": {"Email": sender, "Name": "Sanne", "MailboxHash": ""},
        "To": to,
        "ToFull": [{"Email": to, "Name": "", "MailboxHash": to.partition("+")[2].split("@")[0]}],
        "Cc": "",
        "CcFull": [],
        "OriginalRecipient": to,
        "Subject": subject,
        "MessageID": str(uuid.uuid4()),
        "ReplyTo": "",
        "MailboxHash": "",
        "Date": "Mon, 7 Dec 2026 10:00:00 +0000",
        "TextBody": "",
        "HtmlBody": "",
        "StrippedTextReply": "",
        "Tag": "",
        "Headers": [{"Name": "Return-Path", "Value": f"<{sender}>"}],
        "Attachments": [],
    }


def post_postmark_inbound(client, payload: dict, auth: dict) -> int:
    return client.post(
        "/hooks/email/postmark/inbound/", payload, content_type="application/json", **auth
    ).status_code


def post_mailgun_inbound(client, *, to: str, subject: str, sender: str, key=MAILGUN_KEY) -> int:
    """Mailgun's inbound route (forward to a URL, raw MIME), signed like its webhooks."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message.set_content("")
    timestamp, token = "1765101600", uuid.uuid4().hex
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    fields = {
        "recipient": to,
        "sender": sender,
        "body-mime": message.as_string(),
        "timestamp": timestamp,
        "token": token,
        "signature": signature,
    }
    return client.post("/hooks/email/mailgun/inbound_mime/", fields, **_auth()).status_code


@pytest.fixture
def sanne(company):
    return ContactFactory(company=company, email="sanne@example.nl")


def test_a_mail_to_the_mailto_opts_the_recipient_out(client, company, sanne):
    to, token = _mailto_of(company, "sanne@example.nl")
    payload = _postmark_inbound(to=to, subject=f"unsubscribe {token}", sender="sanne@example.nl")
    assert post_postmark_inbound(client, payload, _auth()) == 200
    event = ConsentEvent.objects.get(address="sanne@example.nl")
    assert (event.kind, event.source, event.actor_type) == ("opt_out", Source.MAILTO, "person")
    assert event.campaign_id is not None
    assert Suppression.objects.filter(company=company, address="sanne@example.nl").exists()
    # An opt-out like the link's: the person's phone too.
    assert Suppression.objects.filter(company=company, address=sanne.phone).exists()


def test_the_mailto_address_stays_within_the_length_mail_allows(company, sanne):
    to, _ = _mailto_of(company, "sanne@example.nl")
    assert len(to.partition("@")[0]) <= 64


def test_a_mail_program_that_drops_the_plus_part_still_works_by_subject(client, company, sanne):
    _, token = _mailto_of(company, "sanne@example.nl")
    payload = _postmark_inbound(
        to="unsubscribe@mail.acme.example", subject=f"Re: unsubscribe {token}", sender="x@y.example"
    )
    assert post_postmark_inbound(client, payload, _auth()) == 200
    assert Suppression.objects.filter(company=company, address="sanne@example.nl").exists()


def test_mailgun_inbound_opts_out_too(client, company, sanne):
    to, token = _mailto_of(company, "sanne@example.nl")
    assert (
        post_mailgun_inbound(client, to=to, subject="unsubscribe", sender="sanne@example.nl") == 200
    )
    assert Suppression.objects.filter(company=company, address="sanne@example.nl").exists()


def test_only_the_right_person_at_the_right_company_goes(client, company, other_company, sanne):
    ContactFactory(company=company, email="ben@example.nl")
    ContactFactory(company=other_company, email="sanne@example.nl")
    to, token = _mailto_of(company, "sanne@example.nl")
    payload = _postmark_inbound(to=to, subject="unsubscribe", sender="sanne@example.nl")
    assert post_postmark_inbound(client, payload, _auth()) == 200
    assert list(
        Suppression.objects.values_list("company", "address").exclude(address=sanne.phone)
    ) == [(company.pk, "sanne@example.nl")]


def test_a_forged_token_does_nothing(client, company, sanne):
    to, token = _mailto_of(company, "sanne@example.nl")
    code = token.partition(".")[0]
    forged = f"{code}.{'A' * 22}"
    for address, subject in [
        (f"unsubscribe+{forged}@mail.acme.example", "unsubscribe"),
        ("unsubscribe@mail.acme.example", f"unsubscribe {forged}"),
        ("unsubscribe@mail.acme.example", "unsubscribe"),
    ]:
        payload = _postmark_inbound(to=address, subject=subject, sender="sanne@example.nl")
        assert post_postmark_inbound(client, payload, _auth()) == 200
    assert not Suppression.objects.exists() and not ConsentEvent.objects.exists()


def test_an_unsigned_inbound_post_is_refused(client, company, sanne):
    to, token = _mailto_of(company, "sanne@example.nl")
    payload = _postmark_inbound(to=to, subject="unsubscribe", sender="sanne@example.nl")
    assert post_postmark_inbound(client, payload, _auth("anymail-user:wrong")) == 400
    signed_badly = post_mailgun_inbound(
        client, to=to, subject="unsubscribe", sender="sanne@example.nl", key="wrong"
    )
    assert signed_badly == 400
    assert not Suppression.objects.exists()


def test_a_second_mail_records_nothing_more(client, company, sanne):
    to, token = _mailto_of(company, "sanne@example.nl")
    payload = _postmark_inbound(to=to, subject="unsubscribe", sender="sanne@example.nl")
    for _ in range(2):
        assert post_postmark_inbound(client, payload, _auth()) == 200
    assert ConsentEvent.objects.filter(address="sanne@example.nl").count() == 1


def test_without_unsubscribe_mailto_the_header_offers_only_the_link(company, sanne, settings):
    settings.UNSUBSCRIBE_MAILTO = ""
    campaign = create_campaign(
        company=company, name="Plain", channel="email", subject="Hi", body="Hi"
    )
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
    run_campaign(campaign)
    assert "mailto:" not in mail.outbox[0].extra_headers["List-Unsubscribe"]


@pytest.mark.parametrize(
    ("mailto", "secret", "error"),
    [
        ("unsubscribe@mail.acme.example", "", "campaigns.E001"),
        ("not an address", WEBHOOK_AUTH, "campaigns.E002"),
        ("unsubscribe+x@mail.acme.example", WEBHOOK_AUTH, "campaigns.E003"),
    ],
)
def test_a_mailto_nothing_would_carry_out_stops_the_start(settings, mailto, secret, error):
    from campaigns.email_hooks import mailto_is_carried_out

    settings.UNSUBSCRIBE_MAILTO = mailto
    settings.ANYMAIL = {"WEBHOOK_SECRET": secret} if secret else {}
    assert [e.id for e in mailto_is_carried_out(None)] == [error]


def test_a_mailto_with_its_inbound_webhook_is_fine(settings):
    from campaigns.email_hooks import mailto_is_carried_out

    assert mailto_is_carried_out(None) == []
