"""``Idempotency-Key``: a POST retried with the same key does nothing twice."""

import threading

import pytest
import time_machine
from django.db import connections
from django.utils import timezone

from optout.models import ConsentEvent
from tests.api import probe
from tests.api.conftest import client_for

pytestmark = pytest.mark.urls("tests.api.probe")
PROBE = "/api/v1/probe"


def _post(client, data, key="order-1042", **extra):
    return client.post(PROBE, data, format="json", HTTP_IDEMPOTENCY_KEY=key, **extra)


def _groups(client) -> int:
    return client.get(PROBE).json()["groups"]


def test_a_retry_replays_the_first_answer_and_does_nothing_twice(api):
    first = _post(api, {"name": "VIP"})
    again = _post(api, {"name": "VIP"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert "Idempotent-Replayed" not in first
    assert again["Idempotent-Replayed"] == "true"
    assert _groups(api) == 1


def test_the_same_body_in_another_order_is_the_same_request(api):
    _post(api, {"name": "VIP", "wait": False})
    assert _post(api, {"wait": False, "name": "VIP"})["Idempotent-Replayed"] == "true"


def test_the_same_key_with_another_body_is_a_422(api):
    _post(api, {"name": "VIP"})
    response = _post(api, {"name": "Staff"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "idempotency_key_reused"
    assert "Use a new key" in error["message"]
    assert _groups(api) == 1


def test_without_a_key_each_post_runs(api):
    assert api.post(PROBE, {"name": "VIP"}, format="json").status_code == 201
    assert api.post(PROBE, {"name": "VIP"}, format="json").status_code == 409
    assert _post(api, {"name": "Staff"}, key="  ").status_code == 201
    assert _groups(api) == 2


def test_keys_are_per_company(api, outsider_api):
    assert _post(api, {"name": "VIP"}).status_code == 201
    theirs = _post(outsider_api, {"name": "VIP"})
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs
    assert _groups(outsider_api) == 1


def test_another_api_key_of_the_company_shares_the_keys(api, company):
    from api.keys import create_api_key

    _post(api, {"name": "VIP"})
    other_program = client_for(create_api_key(company=company, name="Shop").secret)
    assert _post(other_program, {"name": "VIP"})["Idempotent-Replayed"] == "true"


def test_a_server_error_leaves_no_trace_so_the_retry_runs(api):
    api.raise_request_exception = False
    probe.fail_next.set()
    failed = _post(api, {"name": "VIP"})
    assert failed.status_code == 500
    retried = _post(api, {"name": "VIP"})
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried
    assert _groups(api) == 1


def test_a_refusal_leaves_no_trace_so_the_corrected_request_runs(api):
    refused = _post(api, {"name": "x" * 101})
    assert refused.status_code == 400
    assert _post(api, {"name": "VIP"}).status_code == 201
    conflict = _post(api, {"name": "Staff", "fail": "conflict"}, key="order-1043")
    assert conflict.status_code == 409
    assert _post(api, {"name": "Staff"}, key="order-1043").status_code == 201


def test_a_key_too_long_is_a_400(api):
    response = _post(api, {"name": "VIP"}, key="k" * 256)
    assert response.status_code == 400
    assert "at most 255 characters" in response.json()["error"]["message"]
    assert _post(api, {"name": "VIP"}, key="k" * 255).status_code == 201


def test_a_key_is_forgotten_after_the_configured_hours(api, settings):
    settings.API_IDEMPOTENCY_HOURS = 24
    now = timezone.now()
    with time_machine.travel(now):
        _post(api, {"name": "VIP"})
    with time_machine.travel(now + timezone.timedelta(hours=23)):
        assert _post(api, {"name": "VIP"})["Idempotent-Replayed"] == "true"
    with time_machine.travel(now + timezone.timedelta(hours=25)):
        assert _post(api, {"name": "Staff"}).status_code == 201
    assert _groups(api) == 2


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_while_the_first_still_runs_is_a_409(api):
    probe.entered.clear()
    probe.release.clear()
    answers = {}

    def first():
        try:
            answers["first"] = _post(api, {"name": "VIP", "wait": True})
        finally:
            connections.close_all()

    worker = threading.Thread(target=first)
    worker.start()
    try:
        assert probe.entered.wait(timeout=30), "the first request never reached its handler"
        duplicate = _post(client_for_same(api), {"name": "VIP", "wait": True})
    finally:
        probe.release.set()
        worker.join(timeout=30)
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "idempotency_in_progress"
    assert answers["first"].status_code == 201
    replay = _post(api, {"name": "VIP", "wait": True})
    assert replay["Idempotent-Replayed"] == "true"
    assert _groups(api) == 1


def client_for_same(api):
    """A second client with the same key: the test client is not for two threads."""
    return client_for(api._credentials["HTTP_AUTHORIZATION"].split()[1])


def test_an_unfinished_request_is_reported_as_such_after_a_while(api):
    from api.models import IdempotentRequest

    now = timezone.now()
    with time_machine.travel(now):
        _post(api, {"name": "VIP"}, key="crashed")
    # As if the process running it had died before recording the answer.
    IdempotentRequest.objects.filter(key="crashed").update(status_code=None, response=None)
    with time_machine.travel(now + timezone.timedelta(minutes=20)):
        response = _post(api, {"name": "VIP"}, key="crashed")
    assert response.status_code == 409
    assert "never finished" in response.json()["error"]["message"]


@pytest.mark.urls("config.urls")
def test_a_retried_opt_out_through_the_api_is_recorded_once(api, company):
    data = {"address": "+31 6 12345678"}
    first = api.post("/api/v1/suppressions/", data, format="json", HTTP_IDEMPOTENCY_KEY="u-1")
    again = api.post("/api/v1/suppressions/", data, format="json", HTTP_IDEMPOTENCY_KEY="u-1")
    assert first.status_code == 201, first.content
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert ConsentEvent.objects.filter(company=company).count() == 1
    unkeyed = api.post("/api/v1/suppressions/", data, format="json")
    assert unkeyed.status_code == 200  # already suppressed: the event is recorded again
    assert ConsentEvent.objects.filter(company=company).count() == 2
