"""CmBackend against a fake CM gateway served over real HTTP: no database needed."""

import logging
import socket

import pytest
from django.core.exceptions import ImproperlyConfigured

from campaigns.backends import OutboundSms, SendResult, get_backend
from campaigns.backends import cm as cm_module
from campaigns.backends.cm import BACKOFF_CAP_SECONDS, CmBackend


def sms(n: int = 1, sender: str = "Acme", body: str = "20% off today") -> OutboundSms:
    return OutboundSms(reference=f"r{n}", to=f"+316{12000000 + n}", sender=sender, body=body)


def cm_number(message: OutboundSms) -> str:
    return "00" + message.to[1:]


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def backend(fake_gateway, sleeps):
    """A backend for the fake gateway that records its waits instead of waiting."""

    def make(**overrides) -> CmBackend:
        options = {
            "base_url": fake_gateway.url,
            "product_token": fake_gateway.token,
            "max_attempts": 3,
            "timeout": 5.0,
            "sleep": sleeps.append,
            **overrides,
        }
        return CmBackend(**options)

    return make


def test_request_has_cm_shape(fake_gateway, backend):
    results = backend().send_messages([sms(1, sender="Acme", body="Hi Ann ☕")])

    assert results == [SendResult("r1", accepted=True)]
    (request,) = fake_gateway.requests
    assert request["path"] == "/v1.0/message"
    assert request["token"] == fake_gateway.token
    assert request["status"] == 200
    assert request["body"] == {
        "messages": {
            "msg": [
                {
                    "from": "Acme",
                    "to": [{"number": "0031612000001"}],
                    "body": {"type": "auto", "content": "Hi Ann ☕"},
                    "reference": "r1",
                    "minimumNumberOfMessageParts": 1,
                    "maximumNumberOfMessageParts": 8,
                }
            ]
        }
    }
    (received,) = fake_gateway.received
    assert {k: received[k] for k in ("reference", "number", "from", "content")} == {
        "reference": "r1",
        "number": "0031612000001",
        "from": "Acme",
        "content": "Hi Ann ☕",
    }


def test_batch_is_split_into_requests_and_results_keep_input_order(fake_gateway, backend):
    batch = [sms(n) for n in range(250)]

    results = backend(batch_size=100).send_messages(batch)

    assert [len(r["body"]["messages"]["msg"]) for r in fake_gateway.requests] == [100, 100, 50]
    assert [r.reference for r in results] == [m.reference for m in batch]
    assert all(r.accepted for r in results)
    assert fake_gateway.count_by_reference() == {m.reference: 1 for m in batch}


def test_settings_drive_the_backend(fake_gateway, settings):
    settings.CM_BASE_URL = fake_gateway.url + "/"
    settings.CM_PRODUCT_TOKEN = fake_gateway.token
    settings.CM_BATCH_SIZE = 2

    results = get_backend("campaigns.backends.cm.CmBackend").send_messages([sms(1), sms(2), sms(3)])

    assert [r.accepted for r in results] == [True, True, True]
    assert len(fake_gateway.requests) == 2


def test_missing_token_is_a_configuration_error(settings):
    settings.CM_PRODUCT_TOKEN = ""
    with pytest.raises(ImproperlyConfigured, match="CM_PRODUCT_TOKEN"):
        CmBackend()


def test_server_error_is_retried_until_it_succeeds(fake_gateway, backend, sleeps, caplog):
    fake_gateway.fail_next(2, status=503)

    with caplog.at_level(logging.WARNING, logger="campaigns.backends.cm"):
        results = backend(max_attempts=3).send_messages([sms(1), sms(2)])

    assert [r.accepted for r in results] == [True, True]
    assert [r["status"] for r in fake_gateway.requests] == [503, 503, 200]
    assert len(sleeps) == 2
    assert "HTTP 503" in caplog.text and "attempt 1 of 3" in caplog.text
    assert "attempt 2 of 3" in caplog.text
    assert fake_gateway.token not in caplog.text
    assert fake_gateway.count_by_reference() == {"r1": 1, "r2": 1}


def test_server_error_on_every_attempt_asks_to_retry_later(fake_gateway, backend):
    fake_gateway.fail_next(10, status=500)

    results = backend(max_attempts=4).send_messages([sms(1), sms(2)])

    assert len(fake_gateway.requests) == 4
    assert [(r.reference, r.accepted, r.retry) for r in results] == [
        ("r1", False, True),
        ("r2", False, True),
    ]
    assert results[0].error.startswith("CM gateway: HTTP 500")
    assert results[0].error.endswith("after 4 attempts")
    assert not fake_gateway.received


def test_client_error_is_not_retried(fake_gateway, backend, sleeps):
    fake_gateway.answer_next(1, status=400, details="Invalid sender: too long")

    results = backend().send_messages([sms(1), sms(2)])

    assert len(fake_gateway.requests) == 1 and not sleeps
    assert [(r.accepted, r.retry) for r in results] == [(False, False), (False, False)]
    assert results[0].error == "HTTP 400: Invalid sender: too long"


def test_too_many_requests_is_retried_like_a_server_error(fake_gateway, backend, sleeps):
    fake_gateway.answer_next(1, status=429, details="Too many requests")

    results = backend().send_messages([sms(1)])

    assert [r["status"] for r in fake_gateway.requests] == [429, 200]
    assert len(sleeps) == 1
    assert results[0].accepted and fake_gateway.count_by_reference() == {"r1": 1}


