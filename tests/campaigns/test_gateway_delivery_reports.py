"""Delivery reports through CM, Twilio and Vonage's own webhooks."""

import pytest

from campaigns.models import Message
from tests.factories import GatewayWebhookFactory
from tests.gateways import (
    CM_TOKEN,
    TWILIO_TOKEN,
    VONAGE_SECRET,
    cm_post,
    cm_status,
    twilio_post,
    twilio_status,
    vonage_post,
    vonage_receipt,
    vonage_signed,
)

NUMBER = "+31612345678"
SID = "SM3a1b2c3d4e5f60718293a4b5c6d7e8f9"
VONAGE_ID = "0B00000012345678"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def shared_accounts(settings):
    settings.CM_WEBHOOK_TOKEN = CM_TOKEN
    settings.TWILIO_AUTH_TOKEN = TWILIO_TOKEN
    settings.VONAGE_SIGNATURE_SECRET = VONAGE_SECRET
    settings.VONAGE_SIGNATURE_METHOD = "sha256"


def message(company, status=Message.Status.SENT, **fields) -> Message:
    return Message.objects.create(company=company, to=NUMBER, status=status, **fields)


def state(msg: Message) -> tuple[str, str]:
    msg.refresh_from_db()
    return msg.status, msg.error


# --- CM: our reference comes back -----------------------------------------------------
def test_cm_delivered_marks_the_message_delivered(client, company):
    sent = message(company)
    response = cm_post(client, "/hooks/sms/cm/status/", cm_status(str(sent.pk), "2"))
    assert response.status_code == 200
    assert response.json() == {"updated": 1, "unknown": 0, "ignored": 0}
    assert state(sent) == ("delivered", "")


def test_cm_failed_marks_the_message_failed_with_why(client, company):
    sent = message(company)
    cm_post(client, "/hooks/sms/cm/status/", cm_status(str(sent.pk), "3", "Absent subscriber"))
    assert state(sent) == ("failed", "CM: Absent subscriber")


def test_cm_accepted_changes_nothing(client, company):
    sent = message(company)
    cm_post(client, "/hooks/sms/cm/status/", cm_status(str(sent.pk), "0"))
    assert state(sent) == ("sent", "")


def test_cm_reports_in_a_list_are_all_applied(client, company):
    one, two = message(company), message(company)
    payload = {
        "messages": {
            "msg": [
                cm_status(str(one.pk), "2")["messages"]["msg"],
                cm_status(str(two.pk), "1", "Rejected")["messages"]["msg"],
            ]
        }
    }
    assert cm_post(client, "/hooks/sms/cm/status/", payload).json()["updated"] == 2
    assert state(one)[0] == "delivered" and state(two)[0] == "failed"


@pytest.mark.parametrize("code", ["7", None])
def test_cm_unknown_status_changes_nothing(client, company, code):
    sent = message(company)
    response = cm_post(client, "/hooks/sms/cm/status/", cm_status(str(sent.pk), code))
    assert response.status_code == 400
    assert state(sent) == ("sent", "")


def test_cm_without_token_changes_nothing(client, company):
    sent = message(company)
    response = cm_post(client, "/hooks/sms/cm/status/", cm_status(str(sent.pk), "2"), token="x")
    assert response.status_code == 401
    assert state(sent) == ("sent", "")


# --- Twilio: its MessageSid comes back ------------------------------------------------
def test_twilio_delivered_marks_the_message_with_that_sid(client, company):
    sent, other = message(company, gateway_reference=SID), message(company, gateway_reference="SMx")
    response = twilio_post(client, "/hooks/sms/twilio/status/", twilio_status(SID, "delivered"))
    assert response.status_code == 200
    assert response.json() == {"updated": 1, "unknown": 0, "ignored": 0}
    assert state(sent) == ("delivered", "")
    assert state(other) == ("sent", "")


