"""The signing both gateway webhooks share (optout.webhooks), seen from the gateway."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from campaigns.models import Message
from optout.models import InboundMessage, Suppression
from optout.services import note_marketing_sent
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


def test_deeply_nested_json_is_refused(client, route):
    response = signed_post(client, STATUS, b"[" * 30_000 + b"]" * 30_000)
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
