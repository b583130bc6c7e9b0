"""Opt-out webhooks out: what a customer's receiver on 127.0.0.1 gets, and what the outbox
keeps when the receiver or the broker is down."""

import contextlib
import hmac
import logging
import socket
import time
from datetime import timedelta
from hashlib import sha256

import pytest
import requests
from django.db import connections, transaction
from django.utils import timezone

import api.tasks  # noqa: F401  (registers the tasks with the test's worker)
from addressbook.models import AuditEvent
from api.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from api.webhooks import (
    WebhookError,
    create_endpoint,
    delete_endpoint,
    deliver_endpoint,
    enable_endpoint,
    queue_deliveries,
    rotate_secret,
    send_test_event,
    sending,
)
from api.webhooks.sending import webhook_session
from config.celery import app as celery_app
from optout.models import ConsentEvent
from optout.services import record_optin, record_optout
from tests.e2e.conftest import start_worker_process  # noqa: F401  (a fixture)
from tests.redis_server import RedisServer

from .receiver import Receiver

NUMBER = "+31612345678"


@pytest.fixture(autouse=True)
def _webhook_settings(settings):
    # The receiver is on 127.0.0.1 over plain http.
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0
    settings.WEBHOOK_MAX_ATTEMPTS = 15
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 15


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def endpoint(company, owner, receiver) -> WebhookEndpoint:
    return create_endpoint(company=company, url=receiver.url, description="CRM", created_by=owner)


def _deliveries(endpoint: WebhookEndpoint) -> list[WebhookDelivery]:
    return list(WebhookDelivery.objects.filter(endpoint=endpoint).order_by("id"))


# --- the outbox ------------------------------------------------------------------------
def test_a_company_without_endpoints_pays_one_query_per_optout(company, django_assert_num_queries):
    event = ConsentEvent.objects.create(
        company=company, address=NUMBER, kind=ConsentEvent.Kind.OPT_OUT, source="landing_page"
    )
    with django_assert_num_queries(1):
        queue_deliveries(event=event)
    assert not WebhookDelivery.objects.exists()


def test_the_outbox_row_is_written_with_the_optout_and_rolled_back_with_it(company, endpoint):
    with contextlib.suppress(RuntimeError), transaction.atomic():
        record_optout(company=company, address=NUMBER, source="api")
        raise RuntimeError("the caller's transaction fails after the opt-out")
    assert not ConsentEvent.objects.exists()
    assert not WebhookDelivery.objects.exists()

    event = record_optout(company=company, address=NUMBER, source="landing_page", reason="too_many")
    [delivery] = _deliveries(endpoint)
    assert delivery.event == event
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert delivery.payload == {
        "id": f"evt_{event.pk}",
        "type": "consent.opt_out",
        "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
        "data": {
            "event_id": event.pk,
            "company_id": company.pk,
            "kind": "opt_out",
            "address": NUMBER,
            "channel": "sms",
            "source": "landing_page",
            "campaign_id": None,
            "reason": "too_many",
            "reason_text": "",
            "raw_text": "",
        },
    }


def test_each_endpoint_gets_only_the_events_it_asked_for(company, owner, endpoint):
    only_outs = create_endpoint(
        company=company, url="http://127.0.0.1:9/outs", sends_opt_ins=False, created_by=owner
    )
    disabled = create_endpoint(company=company, url="http://127.0.0.1:9/off", created_by=owner)
    WebhookEndpoint.objects.filter(pk=disabled.pk).update(active=False)

    record_optout(company=company, address="ana@example.com", source="one_click")
    record_optin(company=company, address="ana@example.com", source="sms_keyword")

    assert [d.kind for d in _deliveries(endpoint)] == ["consent.opt_out", "consent.opt_in"]
    [out] = _deliveries(only_outs)
    assert out.kind == "consent.opt_out" and out.payload["data"]["channel"] == "email"
    assert _deliveries(disabled) == []