def test_long_details_are_cut_to_fit_the_error_column(fake_gateway, backend):
    fake_gateway.answer_next(1, status=422, details="x" * 1000)

    (result,) = backend().send_messages([sms(1)])

    assert len(result.error) == 255 and result.error.startswith("HTTP 422: xxx")


def test_wrong_token_is_refused_once(fake_gateway, backend):
    (result,) = backend(product_token="not-the-token").send_messages([sms(1)])

    assert len(fake_gateway.requests) == 1
    assert (result.accepted, result.retry) == (False, False)
    assert result.error.startswith("HTTP 401: ")


def test_read_timeout_is_not_sent_again_and_says_why(fake_gateway, backend, sleeps):
    """CM had the request when the answer timed out: sending again could deliver twice."""
    fake_gateway.timeout_next(1, seconds=2)

    (result,) = backend(timeout=0.3).send_messages([sms(1)])

    assert [r["fault"] for r in fake_gateway.requests] == ["timeout"]
    assert not sleeps
    assert (result.accepted, result.retry) == (False, False)
    assert result.error.startswith("Unknown: CM did not answer in time (read timeout)")


def test_unreachable_gateway_asks_to_retry_later(backend):
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    (result,) = backend(base_url=f"http://127.0.0.1:{port}", max_attempts=2).send_messages([sms(1)])

    assert (result.accepted, result.retry) == (False, True)
    assert result.error == "CM gateway: connection error (ConnectionError) after 2 attempts"


def test_rejected_message_fails_alone(fake_gateway, backend):
    batch = [sms(1), sms(2), sms(3)]
    fake_gateway.reject_numbers({cm_number(batch[1])}, details="Recipient is blocked")

    results = backend().send_messages(batch)

    assert [(r.reference, r.accepted, r.retry) for r in results] == [
        ("r1", True, False),
        ("r2", False, False),
        ("r3", True, False),
    ]
    assert results[1].error == "Recipient is blocked"
    assert fake_gateway.count_by_reference() == {"r1": 1, "r3": 1}


def test_unreadable_success_counts_as_accepted(fake_gateway, backend, sleeps, caplog):
    fake_gateway.malformed_next(1, status=200)

    with caplog.at_level(logging.WARNING, logger="campaigns.backends.cm"):
        results = backend().send_messages([sms(1), sms(2)])

    assert [r.accepted for r in results] == [True, True]
    assert len(fake_gateway.requests) == 1 and not sleeps
    assert "unreadable body" in caplog.text


def test_message_left_out_of_the_reply_counts_as_accepted(fake_gateway, backend, caplog):
    fake_gateway.answer_next(1, status=200, details="Created 1 message(s)")  # no entries

    with caplog.at_level(logging.WARNING, logger="campaigns.backends.cm"):
        results = backend().send_messages([sms(1)])

    assert [(r.accepted, r.retry) for r in results] == [(True, False)]
    assert len(fake_gateway.requests) == 1
    assert "leaves out 1 of 1" in caplog.text


def test_unreadable_server_error_is_retried(fake_gateway, backend):
    fake_gateway.malformed_next(1, status=502)

    results = backend().send_messages([sms(1)])

    assert [r.accepted for r in results] == [True]
    assert [r["status"] for r in fake_gateway.requests] == [502, 200]
    assert fake_gateway.count_by_reference() == {"r1": 1}


def test_backoff_grows_up_to_the_cap(fake_gateway, backend, sleeps, monkeypatch):
    monkeypatch.setattr(cm_module.random, "uniform", lambda low, high: high)
    fake_gateway.fail_next(10)

    backend(max_attempts=7, retry_backoff=0.5).send_messages([sms(1)])

    assert sleeps == [0.5, 1.0, 2.0, 4.0, BACKOFF_CAP_SECONDS, BACKOFF_CAP_SECONDS]


def test_backoff_is_jittered_below_its_bound(fake_gateway, backend, sleeps):
    fake_gateway.fail_next(10)

    backend(max_attempts=8, retry_backoff=1.0).send_messages([sms(1)])

    bounds = [min(BACKOFF_CAP_SECONDS, 2.0**n) for n in range(7)]
    assert len(sleeps) == 7
    assert all(0 <= wait <= bound for wait, bound in zip(sleeps, bounds, strict=True))


def test_held_reply_times_out_although_the_gateway_took_the_message(fake_gateway, backend):
    fake_gateway.hold()

    (result,) = backend(timeout=0.3, max_attempts=1).send_messages([sms(1)])

    fake_gateway.release()
    assert (result.accepted, result.retry) == (False, False)
    assert result.error.startswith("Unknown:")
    assert fake_gateway.wait_for_requests(1)[0]["status"] == 200
    assert fake_gateway.count_by_reference() == {"r1": 1}


def test_a_lease_shorter_than_a_batch_hand_off_is_reported(settings):
    from campaigns.checks import lease_outlasts_a_batch

    settings.SMS_BACKEND = "campaigns.backends.cm.CmBackend"
    settings.SEND_CHUNK_LEASE_SECONDS = 300
    assert lease_outlasts_a_batch(None) == []  # the defaults: about 90 s at worst

    settings.SEND_BATCH_SIZE = 1000
    [warning] = lease_outlasts_a_batch(None)
    assert warning.id == "campaigns.W001"
    assert "longer than SEND_CHUNK_LEASE_SECONDS (300 s)" in warning.msg
