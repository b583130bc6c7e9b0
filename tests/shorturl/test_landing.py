from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from campaigns.models import Campaign, Message
from optout.models import ConsentEvent, Suppression
from tests.factories import CampaignFactory, ContactFactory

NUMBER = "+27711234567"


@pytest.fixture
def message(company):
    contact = ContactFactory(company=company, phone=NUMBER, country="ZA")
    campaign = CampaignFactory(company=company, status=Campaign.Status.SENT)
    return Message.objects.create(
        company=company,
        campaign=campaign,
        contact=contact,
        to=NUMBER,
        country="ZA",
        short_code="Xk7pQ2ab",
        body="Hi\nOpt out: https://no-s.test/Xk7pQ2ab",
        status=Message.Status.SENT,
    )


def test_page_shows_company_and_masked_number(client, message):
    response = client.get("/s/Xk7pQ2ab")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Acme Coffee" in page
    assert "+27 7 •••• 4567" in page
    assert NUMBER not in page and "711234567" not in page


def test_get_does_not_optout(client, message):
    client.get("/s/Xk7pQ2ab")
    assert not Suppression.objects.exists()
    assert not ConsentEvent.objects.exists()


def test_wrong_number_changes_nothing(client, message):
    response = client.post("/s/Xk7pQ2ab", {"phone": "+27 71 000 0000"})
    assert response.status_code == 400
    assert "not the number this message was sent to" in response.content.decode()
    assert not Suppression.objects.exists()
    assert not ConsentEvent.objects.exists()


def test_garbage_number_gets_a_clear_error(client, message):
    response = client.post("/s/Xk7pQ2ab", {"phone": "not a number"})
    assert response.status_code == 400
    assert "look like a phone number" in response.content.decode()
    assert not Suppression.objects.exists()


def test_reason_is_stored_with_the_campaign(client, message):
    response = client.post(
        "/s/Xk7pQ2ab",
        {"phone": "071 123 4567", "reason": "not_relevant", "reason_text": "  I moved  "},
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/s/Xk7pQ2ab/done?t=")
    event = ConsentEvent.objects.get()
    assert (event.kind, event.source, event.address) == ("opt_out", "landing_page", NUMBER)
    assert (event.reason, event.reason_text) == ("not_relevant", "I moved")
    assert event.campaign_id == message.campaign_id
    done = client.get(response["Location"])
    assert "You're unsubscribed" in done.content.decode()


def test_second_optout_is_idempotent_and_logged(client, message):
    for _ in range(2):
        assert client.post("/s/Xk7pQ2ab", {"phone": NUMBER}).status_code == 302
    assert Suppression.objects.filter(address=NUMBER).count() == 1
    assert ConsentEvent.objects.filter(address=NUMBER, kind="opt_out").count() == 2


def test_unknown_code_gets_a_friendly_404(client, db):
    response = client.get("/s/nope1234")
    assert response.status_code == 404
    assert "This link doesn't work" in response.content.decode()
    assert client.post("/s/nope1234", {"phone": NUMBER}).status_code == 404


def test_expired_code_gets_the_same_404(client, message, settings):
    settings.SHORT_LINK_TTL_DAYS = 90
    with time_machine.travel(timezone.now() + timedelta(days=91)):
        assert client.get("/s/Xk7pQ2ab").status_code == 404


def test_short_host_serves_only_landing_pages(client, message, settings):
    settings.SHORT_HOST = "no-s.test"
    settings.ALLOWED_HOSTS = ["no-s.test", "testserver"]
    assert client.get("/Xk7pQ2ab", headers={"host": "no-s.test"}).status_code == 200
    assert client.get("/admin/", headers={"host": "no-s.test"}).status_code == 404
    assert client.get("/contacts/", headers={"host": "no-s.test"}).status_code == 404
