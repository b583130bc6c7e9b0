"""The gateways' and email services' webhooks over a real HTTP connection, as they call them:
a STOP through CM, Twilio and Vonage, and a spam complaint through Mailgun, each reaching
a live server on 127.0.0.1. The other tests post through Django's test client; this one
also proves what only a real request shows, such as Twilio's signature over the URL the
server was really called at."""

import base64
import json
from urllib.parse import urlencode

import pytest
import requests
from twilio.request_validator import RequestValidator

from campaigns.models import Message
from optout.models import ConsentEvent, Source, Suppression
from optout.services import note_marketing_sent
from tests.campaigns.test_email_feedback import (
    ADDRESS,
    MAILGUN_KEY,
    WEBHOOK_AUTH,
    ServiceBackend,
    _mailgun,
    _send_email_campaign,
)
from tests.factories import ContactFactory
from tests.gateways import (
    CM_INBOUND,
    CM_TOKEN,
    TWILIO_TOKEN,
    VONAGE_SECRET,
    twilio_inbound,
    vonage_inbound,
    vonage_signed,
)

NUMBER = "+33612345678"


@pytest.fixture
def route(transactional_db, company, settings):
    settings.CM_WEBHOOK_TOKEN = CM_TOKEN
    settings.TWILIO_AUTH_TOKEN = TWILIO_TOKEN
    settings.VONAGE_SIGNATURE_SECRET = VONAGE_SECRET
    settings.VONAGE_SIGNATURE_METHOD = "sha256"
    note_marketing_sent(company=company, campaign_id=41, shortcode="36111", addresses=[NUMBER])


def _stopped(company) -> bool:
    return Suppression.objects.filter(company=company, address=NUMBER).exists()


def test_a_stop_through_cm_over_http(live_server, route, company):
    response = requests.post(
        f"{live_server.url}/hooks/sms/cm/inbound/?token={CM_TOKEN}",
        data=json.dumps(CM_INBOUND),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert (response.status_code, response.json()["status"]) == (200, "opted_out")
    assert _stopped(company)


@pytest.mark.parametrize("token, status", [(TWILIO_TOKEN, 200), ("another-account-token", 401)])
def test_a_stop_through_twilio_over_http(live_server, route, company, token, status):
    url = f"{live_server.url}/hooks/sms/twilio/inbound/"
    fields = twilio_inbound("STOP")
    response = requests.post(
        url,
        data=urlencode(fields),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": RequestValidator(token).compute_signature(url, fields),
        },
        timeout=10,
    )
    assert response.status_code == status, response.text
    assert _stopped(company) is (status == 200)
    if status == 200:
        assert response.headers["Content-Type"].startswith("text/xml")


def test_a_stop_through_vonage_over_http(live_server, route, company):
    response = requests.post(
        f"{live_server.url}/hooks/sms/vonage/inbound/",
        data=urlencode(vonage_signed(vonage_inbound("STOP"))),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert _stopped(company)


def test_a_spam_complaint_through_mailgun_over_http(
    live_server, transactional_db, company, settings
):
    settings.EMAIL_BACKEND = f"{ServiceBackend.__module__}.ServiceBackend"
    settings.ANYMAIL = {"WEBHOOK_SECRET": WEBHOOK_AUTH, "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY}
    ContactFactory(company=company, first_name="Sanne", email=ADDRESS)
    message = _send_email_campaign(company)
    auth = "Basic " + base64.b64encode(WEBHOOK_AUTH.encode()).decode()

    response = requests.post(
        f"{live_server.url}/hooks/email/mailgun/tracking/",
        data=json.dumps(_mailgun(message, "complaint")),
        headers={"Content-Type": "application/json", "Authorization": auth},
        timeout=10,
    )

    assert response.status_code == 200, response.text
    event = Suppression.objects.get(company=company, address=ADDRESS).event
    assert (event.kind, event.source) == (ConsentEvent.Kind.OPT_OUT, Source.COMPLAINT)
    assert Message.objects.get(pk=message.pk).campaign_id == event.campaign_id
