"""Marketing email: a visible personal link, RFC 8058 one-click, and one opt-out for all."""

import re

import pytest
from django.core import mail
from django.test import Client

from campaigns.models import Campaign, Message
from campaigns.services import create_campaign, send_transactional_email
from optout.models import ConsentEvent, Suppression
from tests.factories import CampaignFactory, ContactFactory

from .running import run_campaign

LINK = re.compile(r"https://no-s\.test(/u/[^\s>]+)")


def short_host_client(**kwargs) -> Client:
    """A client on the short host, where the links point; no cookies of the dashboard."""
    return Client(headers={"host": "no-s.test"}, **kwargs)


def _send(campaign: Campaign) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
    run_campaign(campaign)


@pytest.fixture
def contact(company):
    return ContactFactory(company=company, first_name="Sanne", email="sanne@example.nl")


@pytest.fixture
def campaign(company, contact):
    campaign = create_campaign(
        company=company,
        name="Spring",
        channel="email",
        subject="Beans for {{ first_name }}",
        body="Hi {{ first_name }}, fresh beans.",
        html_body="<p>Hi <b>{{ first_name }}</b></p>",
    )
    _send(campaign)
    return campaign


def test_marketing_email_has_one_click_headers_and_a_visible_link(campaign, contact):
    [email] = mail.outbox
    assert email.to == ["sanne@example.nl"] and email.subject == "Beans for Sanne"
    header = email.extra_headers["List-Unsubscribe"]
    assert re.fullmatch(r"<https://no-s\.test/u/[^>]+>", header)
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Unsubscribe: " + header[1:-1] in email.body
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html" and "<b>Sanne</b>" in html and header[1:-1] in html
    assert "From" not in email.extra_headers and "Acme Coffee" in email.from_email


def test_mailto_is_offered_when_configured(company, contact, settings):
    settings.UNSUBSCRIBE_MAILTO = "unsubscribe@acme.example"
    campaign = CampaignFactory(company=company, channel="email", subject="Hi", body="Hi")
    _send(campaign)
    header = mail.outbox[0].extra_headers["List-Unsubscribe"]
    # The message's own signed token, in the address and the subject: a mail to it names
    # the company and the address, and none can be made up for another.
    match = re.fullmatch(
        r"<https://no-s\.test/u/[^>]+>, "
        r"<mailto:unsubscribe\+([\w.-]+)@acme\.example\?subject=unsubscribe%20([\w.-]+)>",
        header,
    )
    assert match and match.group(1) == match.group(2)