def test_another_companys_optout_goes_to_none_of_our_endpoints(other_company, endpoint):
    record_optout(company=other_company, address=NUMBER, source="api")
    assert _deliveries(endpoint) == []


def test_an_optout_through_the_api_is_queued_for_the_companys_endpoint(api, endpoint):
    """Inside the API's tenant scope, as the dashboard's and the landing page's are not."""
    response = api.post("/api/v1/suppressions/", {"address": "06 12345678"}, format="json")
    assert response.status_code == 201, response.content
    [delivery] = _deliveries(endpoint)
    assert delivery.payload["data"]["address"] == NUMBER
    assert delivery.payload["data"]["source"] == "api"


# --- the request -------------------------------------------------------------------------
def test_the_request_is_signed_with_the_endpoints_secret(company, endpoint, receiver):
    event = record_optout(company=company, address=NUMBER, source="sms_keyword", raw_text="STOP")

    run = deliver_endpoint(endpoint_id=endpoint.pk)

    assert run.delivered == 1
    [request] = receiver.received
    assert request.path == "/hooks/optout"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Webhook-Id"] == f"evt_{event.pk}"
    assert abs(int(request.headers["X-Webhook-Timestamp"]) - time.time()) < 60
    stamp = request.headers["X-Webhook-Timestamp"]
    expected = hmac.new(endpoint.secret.encode(), f"{stamp}.".encode() + request.body, sha256)
    assert request.headers["X-Webhook-Signature"] == f"sha256={expected.hexdigest()}"
    assert not request.signed_with("whsec_someone-elses-secret")
    assert request.json["type"] == "consent.opt_out"
    assert request.json["data"]["raw_text"] == "STOP"

    [delivery] = _deliveries(endpoint)
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert delivery.attempts == 1 and delivery.last_status_code == 200
    [attempt] = WebhookAttempt.objects.filter(delivery=delivery)
    assert attempt.status_code == 200 and attempt.latency_ms is not None
    assert attempt.response_snippet == '{"received": true}'


def test_after_a_rotation_both_secrets_sign_for_a_while(company, endpoint, receiver):
    old = endpoint.secret
    rotated = rotate_secret(endpoint=endpoint)
    assert rotated.secret != old and rotated.secret.startswith("whsec_")
    record_optout(company=company, address=NUMBER, source="api")
    deliver_endpoint(endpoint_id=endpoint.pk)
    [request] = receiver.received
    assert request.signed_with(rotated.secret) and request.signed_with(old)
    assert len(request.headers["X-Webhook-Signature"].split()) == 2

    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(previous_secret_until=timezone.now())
    send_test_event(endpoint=endpoint)
    deliver_endpoint(endpoint_id=endpoint.pk)
    assert receiver.received[1].signed_with(rotated.secret)
    assert not receiver.received[1].signed_with(old)


def test_a_redirect_is_not_followed_and_counts_as_a_failure(company, endpoint, receiver):
    receiver.answer_next(301, headers={"Location": "http://127.0.0.1:9/elsewhere"})
    record_optout(company=company, address=NUMBER, source="api")

    run = deliver_endpoint(endpoint_id=endpoint.pk)

    assert run.delivered == 0 and run.retry_in is not None
    assert len(receiver.received) == 1
    [delivery] = _deliveries(endpoint)
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert delivery.last_status_code == 301
    assert "Redirects are not followed" in delivery.last_error


def test_an_unreachable_endpoint_is_logged_and_retried(company, owner):
    closed = create_endpoint(company=company, url="http://127.0.0.1:9/hook", created_by=owner)
    record_optout(company=company, address=NUMBER, source="api")
    deliver_endpoint(endpoint_id=closed.pk)
    [delivery] = _deliveries(closed)
    assert delivery.status == WebhookDelivery.Status.PENDING and delivery.attempts == 1
    assert delivery.last_status_code is None
    assert delivery.last_error.startswith("Connection failed")


