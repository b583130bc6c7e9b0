"""The signing both gateway webhooks share (optout.webhooks), seen from the gateway."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.urls import reverse

from campaigns.models import Message
from optout.models import GatewayWebhook, InboundMessage, Suppression
from optout.services import note_marketing_sent
from tests.factories import GatewayWebhookFactory
from tests.webhooks import WEBHOOK_SECRET, signature, signed_post

INBOUND = "/hooks/sms/inbound/"
STATUS = "/hooks/sms/status/"
NUMBER = "+33612345678"
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db


@pytest.fixture
def route(company):
    note_marketing_sent(company=company, campaign_id=41, shortcode="36111", addresses=[NUMBER])


def stop_body(**extra) -> bytes:
    return json.dumps({"from": NUMBER, "to": "36111", "text": "STOP", **extra}).encode()


@pytest.mark.parametrize("path", [INBOUND, STATUS])
def test_signature_without_timestamp_is_refused(client, route, path):
    body = stop_body()
    response = client.post(
        path,
        body,
        content_type="application/json",
        headers={"X-Signature": signature(body, WEBHOOK_SECRET, "")},
    )
    assert response.status_code == 401
    assert response.json()["error"] == "Missing X-Timestamp header (unix seconds)."
    assert not InboundMessage.objects.exists()


def test_timestamp_outside_the_signature_is_refused(client, route):
    # Signed at one time, sent with another: the timestamp is part of what is signed.
    body, now = stop_body(), int(time.time())
    response = client.post(
        INBOUND,
        body,
        content_type="application/json",
        headers={"X-Timestamp": str(now), "X-Signature": signature(body, WEBHOOK_SECRET, now - 1)},
    )
    assert response.status_code == 401
    assert "does not match" in response.json()["error"]
    assert not Suppression.objects.exists()


@pytest.mark.parametrize("age", [301, -301, 86_400])
def test_stale_or_future_timestamp_is_refused_and_says_why(client, route, age):
    response = signed_post(client, INBOUND, stop_body(), timestamp=int(time.time()) - age)
    assert response.status_code == 401
    assert "more than the 300 allowed" in response.json()["error"]
    assert not InboundMessage.objects.exists() and not Suppression.objects.exists()


def test_timestamp_inside_the_window_is_accepted(client, route):
    response = signed_post(client, INBOUND, stop_body(), timestamp=int(time.time()) - 290)
    assert response.status_code == 200
    assert Suppression.objects.filter(address=NUMBER).exists()


def test_window_follows_the_setting(client, route, settings):
    settings.WEBHOOK_TOLERANCE_SECONDS = 30
    response = signed_post(client, INBOUND, stop_body(), timestamp=int(time.time()) - 60)
    assert response.status_code == 401
    assert "more than the 30 allowed" in response.json()["error"]


@pytest.mark.parametrize("stamp", ["soon", "-5", "1e9", "１２３", "9" * 40])
def test_timestamp_that_is_not_unix_seconds_is_refused(client, route, stamp):
    body = stop_body()
    response = client.post(
        INBOUND,
        body,
        content_type="application/json",
        headers={"X-Timestamp": stamp, "X-Signature": signature(body, WEBHOOK_SECRET, stamp)},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "X-Timestamp must be unix seconds."


@pytest.mark.parametrize(
    "body",
    [b"[" * 30_000 + b"]" * 30_000, b'{"reference": ' + b"1" * 5000 + b', "status": "failed"}'],
    ids=["deeply-nested", "endless-number"],
)
def test_json_the_parser_cannot_take_is_refused(client, route, body):
    response = signed_post(client, STATUS, body)
    assert response.status_code == 400
    assert response.json()["error"] == "Body is not valid JSON."


def test_status_webhook_refuses_a_stale_report(client, company):
    sent = Message.objects.create(company=company, to=NUMBER, status=Message.Status.SENT)
    body = json.dumps({"reference": str(sent.pk), "status": "delivered"}).encode()
    response = signed_post(client, STATUS, body, timestamp=int(time.time()) - 3600)
    assert response.status_code == 401
    sent.refresh_from_db()
    assert sent.status == Message.Status.SENT


def _boot(secret: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "boot-test-secret-key-0123456789abcdefghijklmnop",
        "SMS_WEBHOOK_SECRET": secret,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_short_webhook_secret_fails_at_boot_outside_debug():
    booted = _boot("x")
    assert booted.returncode != 0
    assert "SMS_WEBHOOK_SECRET must be at least 32 characters" in booted.stderr


def test_long_webhook_secret_boots_outside_debug():
    booted = _boot("a" * 32)
    assert "SMS_WEBHOOK_SECRET" not in booted.stderr


# --- a company's own gateway account ------------------------------------------------
@pytest.fixture
def hook(company):
    return GatewayWebhookFactory(company=company)


@pytest.fixture
def other_hook(other_company):
    return GatewayWebhookFactory(company=other_company)


def sent_message(company, status=Message.Status.SENT) -> Message:
    return Message.objects.create(company=company, to=NUMBER, status=status)


def test_company_webhooks_get_unguessable_keys_and_long_secrets(hook, other_hook):
    assert hook.key != other_hook.key and hook.company.slug not in hook.key
    assert len(hook.key) >= 20 and len(hook.secret) >= 32 and hook.secret != other_hook.secret


def test_reply_through_a_company_webhook_belongs_to_that_company(
    client, hook, company, other_company
):
    # Another company sent this number marketing last, but the reply came through this
    # company's own gateway account.
    note_marketing_sent(company=other_company, campaign_id=7, shortcode="36111", addresses=[NUMBER])
    path = f"/hooks/sms/{hook.key}/inbound/"
    response = signed_post(client, path, stop_body(), secret=hook.secret)
    assert response.status_code == 200 and response.json()["status"] == "opted_out"
    assert list(Suppression.objects.values_list("company", flat=True)) == [company.pk]


def test_company_webhook_refuses_the_platform_secret_and_other_companies_secrets(
    client, hook, other_hook
):
    path = f"/hooks/sms/{hook.key}/inbound/"
    for secret in (WEBHOOK_SECRET, other_hook.secret):
        response = signed_post(client, path, stop_body(), secret=secret)
        assert response.status_code == 401
    assert not InboundMessage.objects.exists() and not Suppression.objects.exists()


@pytest.mark.parametrize("kind", ["inbound", "status"])
def test_unknown_webhook_key_is_404(client, hook, kind):
    response = signed_post(client, f"/hooks/sms/not-{hook.key}/{kind}/", stop_body())
    assert response.status_code == 404
    assert response.json() == {"error": "No such webhook."}


def test_same_reference_from_two_gateway_accounts_is_two_replies(client, route, hook, company):
    first = signed_post(client, INBOUND, stop_body(reference="gw-1"))
    second = signed_post(
        client,
        f"/hooks/sms/{hook.key}/inbound/",
        json.dumps(
            {"from": "+33699999999", "to": "36111", "text": "STOP", "reference": "gw-1"}
        ).encode(),
        secret=hook.secret,
    )
    assert first.json()["id"] != second.json()["id"]
    assert set(Suppression.objects.values_list("address", flat=True)) == {NUMBER, "+33699999999"}


def test_report_through_a_company_webhook_settles_its_own_message(client, hook, company):
    sent = sent_message(company)
    body = json.dumps({"reference": str(sent.pk), "status": "delivered"}).encode()
    response = signed_post(client, f"/hooks/sms/{hook.key}/status/", body, secret=hook.secret)
    assert response.json() == {"updated": 1, "unknown": 0, "ignored": 0}
    sent.refresh_from_db()
    assert sent.status == Message.Status.DELIVERED


def test_report_through_a_company_webhook_cannot_touch_another_companys_message(
    client, hook, other_company
):
    theirs = sent_message(other_company)
    body = json.dumps({"reference": str(theirs.pk), "status": "failed"}).encode()
    response = signed_post(client, f"/hooks/sms/{hook.key}/status/", body, secret=hook.secret)
    assert response.status_code == 200
    assert response.json() == {"updated": 0, "unknown": 1, "ignored": 0}
    theirs.refresh_from_db()
    assert theirs.status == Message.Status.SENT


def test_report_signed_with_the_platform_secret_cannot_use_a_company_webhook(client, hook, company):
    sent = sent_message(company)
    body = json.dumps({"reference": str(sent.pk), "status": "failed"}).encode()
    response = signed_post(client, f"/hooks/sms/{hook.key}/status/", body)
    assert response.status_code == 401
    sent.refresh_from_db()
    assert sent.status == Message.Status.SENT


def test_rotated_secret_replaces_the_old_one(client, admin_client, hook, route):
    old = hook.secret
    changelist = reverse("admin:optout_gatewaywebhook_changelist")
    response = admin_client.post(
        changelist, {"action": "rotate_secrets", "_selected_action": [hook.pk]}, follow=True
    )
    assert response.status_code == 200
    assert "New secrets for 1 gateway webhook(s)" in response.content.decode()
    hook.refresh_from_db()
    assert hook.secret != old and len(hook.secret) >= 32
    path = f"/hooks/sms/{hook.key}/inbound/"
    assert signed_post(client, path, stop_body(), secret=old).status_code == 401
    assert signed_post(client, path, stop_body(), secret=hook.secret).status_code == 200


def test_staff_see_the_urls_to_give_the_gateway(admin_client, hook):
    page = admin_client.get(reverse("admin:optout_gatewaywebhook_change", args=[hook.pk]))
    text = page.content.decode()
    assert f"/hooks/sms/{hook.key}/inbound/" in text and f"/hooks/sms/{hook.key}/status/" in text


def test_staff_cannot_save_a_short_secret(admin_client, hook):
    response = admin_client.post(
        reverse("admin:optout_gatewaywebhook_change", args=[hook.pk]),
        {"company": hook.company.pk, "key": hook.key, "secret": "short"},
    )
    assert response.status_code == 200
    assert "at least 32 characters" in response.content.decode()
    hook.refresh_from_db()
    assert hook.secret != "short"


@pytest.mark.parametrize("key", ["acme", "acme/../../admin-0123456789"])
def test_staff_cannot_save_a_guessable_or_unroutable_key(admin_client, hook, key):
    response = admin_client.post(
        reverse("admin:optout_gatewaywebhook_change", args=[hook.pk]),
        {"company": hook.company.pk, "key": key, "secret": hook.secret},
    )
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    hook.refresh_from_db()
    assert hook.key != key


def test_staff_give_a_company_webhooks_of_its_own(admin_client, client, company):
    add = reverse("admin:optout_gatewaywebhook_add")
    assert "Shown once saved." in admin_client.get(add).content.decode()
    key, secret = "k" * 22, "s" * 40
    form = {"company": company.pk, "gateway": "signed", "vonage_signature_method": "sha256"}
    response = admin_client.post(add, {**form, "key": key, "secret": secret})
    assert response.status_code == 302
    body = json.dumps({"from": NUMBER, "to": "+3197010000009", "text": "STOP"}).encode()
    answer = signed_post(client, f"/hooks/sms/{key}/inbound/", body, secret=secret)
    assert answer.json()["status"] == "opted_out"
    assert Suppression.objects.filter(company=company, address=NUMBER).exists()


def test_staff_give_a_company_its_own_twilio_account(admin_client, company):
    add = reverse("admin:optout_gatewaywebhook_add")
    form = {
        "company": company.pk,
        "gateway": "twilio",
        "key": "k" * 22,
        "secret": "s" * 40,
        "twilio_auth_token": "t" * 32,
        "vonage_signature_method": "sha256",
    }
    refused = admin_client.post(add, {**form, "key": "twilio"})
    assert refused.status_code == 200 and "name of a gateway" in refused.content.decode()
    assert admin_client.post(add, form).status_code == 302
    account = GatewayWebhook.objects.get(company=company)
    change = reverse("admin:optout_gatewaywebhook_change", args=[account.pk])
    assert f"/hooks/sms/twilio/{'k' * 22}/inbound/" in admin_client.get(change).content.decode()


def test_form_with_too_many_fields_is_refused_with_json(client, route):
    body = b"&".join(b"f%d=1" % n for n in range(2000)) + b"&from=33612345678&to=36111&text=STOP"
    response = signed_post(client, INBOUND, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "fields" in response.json()["error"]
    assert not InboundMessage.objects.exists()
