"""Requests per minute per key: a 429 with Retry-After once a key has used its minute."""

import pytest
import time_machine

from api.keys import create_api_key
from api.models import ApiKey
from tests.api.conftest import client_for

pytestmark = pytest.mark.urls("tests.api.probe")
PROBE = "/api/v1/probe"
# The start of a minute, so that a test's requests all fall in one window.
MINUTE = "2026-06-01 12:00:00Z"


@pytest.fixture
def limited(issued_key):
    ApiKey.objects.filter(pk=issued_key.key.pk).update(rate_limit=3)
    return client_for(issued_key.secret)


def test_a_key_past_its_limit_gets_a_429_with_retry_after(limited):
    with time_machine.travel(MINUTE, tick=False):
        remaining = [limited.get(PROBE)["RateLimit-Remaining"] for _ in range(3)]
        refused = limited.get(PROBE)
    assert remaining == ["2", "1", "0"]
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    assert refused["RateLimit-Limit"] == "3" and refused["RateLimit-Remaining"] == "0"
    error = refused.json()["error"]
    assert error["code"] == "rate_limited"
    assert "60 seconds" in error["message"]
    assert error["fields"] == {}


def test_the_limit_opens_again_with_the_next_minute(limited):
    with time_machine.travel("2026-06-01 12:00:45Z", tick=False):
        for _ in range(3):
            limited.get(PROBE)
        refused = limited.get(PROBE)
        assert refused.status_code == 429 and refused["Retry-After"] == "15"
        assert refused["RateLimit-Reset"] == "15"
    with time_machine.travel("2026-06-01 12:01:00Z", tick=False):
        assert limited.get(PROBE).status_code == 200


def test_a_refused_post_does_nothing(limited):
    with time_machine.travel(MINUTE, tick=False):
        for _ in range(3):
            limited.get(PROBE)
        assert limited.post(PROBE, {"name": "VIP"}, format="json").status_code == 429
    with time_machine.travel("2026-06-01 12:01:00Z", tick=False):
        assert limited.get(PROBE).json()["groups"] == 0


def test_another_key_is_not_limited_by_this_one(limited, company, outsider_api):
    colleague = client_for(create_api_key(company=company, name="Shop").secret)
    with time_machine.travel(MINUTE, tick=False):
        for _ in range(4):
            limited.get(PROBE)
        assert limited.get(PROBE).status_code == 429
        assert colleague.get(PROBE).status_code == 200
        assert outsider_api.get(PROBE).status_code == 200


def test_a_keys_own_limit_wins_over_the_platforms(settings, company):
    settings.API_REQUESTS_PER_MINUTE = 2
    generous = create_api_key(company=company, name="Senders", rate_limit=5)
    default = client_for(create_api_key(company=company, name="CRM").secret)
    with time_machine.travel(MINUTE, tick=False):
        answers = [client_for(generous.secret).get(PROBE).status_code for _ in range(6)]
        assert answers == [200] * 5 + [429]
        assert [default.get(PROBE).status_code for _ in range(3)] == [200, 200, 429]
        assert default.get(PROBE)["RateLimit-Limit"] == "2"


def test_no_limit_when_the_platform_sets_none(settings, api):
    settings.API_REQUESTS_PER_MINUTE = 0
    with time_machine.travel(MINUTE, tick=False):
        answers = {api.get(PROBE).status_code for _ in range(30)}
    assert answers == {200}


def test_a_cache_that_does_not_answer_counts_nothing(settings, limited):
    # Port 9 (discard) on 127.0.0.1: nothing listens, the connection is refused.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
        }
    }
    answers = [limited.get(PROBE) for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert "RateLimit-Remaining" not in answers[0]
