"""TwilioBackend against a fake Twilio API served over real HTTP."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from campaigns.backends import OutboundSms, SendResult, get_backend
from campaigns.backends.twilio import TwilioBackend
from tests.fakeproviders import TWILIO_SID, TWILIO_TOKEN


def sms(n: int = 1, body: str = "20% off today") -> OutboundSms:
    return OutboundSms(reference=f"{n}", to=f"+316{12000000 + n}", sender="Acme", body=body)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def backend(fake_twilio, sleeps):
    def make(**overrides) -> TwilioBackend:
        options = {
            "base_url": fake_twilio.url,
            "account_sid": TWILIO_SID,
            "auth_token": TWILIO_TOKEN,
            "status_callback": "",
            "max_attempts": 3,
            "timeout": 5.0,
            "sleep": sleeps.append,
            **overrides,
        }
        return TwilioBackend(**options)

    return make


def test_message_is_posted_as_twilio_takes_it_and_its_sid_kept(fake_twilio, backend):
    callback = "https://app.example.com/hooks/sms/twilio/status/"

    (result,) = backend(status_callback=callback).send_messages([sms(1, "Hi Ann ☕")])

    (taken,) = fake_twilio.received
    assert result == SendResult("1", accepted=True, gateway_reference=taken["sid"])
    assert (taken["to"], taken["from"], taken["body"]) == ("+31612000001", "Acme", "Hi Ann ☕")
    # Our id rides along in the callback URL, so a report finds the message however early.
    assert taken["status_callback"] == callback + "?reference=1"


def test_settings_drive_the_backend(fake_twilio, settings):
    for name, value in fake_twilio.settings().items():
        setattr(settings, name, value)
    settings.TWILIO_STATUS_CALLBACK_URL = "https://app.example.com/hooks/sms/twilio/status/?x=1"

    results = get_backend().send_messages([sms(1), sms(2)])

    assert [r.accepted for r in results] == [True, True]
    assert fake_twilio.received[1]["status_callback"].endswith("?x=1&reference=2")


def test_missing_credentials_are_a_configuration_error(settings):
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "", ""
    with pytest.raises(ImproperlyConfigured):
        TwilioBackend()


def test_server_error_is_retried_until_it_succeeds(fake_twilio, backend, sleeps):
    fake_twilio.fail_next(2, status=503)

    (result,) = backend().send_messages([sms()])

    assert result.accepted and result.gateway_reference
    assert len(fake_twilio.requests) == 3 and len(sleeps) == 2
    assert len(fake_twilio.received) == 1


def test_too_many_requests_is_retried(fake_twilio, backend, sleeps):
    fake_twilio.fail_next(1, status=429)
    (result,) = backend().send_messages([sms()])
    assert result.accepted and len(sleeps) == 1


def test_gateway_down_hands_the_batch_back_to_be_sent_later(fake_twilio, backend):
    fake_twilio.fail_next(3, status=500)

    results = backend().send_messages([sms(1), sms(2), sms(3)])

    assert [(r.accepted, r.retry) for r in results] == [(False, True)] * 3
    assert results[0].error == "Twilio: HTTP 500 (Internal Server Error) after 3 attempts"
    # The rest were not tried one by one against a gateway that is down.
    assert len(fake_twilio.requests) == 3 and not fake_twilio.received


def test_refused_number_fails_alone_with_twilios_reason(fake_twilio, backend, sleeps):
    fake_twilio.rejected.add("+31612000002")

    results = backend().send_messages([sms(1), sms(2), sms(3)])

    assert [r.accepted for r in results] == [True, False, True]
    assert results[1].error == (
        "HTTP 400: Twilio 21211: The 'To' number +31612000002 is not a valid phone number."
    )
    assert not results[1].retry and not sleeps


def test_wrong_credentials_are_refused_once(fake_twilio, backend):
    (result,) = backend(auth_token="wrong").send_messages([sms()])
    assert (result.accepted, result.retry) == (False, False)
    assert result.error == "HTTP 401: Twilio 20003: Authenticate"
    assert len(fake_twilio.requests) == 1


def test_read_timeout_is_not_sent_again_and_says_why(fake_twilio, backend, sleeps):
    fake_twilio.timeout_next(1, seconds=2)

    (result,) = backend(timeout=0.3).send_messages([sms()])

    assert (result.accepted, result.retry) == (False, False)
    assert result.error.startswith("Unknown: Twilio did not answer in time (read timeout)")
    assert len(fake_twilio.requests) == 1 and not sleeps


def test_unreachable_gateway_asks_to_retry_later(backend):
    (result,) = backend(base_url="http://127.0.0.1:9").send_messages([sms()])
    assert (result.accepted, result.retry) == (False, True)
    assert "connection error" in result.error


def test_unreadable_success_counts_as_accepted(fake_twilio, backend):
    fake_twilio.malformed_next()
    (result,) = backend().send_messages([sms()])
    assert result == SendResult("1", accepted=True)


@pytest.mark.parametrize("backend_path", ["twilio.TwilioBackend", "vonage.VonageBackend"])
def test_a_batch_of_one_by_one_requests_longer_than_the_lease_is_reported(settings, backend_path):
    from campaigns.checks import lease_outlasts_a_batch

    settings.SMS_BACKEND = f"campaigns.backends.{backend_path}"
    settings.SEND_CHUNK_LEASE_SECONDS = 300
    settings.SEND_BATCH_SIZE = 200  # 200 requests of up to 20 s each
    [warning] = lease_outlasts_a_batch(None)
    assert warning.id == "campaigns.W001"
    assert "_TIMEOUT" in warning.hint

    settings.SEND_BATCH_SIZE = 10  # the size to use with these backends
    assert lease_outlasts_a_batch(None) == []
