"""Replies through CM, Twilio and Vonage's own webhooks, as each gateway posts them."""

import json
import time

import pytest

from optout.models import ConsentEvent, GatewayWebhook, InboundMessage, InboundPart, Suppression
from optout.services import note_marketing_sent
from tests.factories import GatewayWebhookFactory
from tests.gateways import (
    CM_INBOUND,
    CM_TOKEN,
    TWILIO_TOKEN,
    VONAGE_SECRET,
    cm_post,
    twilio_inbound,
    twilio_post,
    vonage_inbound,
    vonage_post,
    vonage_sig,
    vonage_signed,
)

NUMBER = "+33612345678"


@pytest.fixture(autouse=True)
def shared_accounts(settings):
    settings.CM_WEBHOOK_TOKEN = CM_TOKEN
    settings.TWILIO_AUTH_TOKEN = TWILIO_TOKEN
    settings.VONAGE_SIGNATURE_SECRET = VONAGE_SECRET
    settings.VONAGE_SIGNATURE_METHOD = "sha256"


@pytest.fixture
def route(company):
    note_marketing_sent(company=company, campaign_id=41, shortcode="36111", addresses=[NUMBER])


def opted_out(company) -> bool:
    return Suppression.objects.filter(company=company, address=NUMBER).exists()


def nothing_recorded() -> bool:
    return not InboundMessage.objects.exists() and not InboundPart.objects.exists()


# --- a STOP through each gateway ------------------------------------------------------
def test_cm_stop_opts_out_and_is_confirmed(client, route, company, outbox):
    response = cm_post(client, "/hooks/sms/cm/inbound/", CM_INBOUND)

    assert response.status_code == 200
    assert response.json()["status"] == "opted_out"
    assert opted_out(company)
    event = ConsentEvent.objects.get()
    assert (event.source, event.campaign_id, event.raw_text) == ("sms_keyword", 41, "STOP")
    (confirmation,) = outbox
    assert (confirmation.to, confirmation.sender) == (NUMBER, "36111")
    assert company.name in confirmation.body


