import json
import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from campaigns.models import Campaign, Channel, Message
from campaigns.services import UNKNOWN_OUTCOME, plan_campaign, send_chunk, tick
from tests.factories import CampaignFactory, ContactFactory
from tests.webhooks import WEBHOOK_SECRET, signed_post

URL = "/hooks/sms/status/"
NUMBER = "+31612345678"
FR = "+33612345678"
PARIS = ZoneInfo("Europe/Paris")

pytestmark = pytest.mark.django_db


@pytest.fixture
def post_reports(client):
    """POST a body to the status webhook, signed as the gateway signs it."""

    def post(payload, secret: str = WEBHOOK_SECRET, raw: bytes | None = None):
        body = raw if raw is not None else json.dumps(payload).encode()
        return signed_post(client, URL, body, secret=secret)

    return post


def message(company, status=Message.Status.SENT, **fields) -> Message:
    return Message.objects.create(company=company, to=NUMBER, status=status, **fields)


def state(msg: Message) -> tuple[str, str]:
    msg.refresh_from_db()
    return msg.status, msg.error


def test_delivered_report_marks_the_message_delivered(post_reports, company):
    sent = message(company)

    response = post_reports({"reference": str(sent.pk), "status": "delivered"})

    assert response.status_code == 200
    assert response.json() == {"updated": 1, "unknown": 0, "ignored": 0}
    assert state(sent) == ("delivered", "")


@pytest.mark.parametrize(
    "unknown",
    [UNKNOWN_OUTCOME, "Unknown: CM did not answer in time (read timeout); not sent again"],
    ids=["worker-died", "gateway-timed-out"],
)
def test_delivery_settles_a_message_of_unknown_outcome(post_reports, company, unknown):
    lost = message(company, status=Message.Status.FAILED, error=unknown)
    at = "2025-03-01T10:15:00+00:00"

    post_reports({"reference": str(lost.pk), "status": "delivered", "at": at})

    assert state(lost) == ("delivered", "")
    assert lost.sent_at == datetime(2025, 3, 1, 10, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    "status", [Message.Status.QUEUED, Message.Status.SKIPPED, Message.Status.CANCELLED]
)
def test_report_on_a_message_never_handed_over_is_ignored(post_reports, company, status):
    waiting = message(company, status=status)

    response = post_reports({"reference": str(waiting.pk), "status": "delivered"})

    assert response.status_code == 200
    assert response.json() == {"updated": 0, "unknown": 0, "ignored": 1}
    assert state(waiting) == (status, "")


@pytest.mark.send_hours_by_clock
def test_message_held_by_sending_hours_still_goes_out_after_a_report_claims_delivery(
    client, seeded_defaults, company, outbox
):
    ContactFactory(company=company, phone=FR, country="FR")
    campaign = CampaignFactory(company=company, status=Campaign.Status.SENDING)
    with time_machine.travel(datetime(2026, 12, 6, 12, 0, tzinfo=PARIS), tick=False):
        plan_campaign(campaign_id=campaign.pk)
        chunk = campaign.chunks.get()
        send_chunk(chunk_id=chunk.pk, task_token=chunk.lease)
        held = Message.objects.get(to=FR)
        assert held.status == Message.Status.QUEUED
        body = json.dumps({"reference": str(held.pk), "status": "delivered"}).encode()
        response = signed_post(client, URL, body)
    assert response.json() == {"updated": 0, "unknown": 0, "ignored": 1}

    with time_machine.travel(datetime(2026, 12, 7, 8, 0, tzinfo=PARIS), tick=False):
        tick()
        chunk.refresh_from_db()
        send_chunk(chunk_id=chunk.pk, task_token=chunk.lease)
    assert [sms.to for sms in outbox] == [FR]
    assert state(held) == ("sent", "")


def test_failed_report_keeps_the_gateways_reason(post_reports, company):
    sent = message(company)

    response = post_reports(
        {"reference": str(sent.pk), "status": "failed", "error": "Absent subscriber"}
    )

    assert response.json() == {"updated": 1, "unknown": 0, "ignored": 0}
    assert state(sent) == ("failed", "Absent subscriber")


def test_failed_report_without_reason_still_says_why(post_reports, company):
    sending = message(company, status=Message.Status.SENDING)

    post_reports({"reference": str(sending.pk), "status": "failed"})

    assert state(sending) == ("failed", "Not delivered (reported by the gateway)")


def test_batch_of_reports_is_applied_in_few_queries(
    post_reports, company, django_assert_max_num_queries
):
    messages = [message(company) for _ in range(30)]
    reports = [{"reference": str(m.pk), "status": "delivered"} for m in messages[:20]]
    reports += [{"reference": str(m.pk), "status": "failed"} for m in messages[20:]]
    reports += [{"reference": "999999999", "status": "delivered"}]

    # Two for the reports; the rest is the transaction's savepoint in a test.
    with django_assert_max_num_queries(4):
        response = post_reports({"reports": reports})

    assert response.json() == {"updated": 30, "unknown": 1, "ignored": 0}
    statuses = Message.objects.values_list("status", flat=True)
    assert list(statuses) == ["delivered"] * 20 + ["failed"] * 10