def test_one_click_post_without_cookies_unsubscribes(campaign, company, contact):
    path = LINK.search(mail.outbox[0].extra_headers["List-Unsubscribe"]).group(1)
    provider = short_host_client(enforce_csrf_checks=True)  # no cookies, no token, like a mailbox
    for _ in range(2):  # providers may retry: the same outcome
        response = provider.post(
            path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 200
        assert "Location" not in response
    event = ConsentEvent.objects.exclude(source="linked").get()  # the contact's number: linked
    sent_at = campaign.messages.get().sent_at
    assert (event.source, event.address, event.campaign_id, event.message_sent_at) == (
        "one_click",
        "sanne@example.nl",
        campaign.pk,
        sent_at,
    )
    assert sent_at is not None
    # One opt-out, every channel: the contact's phone is suppressed too.
    assert set(Suppression.objects.values_list("address", flat=True)) == {
        "sanne@example.nl",
        contact.phone,
    }


def test_multipart_one_click_post_is_accepted(campaign):
    path = LINK.search(mail.outbox[0].extra_headers["List-Unsubscribe"]).group(1)
    response = short_host_client().post(
        path, {"List-Unsubscribe": "One-Click"}
    )  # multipart/form-data
    assert response.status_code == 200
    assert Suppression.objects.filter(address="sanne@example.nl").exists()


def test_get_shows_the_page_and_never_unsubscribes(campaign):
    client = short_host_client()
    path = LINK.search(mail.outbox[0].body).group(1)
    response = client.get(path)
    assert response.status_code == 200
    assert "Acme Coffee" in response.content.decode()
    assert not Suppression.objects.exists()
    clicked = client.post(path)  # the button on that page
    assert clicked.status_code == 200 and "You're unsubscribed" in clicked.content.decode()
    assert ConsentEvent.objects.exclude(source="linked").get().source == "email_link"


def test_forged_token_is_a_404(campaign):
    client = short_host_client()
    path = LINK.search(mail.outbox[0].body).group(1)
    forged = client.post(
        path[:-3] + "abc",
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert forged.status_code == 404
    assert client.get("/u/nothing").status_code == 404
    assert not Suppression.objects.exists()


def test_email_optout_keeps_the_next_sms_campaign_away(company, campaign, contact, outbox):
    short_host_client().post(
        LINK.search(mail.outbox[0].body).group(1), {"List-Unsubscribe": "One-Click"}
    )
    sms = CampaignFactory(company=company)
    _send(sms)
    assert outbox == []
    assert Message.objects.get(campaign=sms).status == Message.Status.SKIPPED


def test_suppressed_address_gets_no_marketing_email(company, contact):
    from optout.services import record_optout

    record_optout(company=company, address="sanne@example.nl", source="api")
    campaign = CampaignFactory(company=company, channel="email", subject="Hi", body="Hi")
    _send(campaign)
    assert mail.outbox == []


def test_transactional_email_has_no_unsubscribe(company, contact):
    from optout.services import record_optout

    record_optout(company=company, address="sanne@example.nl", source="api")
    message = send_transactional_email(
        company=company, to="Sanne@Example.NL", subject="Your receipt", body="Paid: EUR 12"
    )
    [email] = mail.outbox
    assert email.to == ["Sanne@example.nl"] and email.body == "Paid: EUR 12"
    assert "List-Unsubscribe" not in email.extra_headers
    assert "List-Unsubscribe-Post" not in email.extra_headers
    assert message.status == Message.Status.SENT


def test_email_campaign_form_needs_a_subject(marketer_client):
    response = marketer_client.post(
        "/campaigns/new/", {"name": "News", "channel": "email", "body": "Hi"}
    )
    assert response.status_code == 400
    assert "An email needs a subject" in response.content.decode()


def test_marketer_writes_and_previews_an_email_campaign(marketer_client, company, contact):
    response = marketer_client.post(
        "/campaigns/new/",
        {
            "name": "Newsletter",
            "channel": "email",
            "subject": "News for {{ first_name }}",
            "body": "Hello {{ first_name }}",
        },
    )
    assert response.status_code == 302
    page = marketer_client.get(response["Location"]).content.decode()
    assert "will get this email" in page
    assert "Subject: News for Sanne" in page
    assert "Unsubscribe: https://no-s.test/u/" in page


def test_a_line_break_in_a_name_does_not_break_the_subject(company):
    ContactFactory(company=company, first_name="Multi\nLine", email="m@example.nl")
    campaign = CampaignFactory(
        company=company, channel="email", subject="Hi {{ first_name }}", body="Hi"
    )
    _send(campaign)
    assert [e.subject for e in mail.outbox] == ["Hi Multi Line"]
    assert Message.objects.get(to="m@example.nl").status == Message.Status.SENT


def test_one_click_from_a_mailbox_provider_is_never_rate_limited(company, settings):
    """Providers send everyone's one-click from a few addresses."""
    settings.LANDING_POSTS_PER_IP = 1
    for n in range(3):
        ContactFactory(company=company, email=f"p{n}@example.nl")
    _send(CampaignFactory(company=company, channel="email", subject="Hi", body="Hi"))
    provider = short_host_client()
    for email in mail.outbox:
        path = LINK.search(email.extra_headers["List-Unsubscribe"]).group(1)
        response = provider.post(
            path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 200
    assert Suppression.objects.filter(address__startswith="p").count() == 3


class DroppingEmailBackend:
    """An SMTP connection the server closes after the first message, as providers do
    that cap messages per connection."""

    sent: list = []

    def __init__(self, **kwargs):
        pass

    def open(self):
        return True

    def close(self):
        pass

    def send_messages(self, messages):
        import smtplib

        if DroppingEmailBackend.sent:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        DroppingEmailBackend.sent.extend(messages)
        return len(messages)


def test_a_dropped_email_connection_puts_the_untried_rest_back(company, settings):
    from campaigns.services import RetryLater, plan_campaign, send_chunk

    settings.EMAIL_BACKEND = f"{__name__}.DroppingEmailBackend"
    DroppingEmailBackend.sent = []
    for n in range(3):
        ContactFactory(company=company, email=f"person{n}@example.nl")
    campaign = create_campaign(
        company=company, name="Beans", channel="email", subject="Beans", body="Hi"
    )
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
    plan_campaign(campaign_id=campaign.pk)
    chunk = campaign.chunks.get()

    with pytest.raises(RetryLater):
        send_chunk(chunk_id=chunk.pk, task_token=chunk.lease)

    statuses = list(Message.objects.order_by("contact_id").values_list("status", flat=True))
    # Sent; failed with the connection; never tried, so queued for the retry.
    assert statuses == [Message.Status.SENT, Message.Status.FAILED, Message.Status.QUEUED]
    assert len(DroppingEmailBackend.sent) == 1


def test_a_subject_that_grows_past_its_column_is_cut_not_fatal(company):
    ContactFactory(company=company, first_name="S" * 100, email="long@example.nl")
    campaign = create_campaign(
        company=company,
        name="Long",
        channel="email",
        subject="x" * 200 + "{{ first_name }}",  # 216 characters; 300 once filled in
        body="Hi",
    )
    _send(campaign)
    message = Message.objects.get(campaign=campaign)
    assert message.status == Message.Status.SENT
    assert message.subject == "x" * 200 + "S" * 55
