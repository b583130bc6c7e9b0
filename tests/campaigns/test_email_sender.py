"""A company's marketing email: from its own address at its sender domain, at its own rate."""

import pytest
from django.core import mail
from django.utils import timezone

from campaigns.models import Campaign, Message
from campaigns.services import (
    CampaignInvalid,
    RetryLater,
    create_campaign,
    plan_campaign,
    send_chunk,
)
from tests.factories import ContactFactory

from .running import run_campaign


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def with_domain(company):
    """Staff have set up the company's sender domain with the email service (admin)."""
    company.email_sender_domain = "news.acme.example"
    company.save()
    return company


def _settings(company, **changes) -> dict:
    values = {
        "name": company.name,
        "default_country": company.default_country,
        "timezone": company.timezone,
        "sms_sender": "",
        "help_contact": "",
        "sms_max_parts": "8",
        "optout_alarm_percent": "2.00",
        "optout_alarm_minimum": "200",
        "sms_per_second": "",
        "email_from": "",
        "emails_per_second": "",
        "retention_days": "180",
    }
    return values | changes


def test_owner_sets_a_from_address_at_the_sender_domain(owner_client, with_domain):
    page = owner_client.get("/company/settings/").content.decode()
    assert "news.acme.example" in page
    response = owner_client.post(
        "/company/settings/", _settings(with_domain, email_from="hello@news.acme.example")
    )
    assert response.status_code == 302
    with_domain.refresh_from_db()
    assert with_domain.email_from == "hello@news.acme.example"


@pytest.mark.parametrize(
    "address", ["hello@acme.example", "hello@evil-news.acme.example", "hello@other.example"]
)
def test_a_from_address_elsewhere_is_refused(owner_client, with_domain, address):
    response = owner_client.post("/company/settings/", _settings(with_domain, email_from=address))
    assert response.status_code == 400
    assert "must end in @news.acme.example" in response.content.decode()
    with_domain.refresh_from_db()
    assert with_domain.email_from == ""


def test_without_a_sender_domain_there_is_no_own_from(owner_client, company):
    response = owner_client.post(
        "/company/settings/", _settings(company, email_from="hello@acme.example")
    )
    assert response.status_code == 400
    assert "Set the sender domain first" in response.content.decode()


def _send(campaign: Campaign) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
    run_campaign(campaign)


def test_marketing_email_comes_from_the_company_address(with_domain):
    with_domain.email_from = "hello@news.acme.example"
    with_domain.save()
    ContactFactory(company=with_domain, email="sanne@example.nl")
    _send(create_campaign(company=with_domain, name="A", channel="email", subject="Hi", body="Hi"))
    [email] = mail.outbox
    assert email.from_email == '"Acme Coffee" <hello@news.acme.example>'


def test_without_an_own_address_it_comes_from_the_platform(company, settings):
    settings.DEFAULT_FROM_EMAIL = "marketing@platform.example"
    ContactFactory(company=company, email="sanne@example.nl")
    _send(create_campaign(company=company, name="A", channel="email", subject="Hi", body="Hi"))
    assert mail.outbox[0].from_email == '"Acme Coffee" <marketing@platform.example>'


def test_a_campaign_cannot_send_from_outside_the_sender_domain(with_domain):
    with pytest.raises(CampaignInvalid) as refused:
        create_campaign(
            company=with_domain,
            name="A",
            channel="email",
            sender="ceo@bank.example",
            subject="Hi",
            body="Hi",
        )
    assert "news.acme.example" in str(refused.value)
    campaign = create_campaign(
        company=with_domain,
        name="B",
        channel="email",
        sender="Deals <deals@news.acme.example>",
        subject="Hi",
        body="Hi",
    )
    assert campaign.sender == "Deals <deals@news.acme.example>"


def test_email_has_its_own_rate_per_company(company, settings, monkeypatch):
    from campaigns.services import sending as engine

    monkeypatch.setattr(engine, "MAX_THROTTLE_WAIT", 0.1)
    settings.REDIS_URL = ""  # the database keeps the rate here: one process
    settings.SEND_RATE_PER_SECOND = 0  # SMS unlimited: email is held by its own rate
    company.emails_per_second = 2
    company.save()
    for n in range(6):
        ContactFactory(company=company, email=f"p{n}.{timezone.now().timestamp()}@example.nl")
    campaign = create_campaign(company=company, name="A", channel="email", subject="Hi", body="Hi")
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
    plan_campaign(campaign_id=campaign.pk)
    chunk = campaign.chunks.get()

    with pytest.raises(RetryLater) as later:
        send_chunk(chunk_id=chunk.pk, task_token=chunk.lease)
    assert len(mail.outbox) == 2
    assert 0.5 < later.value.countdown <= 1.0
    assert Message.objects.filter(status=Message.Status.QUEUED).count() == 4
