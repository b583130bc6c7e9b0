"""VonageBackend against a fake Vonage SMS API served over real HTTP."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from campaigns.backends import OutboundSms, SendResult, get_backend
from campaigns.backends.vonage import VonageBackend
from tests.fakeproviders import VONAGE_KEY, VONAGE_SECRET


def sms(n: int = 1, body: str = "20% off today") -> OutboundSms:
    return OutboundSms(reference=f"{n}", to=f"+316{12000000 + n}", sender="Acme", body=body)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def backend(fake_vonage, sleeps):
    def make(**overrides) -> VonageBackend:
        options = {
            "base_url": fake_vonage.url,
            "api_key": VONAGE_KEY,
            "api_secret": VONAGE_SECRET,
            "status_callback": "",
            "max_attempts": 3,
            "timeout": 5.0,
            "sleep": sleeps.append,
            **overrides,
        }
        return VonageBackend(**options)

    return make


def test_message_is_posted_as_vonage_takes_it_and_its_id_kept(fake_vonage, backend):
    callback = "https://app.example.com/hooks/sms/vonage/status/"

    (result,) = backend(status_callback=callback).send_messages([sms(1)])

    (taken,) = fake_vonage.received
    assert result == SendResult("1", accepted=True, gateway_reference=taken["message-id"])
    assert (taken["to"], taken["from"], taken["text"]) == ("31612000001", "Acme", "20% off today")
    assert (taken["client-ref"], taken["callback"]) == ("1", callback)
    assert "type" not in taken


def test_text_beyond_gsm_goes_as_unicode(fake_vonage, backend):
    backend().send_messages([sms(1, "Hi Ann ☕")])
    assert fake_vonage.received[0]["type"] == "unicode"


def test_long_text_keeps_the_first_parts_id(fake_vonage, backend):
    (result,) = backend().send_messages([sms(1, "x" * 400)])
    assert result.gateway_reference == fake_vonage.received[0]["message-id"]


def test_settings_drive_the_backend(fake_vonage, settings):
    for name, value in fake_vonage.settings().items():
        setattr(settings, name, value)
    results = get_backend().send_messages([sms(1), sms(2)])
    assert [r.accepted for r in results] == [True, True]


def test_missing_credentials_are_a_configuration_error(settings):
    settings.VONAGE_API_KEY, settings.VONAGE_API_SECRET = "", ""
    with pytest.raises(ImproperlyConfigured):
        VonageBackend()


def test_throttled_is_retried_until_it_succeeds(fake_vonage, backend, sleeps):
    fake_vonage.throttle_next(2)

    (result,) = backend().send_messages([sms()])

    assert result.accepted and len(sleeps) == 2
    assert len(fake_vonage.requests) == 3 and len(fake_vonage.received) == 1


def test_throttled_on_every_attempt_asks_to_retry_later(fake_vonage, backend):
    fake_vonage.throttle_next(3)
    results = backend().send_messages([sms(1), sms(2)])
    assert [(r.accepted, r.retry) for r in results] == [(False, True)] * 2
    assert results[0].error.startswith("Vonage: throttled (Throughput Rate Exceeded")


def test_server_error_is_retried(fake_vonage, backend, sleeps):
    fake_vonage.fail_next(1, status=500)
    (result,) = backend().send_messages([sms()])
    assert result.accepted and len(sleeps) == 1


def test_refused_number_fails_alone_for_good(fake_vonage, backend, sleeps):
    fake_vonage.rejected.add("31612000002")

    results = backend().send_messages([sms(1), sms(2), sms(3)])

    assert [r.accepted for r in results] == [True, False, True]
    assert results[1].error == "Vonage status 29: Non-Whitelisted Destination"
    assert not results[1].retry and not sleeps


def test_wrong_credentials_are_refused_once(fake_vonage, backend):
    (result,) = backend(api_secret="wrong").send_messages([sms()])
    assert (result.accepted, result.retry) == (False, False)
    assert result.error == "Vonage status 4: Bad Credentials"
    assert len(fake_vonage.requests) == 1


def test_read_timeout_is_not_sent_again_and_says_why(fake_vonage, backend, sleeps):
    fake_vonage.timeout_next(1, seconds=2)
    (result,) = backend(timeout=0.3).send_messages([sms()])
    assert (result.accepted, result.retry) == (False, False)
    assert result.error.startswith("Unknown: Vonage did not answer in time (read timeout)")
    assert len(fake_vonage.requests) == 1 and not sleeps


def test_unreachable_gateway_asks_to_retry_later(backend):
    (result,) = backend(base_url="http://127.0.0.1:9").send_messages([sms()])
    assert (result.accepted, result.retry) == (False, True)


def test_unreadable_success_counts_as_accepted(fake_vonage, backend):
    fake_vonage.malformed_next()
    (result,) = backend().send_messages([sms()])
    assert result == SendResult("1", accepted=True)