def test_a_failure_holds_back_the_deliveries_behind_it(company, endpoint, receiver, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 3600
    receiver.answer_next(500)
    first = record_optout(company=company, address=NUMBER, source="api")
    then = record_optin(company=company, address=NUMBER, source="sms_keyword")

    run = deliver_endpoint(endpoint_id=endpoint.pk)
    assert run.delivered == 0 and run.retry_in > 2000
    assert len(receiver.received) == 1
    # Waiting for its retry: nothing goes, the opt-in behind it neither.
    assert deliver_endpoint(endpoint_id=endpoint.pk).delivered == 0
    assert len(receiver.received) == 1

    # A test event tries what waits now, in order: the opt-out, the opt-in, the test.
    send_test_event(endpoint=endpoint)
    assert deliver_endpoint(endpoint_id=endpoint.pk).delivered == 3
    ids = [r.headers["X-Webhook-Id"] for r in receiver.received]
    assert ids[:3] == [f"evt_{first.pk}", f"evt_{first.pk}", f"evt_{then.pk}"]
    assert ids[3].startswith("test_")
    assert [d.status for d in _deliveries(endpoint)] == ["delivered"] * 3


def test_a_dead_endpoint_is_disabled_and_keeps_what_waited(company, endpoint, receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    receiver.default_status = 503
    record_optout(company=company, address=NUMBER, source="api")
    record_optout(company=company, address="+31687654321", source="api")

    for _ in range(4):
        deliver_endpoint(endpoint_id=endpoint.pk)

    endpoint.refresh_from_db()
    assert not endpoint.active
    assert endpoint.disabled_reason.startswith("Disabled after 3 failed attempts in a row")
    assert "HTTP 503" in endpoint.disabled_reason
    assert len(receiver.received) == 3
    first, second = _deliveries(endpoint)
    assert (first.status, first.attempts) == ("failed", 2)
    assert (second.status, second.attempts) == ("pending", 1)
    audit = AuditEvent.objects.get(action=AuditEvent.Action.WEBHOOK_DISABLED, company=company)
    assert audit.details == {"reason": endpoint.disabled_reason}
    # While disabled, new events are not queued for it.
    record_optout(company=company, address="+31600000001", source="api")
    assert len(_deliveries(endpoint)) == 2

    receiver.default_status = 200
    enable_endpoint(endpoint=endpoint)
    assert deliver_endpoint(endpoint_id=endpoint.pk).delivered == 1
    assert _deliveries(endpoint)[1].status == "delivered"


@pytest.mark.django_db(transaction=True)
def test_an_endpoint_removed_while_it_is_posted_to_ends_the_run_quietly(company, receiver):
    endpoint = create_endpoint(company=company, url=receiver.url)
    record_optout(company=company, address=NUMBER, source="api")
    record_optout(company=company, address="+31687654321", source="api")

    def remove_it(request) -> None:
        delete_endpoint(endpoint=WebhookEndpoint.objects.get(pk=endpoint.pk))
        connections.close_all()  # this thread's connection, before the database is flushed

    receiver.on_request = remove_it

    assert deliver_endpoint(endpoint_id=endpoint.pk).delivered == 0
    assert len(receiver.received) == 1
    assert not WebhookDelivery.objects.exists() and not WebhookAttempt.objects.exists()


def test_the_tick_wakes_an_endpoint_only_when_its_oldest_delivery_is_due(
    company, endpoint, receiver, settings
):
    from api.webhooks.sending import due_endpoints

    settings.WEBHOOK_RETRY_BASE_SECONDS = 3600
    receiver.answer_next(500)
    record_optout(company=company, address=NUMBER, source="api")
    assert due_endpoints(now=timezone.now()) == [endpoint.pk]
    deliver_endpoint(endpoint_id=endpoint.pk)  # fails: its retry is in an hour
    record_optout(company=company, address="+31687654321", source="api")  # due, but behind

    assert due_endpoints(now=timezone.now()) == []
    in_two_hours = timezone.now() + timedelta(hours=2)
    assert due_endpoints(now=in_two_hours) == [endpoint.pk]
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False)
    assert due_endpoints(now=in_two_hours) == []


def test_backoff_grows_to_cover_more_than_a_day(settings):
    from api.webhooks import backoff_seconds

    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    waits = [backoff_seconds(n) for n in range(1, 15)]  # between 15 attempts
    assert sum(waits) > 24 * 3600
    assert waits[0] < 60 and max(waits) <= 6 * 3600 * 1.2


def test_the_log_keeps_what_waits_and_what_is_recent(company, endpoint, settings, time_machine):
    settings.WEBHOOK_LOG_DAYS = 30
    time_machine.move_to("2026-01-01T12:00Z")
    old_done = record_optout(company=company, address=NUMBER, source="api")
    old_waiting = record_optout(company=company, address="+31687654321", source="api")
    WebhookDelivery.objects.filter(event=old_done).update(status="delivered")
    time_machine.move_to("2026-02-15T12:00Z")
    recent = record_optout(company=company, address="+31600000001", source="api")
    WebhookDelivery.objects.filter(event=recent).update(status="failed")

    from api.webhooks import prune_log

    prune_log(now=timezone.now())

    kept = {d.event_id for d in _deliveries(endpoint)}
    assert kept == {old_waiting.pk, recent.pk}


# --- where an endpoint may point ------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://0.0.0.0/hook",
        "http://93.184.215.14/hook",
        "ftp://93.184.215.14/hook",
        "https://user:secret@93.184.215.14/hook",
        "https://93.184.215.14:99999/hook",
    ],
)
def test_private_local_and_plain_http_urls_are_refused(company, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(WebhookError):
        create_endpoint(company=company, url=url)
    assert not WebhookEndpoint.objects.exists()


def test_a_public_https_url_is_taken(company, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    endpoint = create_endpoint(company=company, url="https://93.184.215.14/hooks/optout")
    assert endpoint.active and endpoint.events == ["opt_out", "opt_in"]


def test_the_address_is_checked_again_before_each_post(company, endpoint, receiver, settings):
    """An endpoint saved while it was allowed, or whose name now resolves inside."""
    record_optout(company=company, address=NUMBER, source="api")
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    deliver_endpoint(endpoint_id=endpoint.pk)
    assert receiver.received == []
    [delivery] = _deliveries(endpoint)
    assert delivery.last_error.startswith("Not sent: Use an https:// URL")


def test_a_connection_opens_only_to_an_address_checked_when_it_opens(receiver, settings):
    """DNS rebinding: the name is resolved and checked again as the socket opens."""
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    local = receiver.url.replace("127.0.0.1", "localhost")
    with (
        webhook_session() as session,
        pytest.raises(requests.ConnectionError, match="private or local address"),
    ):
        session.post(local, data=b"{}", timeout=3)
    assert receiver.received == []


def test_the_socket_goes_to_the_checked_address_not_a_new_lookup(receiver, settings, monkeypatch):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    port = int(receiver.url.split(":")[2].split("/")[0])
    # A resolver that vouches for a name no DNS knows: were the socket to look the name up
    # again rather than use this answer, the POST could not reach the receiver.
    checked = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
    monkeypatch.setattr(sending, "public_addresses", lambda host, port: checked)
    with webhook_session() as session:
        answer = session.post(f"http://hooks.invalid:{port}/hooks/optout", data=b"{}", timeout=3)
    assert answer.status_code == 200
    [request] = receiver.received
    assert request.headers["Host"] == f"hooks.invalid:{port}"


def test_an_endpoint_must_want_some_event(company):
    with pytest.raises(WebhookError, match="at least one kind of event"):
        create_endpoint(
            company=company,
            url="https://93.184.215.14/h",
            sends_opt_outs=False,
            sends_opt_ins=False,
        )


# --- with a real worker ------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_worker_delivers_an_optout_and_retries_a_500(celery_worker, company, receiver):
    endpoint = create_endpoint(company=company, url=receiver.url)
    receiver.answer_next(500)

    event = record_optout(company=company, address=NUMBER, source="landing_page")

    first, retry = receiver.wait_for(2)
    assert first.body == retry.body
    assert first.headers["X-Webhook-Id"] == retry.headers["X-Webhook-Id"] == f"evt_{event.pk}"
    assert first.signed_with(endpoint.secret) and retry.signed_with(endpoint.secret)

    def delivered():
        return WebhookDelivery.objects.filter(
            endpoint=endpoint, status=WebhookDelivery.Status.DELIVERED
        ).first()

    delivery = _wait(delivered, "the delivery to be marked delivered")
    assert delivery.attempts == 2
    codes = list(delivery.log.order_by("number").values_list("status_code", flat=True))
    assert codes == [500, 200]


@pytest.mark.django_db(transaction=True)
def test_a_worker_disables_a_dead_endpoint(celery_worker, company, receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    receiver.default_status = 500
    endpoint = create_endpoint(company=company, url=receiver.url)

    record_optout(company=company, address=NUMBER, source="api")

    _wait(
        lambda: not WebhookEndpoint.objects.get(pk=endpoint.pk).active,
        "the endpoint to be disabled",
    )
    assert len(receiver.wait_for(3)) == 3
    [delivery] = _deliveries(endpoint)
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert list(delivery.log.values_list("status_code", flat=True)) == [500, 500, 500]


@contextlib.contextmanager
def _publishing_to(url: str):
    """This process's tasks go to ``url``'s broker (Celery keeps its pools: drop them)."""
    conf = celery_app.conf
    saved = {k: conf[k] for k in ("broker_url", "broker_write_url", "broker_transport")}

    def drop_pools() -> None:
        # Forgotten, not closed: kombu keeps one pool per broker URL for the process.
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    drop_pools()
    conf.update(broker_url=url, broker_write_url=None, broker_transport=None)
    try:
        yield
    finally:
        drop_pools()
        conf.update(saved)


@pytest.mark.django_db(transaction=True)
def test_an_optout_while_the_broker_is_down_is_delivered_when_it_is_back(
    company,
    receiver,
    start_worker_process,  # noqa: F811  (the fixture imported above)
    tmp_path,
    caplog,
):
    redis = RedisServer(tmp_path).start()
    try:
        endpoint = create_endpoint(company=company, url=receiver.url)
        env = {
            **redis.env(),
            "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "true",
            "WEBHOOK_TICK_SECONDS": "0.5",
        }
        with _publishing_to(redis.url):
            start_worker_process(env, beat=True)
            redis.stop()
            with caplog.at_level(logging.WARNING, logger="api.webhooks"):
                event = record_optout(company=company, address=NUMBER, source="landing_page")
            # The opt-out stands, its delivery waits in the outbox.
            assert ConsentEvent.objects.filter(pk=event.pk).exists()
            assert "no task queued" in caplog.text
            [delivery] = _deliveries(endpoint)
            assert delivery.status == WebhookDelivery.Status.PENDING
            assert receiver.received == []

            redis.start()
            [request] = receiver.wait_for(1, timeout=60)
    finally:
        redis.stop()
    assert request.headers["X-Webhook-Id"] == f"evt_{event.pk}"
    assert request.signed_with(endpoint.secret)
    _wait(
        lambda: WebhookDelivery.objects.filter(pk=delivery.pk, status="delivered").exists(),
        "the delivery to be marked delivered",
    )


def _wait(predicate, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(0.05)
    raise AssertionError(f"Timed out waiting for {what}")
