"""/api/v1/messages/: transactional SMS and email, past the suppression list, sent once."""

import json

import pytest
from django.core import mail

from campaigns.models import Message
from optout.services import record_optout
from tests.campaigns.running import run_campaign
from tests.factories import CampaignFactory, ContactFactory
from tests.webhooks import signed_post

NUMBER = "+31612345678"


def _sms(**fields) -> dict:
    return {"channel": "sms", "to": "06 12345678", "body": "Your code: 482913", **fields}


@pytest.fixture
def cm_gateway(fake_gateway, settings):
    """Sending through the CM backend to a real HTTP server, with one attempt per request."""
    settings.SMS_BACKEND = "campaigns.backends.cm.CmBackend"
    settings.CM_BASE_URL = fake_gateway.url
    settings.CM_PRODUCT_TOKEN = fake_gateway.token
    settings.CM_MAX_ATTEMPTS = 1
    return fake_gateway


# --- sending -------------------------------------------------------------------------------
def test_transactional_sms_reaches_an_opted_out_number_without_optout_text(api, company, outbox):
    record_optout(company=company, address=NUMBER, source="sms_keyword")

    response = api.post("/api/v1/messages/", _sms(), format="json")

    assert response.status_code == 201, response.json()
    assert [(sms.to, sms.sender, sms.body) for sms in outbox] == [
        (NUMBER, "Acme Coffee", "Your code: 482913")
    ]
    body = response.json()
    assert body["kind"] == "transactional"
    assert (body["to"], body["country"], body["status"]) == (NUMBER, "NL", "sent")
    assert body["campaign_id"] is None
    assert body["short_link"] == ""
    assert body["segments"] == {"encoding": "GSM-7", "parts": 1}
    assert api.get(f"/api/v1/messages/{body['id']}").json() == body