def test_unknown_references_are_counted_and_logged(post_reports, company, caplog):
    sent = message(company)
    reports = [
        {"reference": "999999999", "status": "delivered"},
        {"reference": "gw-abc", "status": "failed"},
        {"reference": "99999999999999999999999", "status": "delivered"},
    ]

    with caplog.at_level(logging.INFO, logger="campaigns.delivery"):
        response = post_reports({"reports": reports})

    assert response.status_code == 200
    assert response.json() == {"updated": 0, "unknown": 3, "ignored": 0}
    assert "3 delivery report(s) name no message" in caplog.text
    assert state(sent) == ("sent", "")


def test_report_that_changes_nothing_is_neither_updated_nor_unknown(post_reports, company):
    sent = message(company)

    response = post_reports({"reference": str(sent.pk), "status": "accepted"})

    assert response.json() == {"updated": 0, "unknown": 0, "ignored": 0}
    assert state(sent) == ("sent", "")


def test_email_message_is_not_an_sms_reference(post_reports, company):
    email = message(company, channel=Channel.EMAIL)

    response = post_reports({"reference": str(email.pk), "status": "delivered"})

    assert response.json() == {"updated": 0, "unknown": 1, "ignored": 0}
    assert state(email) == ("sent", "")


def test_unsigned_report_is_refused(client, company):
    sent = message(company)

    response = client.post(
        URL,
        json.dumps({"reference": str(sent.pk), "status": "delivered"}),
        content_type="application/json",
    )

    assert response.status_code == 401
    assert state(sent) == ("sent", "")


def test_wrongly_signed_report_is_refused(post_reports, company):
    sent = message(company)

    response = post_reports({"reference": str(sent.pk), "status": "delivered"}, secret="guess")

    assert response.status_code == 401
    assert "Signature does not match" in response.json()["error"]
    assert state(sent) == ("sent", "")


def test_malformed_json_is_refused(post_reports, company):
    response = post_reports(None, raw=b'{"reference": "1", "status": ')

    assert response.status_code == 400
    assert response.json()["error"] == "Body is not valid JSON."


def test_unknown_status_refuses_the_whole_request(post_reports, company):
    first, second = message(company), message(company)
    reports = [
        {"reference": str(first.pk), "status": "delivered"},
        {"reference": str(second.pk), "status": "teleported"},
    ]

    response = post_reports({"reports": reports})

    assert response.status_code == 400
    assert "Report 2 has an unknown status: 'teleported'" in response.json()["error"]
    assert state(first) == ("sent", "") and state(second) == ("sent", "")


@pytest.mark.parametrize(
    "payload",
    [
        {"reports": []},
        {"reports": "all delivered"},
        {"reports": [{"reference": "1", "status": "delivered"}] * 1001},
        {"reports": ["1"]},
        {"status": "delivered"},
        {"reference": "1", "status": "delivered", "at": "yesterday"},
        {"reference": "1", "status": "failed", "error": 42},
    ],
)
def test_malformed_reports_are_refused(post_reports, payload):
    assert post_reports(payload).status_code == 400


def test_oversized_body_is_refused(post_reports, company):
    sent = message(company)
    padding = "x" * 70_000

    response = post_reports({"reference": str(sent.pk), "status": "failed", "error": padding})

    assert response.status_code == 413
    assert state(sent) == ("sent", "")


def test_only_post_is_allowed(client):
    assert client.get(URL).status_code == 405


def test_late_failure_never_undoes_a_delivery(post_reports, company):
    sent = message(company)
    post_reports({"reference": str(sent.pk), "status": "delivered"})

    response = post_reports({"reference": str(sent.pk), "status": "failed", "error": "Expired"})

    assert response.json() == {"updated": 0, "unknown": 0, "ignored": 1}
    assert state(sent) == ("delivered", "")


def test_reports_for_one_message_apply_in_order(post_reports, company):
    sent = message(company)
    reports = [
        {"reference": str(sent.pk), "status": "delivered"},
        {"reference": str(sent.pk), "status": "failed"},
    ]

    response = post_reports({"reports": reports})

    assert response.json() == {"updated": 1, "unknown": 0, "ignored": 1}
    assert state(sent) == ("delivered", "")


def test_gateway_failure_is_not_turned_into_delivery(post_reports, company):
    refused = message(company, status=Message.Status.FAILED, error="HTTP 400: Invalid sender")

    post_reports({"reference": str(refused.pk), "status": "delivered"})

    assert state(refused) == ("failed", "HTTP 400: Invalid sender")


def test_reference_alone_identifies_the_message(post_reports, company, other_company):
    # References are global ids: the gateway knows no companies.
    theirs = message(other_company)

    response = post_reports({"reference": theirs.pk, "status": "Delivered"})

    assert response.json() == {"updated": 1, "unknown": 0, "ignored": 0}
    assert state(theirs) == ("delivered", "")


def test_characters_the_database_cannot_store_are_dropped_from_a_report(post_reports, company):
    sent = message(company)

    response = post_reports(
        {"reference": str(sent.pk), "status": "failed", "error": "Absent\u0000 subscriber\ud800"}
    )

    assert response.status_code == 200
    assert response.json()["updated"] == 1
    assert state(sent) == ("failed", "Absent subscriber")


def test_unknown_reference_with_a_nul_is_counted_not_a_server_error(post_reports, company):
    response = post_reports({"reference": "gw-\u0000x", "status": "delivered"})

    assert response.status_code == 200
    assert response.json()["unknown"] == 1