def test_twilio_stop_opts_out_and_answers_empty_twiml(client, route, company, outbox):
    response = twilio_post(client, "/hooks/sms/twilio/inbound/", twilio_inbound("STOP"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.decode().endswith("<Response/>")
    assert opted_out(company)
    inbound = InboundMessage.objects.get()
    assert inbound.reference == "twilio:SM1f0e8ae6ade43cb3c0ce4525424e404f"
    assert len(outbox) == 1 and outbox[0].to == NUMBER


def test_vonage_stop_opts_out_and_is_confirmed(client, route, company, outbox):
    response = vonage_post(client, "/hooks/sms/vonage/inbound/", vonage_signed(vonage_inbound()))

    assert response.status_code == 200
    assert response.json()["status"] == "opted_out"
    assert opted_out(company)
    assert len(outbox) == 1 and outbox[0].to == NUMBER


def test_vonage_json_post_is_accepted(client, route, company):
    params = vonage_signed(vonage_inbound())

    response = vonage_post(client, "/hooks/sms/vonage/inbound/", params, as_json=True)

    assert response.status_code == 200
    assert opted_out(company)


@pytest.mark.parametrize("method", ["md5hash", "md5", "sha1", "sha256", "sha512"])
def test_every_vonage_signature_method_is_understood(client, route, company, settings, method):
    settings.VONAGE_SIGNATURE_METHOD = method
    params = vonage_signed(vonage_inbound(), method=method)

    response = vonage_post(client, "/hooks/sms/vonage/inbound/", params)

    assert response.status_code == 200
    assert opted_out(company)


# --- the same delivery twice ----------------------------------------------------------
def test_twilio_retry_of_the_same_message_is_acted_on_once(client, route, company, outbox):
    for _ in range(2):
        response = twilio_post(client, "/hooks/sms/twilio/inbound/", twilio_inbound())
        assert response.status_code == 200
    assert InboundMessage.objects.count() == 1
    assert ConsentEvent.objects.count() == 1
    assert len(outbox) == 1


def test_cm_retry_of_the_same_body_is_acted_on_once(client, route, company, outbox):
    cm_post(client, "/hooks/sms/cm/inbound/", CM_INBOUND)
    cm_post(client, "/hooks/sms/cm/inbound/", CM_INBOUND)
    assert InboundMessage.objects.count() == 1
    assert len(outbox) == 1


def test_cm_reply_answering_the_same_message_later_is_a_new_reply(client, route, company):
    cm_post(client, "/hooks/sms/cm/inbound/", CM_INBOUND)
    start = {**CM_INBOUND, "message": {"text": "START"}, "timeUtc": "2026-12-08T09:20:00"}
    response = cm_post(client, "/hooks/sms/cm/inbound/", start)
    assert response.json()["status"] == "opted_in"
    assert not opted_out(company)


# --- Vonage's long replies ------------------------------------------------------------
def part(number: int, text: str, ref: str = "A1") -> dict:
    return vonage_signed(
        vonage_inbound(
            text,
            message_id=f"0A00000001{number}",
            concat="true",
            **{"concat-ref": ref, "concat-total": "3", "concat-part": str(number)},
        )
    )


def test_vonage_reply_in_three_parts_out_of_order_opts_out_once(client, route, company, outbox):
    url = "/hooks/sms/vonage/inbound/"
    # Parts of a long text are 153 characters each; three short ones spell the keyword.
    first = vonage_post(client, url, part(3, "P"))
    assert first.json() == {"status": "part_received", "parts": 1, "of": 3}
    assert vonage_post(client, url, part(1, "ST")).json()["parts"] == 2
    assert vonage_post(client, url, part(1, "ST")).json()["parts"] == 2  # repeated
    assert not opted_out(company)

    last = vonage_post(client, url, part(2, "O"))

    assert last.json()["status"] == "opted_out"
    assert opted_out(company)
    inbound = InboundMessage.objects.get()
    assert inbound.text == "STOP"
    assert inbound.reference == "vonage:0A000000011"
    assert ConsentEvent.objects.get().raw_text == "STOP"
    assert len(outbox) == 1
    # Vonage delivering a part again after the reply was joined: the same reply, once.
    again = vonage_post(client, url, part(3, "P"))
    assert again.json() == {"id": inbound.pk, "status": "opted_out"}
    assert InboundMessage.objects.count() == 1 and len(outbox) == 1


def test_parts_of_different_replies_are_not_joined(client, route, company):
    url = "/hooks/sms/vonage/inbound/"
    vonage_post(client, url, part(1, "ST", ref="A1"))
    vonage_post(client, url, part(2, "O", ref="B2"))
    assert not InboundMessage.objects.exists()
    assert InboundPart.objects.count() == 2


# --- a company's own account at a gateway ---------------------------------------------
@pytest.fixture
def own_twilio(company) -> GatewayWebhook:
    return GatewayWebhookFactory(
        company=company, gateway="twilio", twilio_auth_token="own-twilio-token-0123456789"
    )


def test_company_account_reply_belongs_to_that_company(client, own_twilio, company, other_company):
    # The other company wrote to this number last; the reply came on our account.
    note_marketing_sent(company=other_company, campaign_id=7, shortcode="36111", addresses=[NUMBER])
    path = f"/hooks/sms/twilio/{own_twilio.key}/inbound/"

    response = twilio_post(client, path, twilio_inbound(), token=own_twilio.twilio_auth_token)

    assert response.status_code == 200
    assert list(Suppression.objects.values_list("company", flat=True)) == [company.pk]


def test_company_account_refuses_the_shared_token(client, own_twilio):
    path = f"/hooks/sms/twilio/{own_twilio.key}/inbound/"
    assert twilio_post(client, path, twilio_inbound(), token=TWILIO_TOKEN).status_code == 401
    assert nothing_recorded()


def test_key_of_another_gateway_is_not_found(client, own_twilio):
    path = f"/hooks/sms/vonage/{own_twilio.key}/inbound/"
    assert vonage_post(client, path, vonage_signed(vonage_inbound())).status_code == 404
    generic = client.post(f"/hooks/sms/{own_twilio.key}/inbound/", b"{}", "application/json")
    assert generic.status_code == 404
    assert nothing_recorded()


def test_company_vonage_account_uses_its_own_secret_and_method(client, company):
    account = GatewayWebhookFactory(
        company=company,
        gateway="vonage",
        vonage_signature_secret="own-vonage-secret-0123456789",
        vonage_signature_method="md5hash",
    )
    params = vonage_signed(vonage_inbound(), "own-vonage-secret-0123456789", "md5hash")
    response = vonage_post(client, f"/hooks/sms/vonage/{account.key}/inbound/", params)
    assert response.status_code == 200
    assert opted_out(company)


def test_company_cm_account_takes_its_secret_as_token(client, company):
    account = GatewayWebhookFactory(company=company, gateway="cm")
    path = f"/hooks/sms/cm/{account.key}/inbound/"
    assert cm_post(client, path, CM_INBOUND, token=CM_TOKEN).status_code == 401
    assert cm_post(client, path, CM_INBOUND, token=account.secret).status_code == 200
    assert opted_out(company)


def test_a_key_spelt_like_a_gateway_is_refused(company):
    from django.core.exceptions import ValidationError

    account = GatewayWebhook(company=company, key="twilio")
    with pytest.raises(ValidationError) as refused:
        account.full_clean()
    assert "key" in refused.value.message_dict


# --- refused: nothing recorded --------------------------------------------------------
def test_unconfigured_shared_gateway_is_not_found(client, settings, route):
    settings.TWILIO_AUTH_TOKEN = ""
    response = twilio_post(client, "/hooks/sms/twilio/inbound/", twilio_inbound(), token="")
    assert response.status_code == 404
    assert nothing_recorded()


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_cm_without_the_token_is_refused(client, route, token):
    response = cm_post(client, "/hooks/sms/cm/inbound/", CM_INBOUND, token=token)
    assert response.status_code == 401
    assert "error" in response.json()
    assert nothing_recorded()


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", json.dumps({**CM_INBOUND, "message": {}}).encode()],
    ids=["not-json", "not-an-object", "no-text"],
)
def test_malformed_cm_reply_is_refused(client, route, body):
    assert cm_post(client, "/hooks/sms/cm/inbound/", body).status_code == 400
    assert nothing_recorded()


def test_unsigned_twilio_request_is_refused(client, route):
    response = client.post(
        "/hooks/sms/twilio/inbound/",
        twilio_inbound(),  # form-encoded by the test client
    )
    assert response.status_code == 401
    assert nothing_recorded()


def test_forged_twilio_request_is_refused(client, route):
    response = twilio_post(client, "/hooks/sms/twilio/inbound/", twilio_inbound(), token="guess")
    assert response.status_code == 401
    assert nothing_recorded()


def test_twilio_signature_for_another_url_is_refused(client, route):
    response = twilio_post(
        client,
        "/hooks/sms/twilio/inbound/",
        twilio_inbound(),
        signed_url="http://testserver/hooks/sms/twilio/status/",
    )
    assert response.status_code == 401
    assert nothing_recorded()


def test_twilio_behind_a_tls_proxy_is_checked_against_the_public_url(client, route, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "app.example.com"]
    response = twilio_post(
        client,
        "/hooks/sms/twilio/inbound/",
        twilio_inbound(),
        signed_url="https://app.example.com/hooks/sms/twilio/inbound/",
        HTTP_HOST="app.example.com",
        HTTP_X_FORWARDED_PROTO="https",
    )
    assert response.status_code == 200


def test_twilio_message_without_body_is_refused(client, route):
    fields = twilio_inbound()
    del fields["Body"]
    assert twilio_post(client, "/hooks/sms/twilio/inbound/", fields).status_code == 400
    assert nothing_recorded()


def test_unsigned_vonage_request_is_refused(client, route):
    params = {"timestamp": str(int(time.time())), **vonage_inbound()}
    assert vonage_post(client, "/hooks/sms/vonage/inbound/", params).status_code == 401
    assert nothing_recorded()


def test_forged_vonage_request_is_refused(client, route):
    params = vonage_signed(vonage_inbound(), secret="guess")
    assert vonage_post(client, "/hooks/sms/vonage/inbound/", params).status_code == 401
    assert nothing_recorded()


def test_vonage_request_changed_after_signing_is_refused(client, route):
    params = {**vonage_signed(vonage_inbound("HELLO")), "text": "STOP"}
    assert vonage_post(client, "/hooks/sms/vonage/inbound/", params).status_code == 401
    assert nothing_recorded()


def test_replayed_vonage_request_is_refused(client, route):
    params = vonage_inbound() | {"timestamp": str(int(time.time()) - 3600), "nonce": "n"}
    params["sig"] = vonage_sig(params)
    response = vonage_post(client, "/hooks/sms/vonage/inbound/", params)
    assert response.status_code == 401
    assert "timestamp" in response.json()["error"]
    assert nothing_recorded()


@pytest.mark.parametrize(
    "concat",
    [
        {"concat-ref": "A1", "concat-total": "3"},
        {"concat-ref": "A1", "concat-total": "3", "concat-part": "4"},
        {"concat-ref": "A1", "concat-total": "9" * 5000, "concat-part": "1"},
    ],
    ids=["no-part", "part-past-total", "huge-total"],
)
def test_malformed_vonage_part_is_refused(client, route, concat):
    params = vonage_signed(vonage_inbound(concat="true", **concat))
    assert vonage_post(client, "/hooks/sms/vonage/inbound/", params).status_code == 400
    assert nothing_recorded()


@pytest.mark.parametrize("gateway", ["cm", "twilio", "vonage"])
def test_oversized_body_is_refused(client, route, gateway):
    response = client.post(
        f"/hooks/sms/{gateway}/inbound/?token={CM_TOKEN}",
        b"x" * (64 * 1024 + 1),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert nothing_recorded()


def test_characters_the_database_cannot_store_are_dropped(client, route, company):
    params = vonage_signed(vonage_inbound("STOP\x00\ud800"))
    response = vonage_post(client, "/hooks/sms/vonage/inbound/", params, as_json=True)
    assert response.status_code == 200
    assert InboundMessage.objects.get().text == "STOP"
    assert opted_out(company)


def test_get_is_not_allowed(client):
    assert client.get("/hooks/sms/twilio/inbound/").status_code == 405


def test_parts_left_waiting_for_a_day_are_deleted(client, route, company):
    import time_machine
    from django.utils import timezone

    url = "/hooks/sms/vonage/inbound/"
    vonage_post(client, url, part(1, "ST", ref="C3"))  # its other parts never come
    later = timezone.now() + timezone.timedelta(days=1, minutes=1)
    with time_machine.travel(later, tick=False):
        params = vonage_signed(vonage_inbound("HELP", message_id="0A0000000999"))
        assert vonage_post(client, url, params).status_code == 200
    assert not InboundPart.objects.exists()


def test_joined_parts_keep_no_number_or_text(client, route, company):
    url = "/hooks/sms/vonage/inbound/"
    for number, text in ((1, "ST"), (2, "O"), (3, "P")):
        vonage_post(client, url, part(number, text))
    assert set(InboundPart.objects.values_list("sender", "text")) == {("", "")}


def test_gateway_names_win_over_keys_in_the_urls():
    from django.urls import resolve

    assert resolve("/hooks/sms/twilio/inbound/").url_name == "gateway-inbound"
    assert resolve("/hooks/sms/cm/status/").url_name == "gateway-status"
    assert resolve("/hooks/sms/K8wq2LxP0vRtK8wq2LxP0v/inbound/").url_name == "sms-inbound-company"
    assert resolve("/hooks/sms/vonage/K8wq2LxP0vRtK8wq2LxP0v/status/").kwargs == {
        "gateway": "vonage",
        "key": "K8wq2LxP0vRtK8wq2LxP0v",
    }