@pytest.mark.parametrize("status", ["undelivered", "failed"])
def test_twilio_failure_marks_the_message_failed(client, company, status):
    sent = message(company, gateway_reference=SID)
    twilio_post(client, "/hooks/sms/twilio/status/", twilio_status(SID, status, "30003"))
    assert state(sent) == ("failed", "Twilio error 30003")


@pytest.mark.parametrize("status", ["queued", "sending", "sent", "accepted"])
def test_twilio_in_between_statuses_change_nothing(client, company, status):
    sent = message(company, gateway_reference=SID)
    twilio_post(client, "/hooks/sms/twilio/status/", twilio_status(SID, status))
    assert state(sent) == ("sent", "")


def test_twilio_report_naming_our_reference_in_its_callback_url(client, company):
    # The report can overtake the hand-off's record of the sid: the callback URL names ours.
    handing_over = message(company, status=Message.Status.SENDING)
    path = f"/hooks/sms/twilio/status/?reference={handing_over.pk}"
    response = twilio_post(client, path, twilio_status(SID, "delivered"))
    assert response.status_code == 200
    assert state(handing_over) == ("delivered", "")


def test_forged_twilio_report_changes_nothing(client, company):
    sent = message(company, gateway_reference=SID)
    fields = twilio_status(SID, "failed", "30003")
    response = twilio_post(client, "/hooks/sms/twilio/status/", fields, token="guess")
    assert response.status_code == 401
    assert state(sent) == ("sent", "")


def test_twilio_unknown_status_is_refused(client, company):
    sent = message(company, gateway_reference=SID)
    fields = twilio_status(SID, "teleported")
    assert twilio_post(client, "/hooks/sms/twilio/status/", fields).status_code == 400
    assert state(sent) == ("sent", "")


# --- Vonage: client-ref (ours), else its messageId ------------------------------------
def test_vonage_delivered_marks_the_message_delivered(client, company):
    sent = message(company, gateway_reference=VONAGE_ID)
    receipt = vonage_signed(vonage_receipt(VONAGE_ID, "delivered"))
    response = vonage_post(client, "/hooks/sms/vonage/status/", receipt)
    assert response.status_code == 200
    assert response.json() == {"updated": 1, "unknown": 0, "ignored": 0}
    assert state(sent) == ("delivered", "")


@pytest.mark.parametrize("status", ["failed", "rejected", "expired"])
def test_vonage_failure_marks_the_message_failed(client, company, status):
    sent = message(company, gateway_reference=VONAGE_ID)
    receipt = vonage_signed(vonage_receipt(VONAGE_ID, status, err_code="6"))
    vonage_post(client, "/hooks/sms/vonage/status/", receipt)
    assert state(sent) == ("failed", "Vonage err-code 6")


def test_vonage_receipt_with_client_ref_finds_our_message(client, company):
    # A long message's second part has an id of its own; client-ref names ours.
    sent = message(company, gateway_reference=VONAGE_ID)
    receipt = vonage_receipt("0B00000099999999", "delivered", **{"client-ref": str(sent.pk)})
    vonage_post(client, "/hooks/sms/vonage/status/", vonage_signed(receipt), as_json=True)
    assert state(sent) == ("delivered", "")


def test_forged_vonage_receipt_changes_nothing(client, company):
    sent = message(company, gateway_reference=VONAGE_ID)
    receipt = vonage_signed(vonage_receipt(VONAGE_ID, "failed"), secret="guess")
    assert vonage_post(client, "/hooks/sms/vonage/status/", receipt).status_code == 401
    assert state(sent) == ("sent", "")


# --- a company's own account settles only its own messages ----------------------------
def test_report_on_a_company_account_leaves_other_companies_messages_alone(
    client, company, other_company
):
    ours = message(company, gateway_reference=SID)
    account = GatewayWebhookFactory(
        company=other_company, gateway="twilio", twilio_auth_token="their-token-0123456789"
    )
    path = f"/hooks/sms/twilio/{account.key}/status/"
    fields = twilio_status(SID, "failed", "30003")

    response = twilio_post(client, path, fields, token="their-token-0123456789")

    assert response.status_code == 200
    assert response.json() == {"updated": 0, "unknown": 1, "ignored": 0}
    assert state(ours) == ("sent", "")