def test_a_retry_with_the_same_idempotency_key_sends_one_sms(api, outbox):
    headers = {"HTTP_IDEMPOTENCY_KEY": "otp-7f3a"}
    first = api.post("/api/v1/messages/", _sms(), format="json", **headers)
    again = api.post("/api/v1/messages/", _sms(), format="json", **headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert len(outbox) == 1
    assert Message.objects.count() == 1
    other = api.post("/api/v1/messages/", _sms(body="Another"), format="json", **headers)
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert len(outbox) == 1


def test_a_named_sender_is_used(api, outbox):
    response = api.post("/api/v1/messages/", _sms(sender="AcmeOTP"), format="json")
    assert response.status_code == 201
    assert outbox[0].sender == "AcmeOTP"


def test_transactional_email_carries_no_unsubscribe(api, company, mailoutbox):
    record_optout(company=company, address="anna@example.com", source="email_link")
    response = api.post(
        "/api/v1/messages/",
        {
            "channel": "email",
            "to": "Anna@Example.COM",
            "subject": "Your order 1042",
            "body": "Thank you for your order.",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["to"] == "Anna@example.com"
    assert response.json()["segments"] is None
    [email] = mail.outbox
    assert (email.to, email.subject) == (["Anna@example.com"], "Your order 1042")
    assert email.from_email == '"Acme Coffee" <marketing@localhost>'
    assert email.body == "Thank you for your order."
    assert "List-Unsubscribe" not in email.extra_headers


def test_an_email_from_a_company_with_a_long_quoted_name_is_sent(api, company, mailoutbox):
    company.name = 'Koffie "De Bonen" ' + "é" * 100
    company.save()
    email = {"channel": "email", "to": "a@example.com", "subject": "Receipt", "body": "Thanks"}

    response = api.post("/api/v1/messages/", email, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "sent"
    assert mailoutbox[0].from_email == f'"Koffie De Bonen {"é" * 100}" <marketing@localhost>'


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        (_sms(to="0612"), "to", "not a valid NL phone number"),
        (_sms(to="anna@example.com"), "to", "not a phone number"),
        (_sms(body=""), "body", "blank"),
        (_sms(body="   "), "body", "Write the message."),
        (_sms(body="x" * 1531), "body", "at most 1530"),
        (_sms(sender="Acme Coffee Roasters"), "sender", "no more than 16"),
        (_sms(sender="Acme-Coffee"), "sender", "An SMS sender is up to 11"),
        (_sms(subject="Hi"), "subject", "no subject"),
        (_sms(channel="fax"), "channel", "not a valid choice"),
        (_sms(to=12345), "to", ""),
        (_sms(to=None), "to", "null"),
        ({"channel": "email", "to": "anna@", "subject": "Hi", "body": "x"}, "to", "not a valid"),
        ({"channel": "email", "to": "a@example.com", "body": "x"}, "subject", "needs a subject"),
        (
            {"channel": "email", "to": "a@example.com", "subject": "Hi\nBcc: x@y.z", "body": "x"},
            "subject",
            "one line",
        ),
    ],
)
def test_what_cannot_be_sent_is_a_400_and_sends_nothing(
    api, outbox, mailoutbox, payload, field, words
):
    response = api.post("/api/v1/messages/", payload, format="json")

    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert words in " ".join(error["fields"][field])
    assert outbox == [] and mailoutbox == []
    assert not Message.objects.exists()


def test_a_body_that_is_no_json_is_a_400(api, outbox):
    response = api.generic(
        "POST", "/api/v1/messages/", b'{"to": "0612', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    assert outbox == []


# --- a gateway that fails ----------------------------------------------------------------
def test_a_gateway_that_is_down_is_a_503_and_the_message_is_recorded_failed(api, cm_gateway):
    cm_gateway.fail_next(1, status=503)
    headers = {"HTTP_IDEMPOTENCY_KEY": "otp-down"}

    response = api.post("/api/v1/messages/", _sms(), format="json", **headers)

    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "gateway_unavailable"
    failed = Message.objects.get()
    assert f"Message {failed.pk} was not sent" in error["message"]
    shown = api.get(f"/api/v1/messages/{failed.pk}").json()
    assert shown["status"] == "failed"
    assert shown["error"].startswith("Not sent, the gateway is unavailable: CM gateway:")
    assert cm_gateway.received == []

    # Nothing went out, so the same request may be sent again, and now it goes.
    retry = api.post("/api/v1/messages/", _sms(), format="json", **headers)
    assert retry.status_code == 201, retry.json()
    assert retry.json()["status"] == "sent"
    assert [m["content"] for m in cm_gateway.received] == ["Your code: 482913"]


def test_a_number_the_gateway_refuses_is_a_failed_message(api, cm_gateway):
    cm_gateway.reject_numbers({"0031612345678"}, details="Recipient blocked")

    response = api.post("/api/v1/messages/", _sms(), format="json")

    assert response.status_code == 201
    assert response.json()["status"] == "failed"
    assert "Recipient blocked" in response.json()["error"]


# --- reading messages --------------------------------------------------------------------
def test_any_message_of_the_company_shows_its_status(api, client, company, outbox):
    ContactFactory(company=company, phone=NUMBER)
    campaign = CampaignFactory(company=company, status="sending", body="Spring beans!")
    run_campaign(campaign)
    sent = Message.objects.get(campaign=campaign)

    shown = api.get(f"/api/v1/messages/{sent.pk}").json()
    assert (shown["kind"], shown["campaign_id"], shown["status"]) == (
        "marketing",
        campaign.pk,
        "sent",
    )
    assert shown["body"].startswith("Spring beans!\n")

    assert shown["delivered_at"] is None
    report = {"reference": str(sent.pk), "status": "delivered", "at": "2026-03-02T10:00:05Z"}
    posted = signed_post(client, "/hooks/sms/status/", json.dumps(report).encode())
    assert posted.status_code == 200
    delivered = api.get(f"/api/v1/messages/{sent.pk}").json()
    assert delivered["status"] == "delivered"
    assert delivered["delivered_at"] == "2026-03-02T10:00:05Z"


def test_another_company_s_message_is_a_404(api, outsider_api, outbox):
    mine = api.post("/api/v1/messages/", _sms(), format="json").json()

    response = outsider_api.get(f"/api/v1/messages/{mine['id']}")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("pk", [0, 2**63, 10**30])
def test_ids_no_message_can_have_are_a_404(api, pk):
    assert api.get(f"/api/v1/messages/{pk}").status_code == 404


def test_without_a_key_nothing_is_sent(anonymous_api, outbox):
    assert anonymous_api.post("/api/v1/messages/", _sms(), format="json").status_code == 401
    assert outbox == []


def test_the_list_holds_every_message_and_filters_them(api, company, other_company, outbox):
    ContactFactory(company=company, phone="+31612340001")
    campaign = CampaignFactory(company=company, status="sending", body="Spring beans!")
    run_campaign(campaign)
    code = api.post("/api/v1/messages/", _sms(), format="json").json()
    theirs = CampaignFactory(company=other_company, status="sending")
    ContactFactory(company=other_company)
    run_campaign(theirs)

    def ids(query: str = "") -> list[int]:
        response = api.get(f"/api/v1/messages/{query}")
        assert response.status_code == 200, response.json()
        return [m["id"] for m in response.json()["results"]]

    marketing = Message.objects.get(campaign=campaign).pk
    assert ids() == [code["id"], marketing]
    assert ids("?kind=transactional") == [code["id"]]
    assert ids(f"?campaign={campaign.pk}") == [marketing]
    assert ids(f"?campaign={theirs.pk}") == []
    assert ids("?status=sent&channel=sms") == [code["id"], marketing]
    assert ids("?channel=email") == []
    bad = api.get("/api/v1/messages/?kind=promo&campaign=-1&status=sent&status=failed")
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"kind", "campaign", "status"}