@pytest.mark.parametrize("gateway", ["cm", "vonage"])
def test_other_company_account_reports_leave_our_messages_alone(
    client, company, other_company, gateway
):
    ours = message(company, gateway_reference=VONAGE_ID)
    account = GatewayWebhookFactory(
        company=other_company, gateway=gateway, vonage_signature_secret="their-secret-0123456789"
    )
    path = f"/hooks/sms/{gateway}/{account.key}/status/"
    if gateway == "cm":
        response = cm_post(client, path, cm_status(str(ours.pk), "3"), token=account.secret)
    else:
        receipt = vonage_receipt(VONAGE_ID, "failed", **{"client-ref": str(ours.pk)})
        response = vonage_post(client, path, vonage_signed(receipt, "their-secret-0123456789"))
    assert response.status_code == 200
    assert response.json()["unknown"] == 1
    assert state(ours) == ("sent", "")


def test_company_account_settles_its_own_messages(client, company):
    ours = message(company, gateway_reference=SID)
    account = GatewayWebhookFactory(
        company=company, gateway="twilio", twilio_auth_token="own-token-0123456789"
    )
    path = f"/hooks/sms/twilio/{account.key}/status/"
    twilio_post(client, path, twilio_status(SID, "delivered"), token="own-token-0123456789")
    assert state(ours) == ("delivered", "")


def test_generic_status_hook_is_unchanged_by_gateway_names(client, company):
    # /hooks/sms/status/ and /hooks/sms/<key>/status/ still take our own signed format.
    from tests.webhooks import signed_post

    sent = message(company)
    body = f'{{"reference": "{sent.pk}", "status": "delivered"}}'.encode()
    assert signed_post(client, "/hooks/sms/status/", body).status_code == 200
    assert state(sent) == ("delivered", "")


# --- from the hand-off to the report, through the fakes -------------------------------
@pytest.mark.parametrize("gateway", ["twilio", "vonage"])
def test_message_handed_to_a_gateway_is_settled_by_its_report(
    client, company, settings, fake_twilio, fake_vonage, gateway
):
    from campaigns.services.handoff import hand_off

    fake = fake_twilio if gateway == "twilio" else fake_vonage
    for name, value in fake.settings().items():
        setattr(settings, name, value)
    sending = message(company, status=Message.Status.SENDING, sender="Acme", body="Beans!")

    hand_off([sending])

    sending.refresh_from_db()
    assert sending.status == "sent"
    if gateway == "twilio":
        assert sending.gateway_reference == fake.received[0]["sid"]
        fields = twilio_status(sending.gateway_reference, "delivered")
        # One auth token serves Twilio's API and signs its callbacks.
        token = settings.TWILIO_AUTH_TOKEN
        response = twilio_post(client, "/hooks/sms/twilio/status/", fields, token=token)
    else:
        assert sending.gateway_reference == fake.received[0]["message-id"]
        receipt = vonage_receipt(sending.gateway_reference, "delivered")
        response = vonage_post(client, "/hooks/sms/vonage/status/", vonage_signed(receipt))
    assert response.json() == {"updated": 1, "unknown": 0, "ignored": 0}
    assert state(sending) == ("delivered", "")


def test_vonage_client_ref_that_is_not_ours_falls_back_to_its_message_id(client, company):
    sent = message(company, gateway_reference=VONAGE_ID)
    receipt = vonage_receipt(VONAGE_ID, "delivered", **{"client-ref": "crm-4711"})
    vonage_post(client, "/hooks/sms/vonage/status/", vonage_signed(receipt))
    assert state(sent) == ("delivered", "")
