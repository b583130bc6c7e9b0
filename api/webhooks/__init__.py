"""Opt-out webhooks out: every consent event, pushed to the company's own endpoints.

The outbox: ``queue_deliveries`` runs inside the transaction that records a consent event
(``OPTOUT_EVENT_SUBSCRIBERS``) and writes one ``WebhookDelivery`` per active endpoint, so a
delivery exists exactly when its event does, whether the broker is up or not. After the
commit a task is asked to send it; the tick (beat) sends whatever is due, so a lost task
or a stopped broker only delays a delivery.

Per endpoint, deliveries go out one at a time and oldest first, under a lease on the
endpoint (``busy_until``): a failure holds back the ones behind it, so an endpoint hears of
an opt-out and the opt-in after it in that order. At least once: a receiver recognises a
delivery it has seen by ``X-Webhook-Id``.

Each request is ``POST`` JSON signed as the gateway's webhooks to us are (optout.webhooks):
``X-Webhook-Timestamp: <unix seconds>`` and ``X-Webhook-Signature: sha256=<hex HMAC-SHA256
of "<timestamp>.<body>">`` with the endpoint's secret (and, for a day after a rotation, a
second ``sha256=…`` with the old one, separated by a space).
"""

import ipaddress
import json
import logging
import random
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from addressbook.models import AuditEvent, Company
from addressbook.services.audit import record_audit
from optout.models import ConsentEvent
from optout.webhooks import sign

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, new_endpoint_secret

logger = logging.getLogger(__name__)

ID_HEADER = "X-Webhook-Id"
TIMESTAMP_HEADER = "X-Webhook-Timestamp"
SIGNATURE_HEADER = "X-Webhook-Signature"
USER_AGENT = "Optout-Webhooks/1"
# Every opt-out writes a row per endpoint: a few endpoints per company are plenty.
ENDPOINTS_PER_COMPANY = 10
# A worker owns an endpoint this long without renewing (before every POST); longer than
# one POST can take (connect + read timeouts), so a live worker never loses it.
LEASE_SECONDS = 60
# Deliveries one task sends before it hands the endpoint back (and asks for another task).
DELIVERIES_PER_RUN = 100
BACKOFF_CAP_SECONDS = 6 * 3600
SNIPPET_CHARACTERS = 500
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
KIND_OF_EVENT = {
    ConsentEvent.Kind.OPT_OUT: WebhookDelivery.Kind.OPT_OUT,
    ConsentEvent.Kind.OPT_IN: WebhookDelivery.Kind.OPT_IN,
}
WANTS_EVENT = {
    ConsentEvent.Kind.OPT_OUT: "sends_opt_outs",
    ConsentEvent.Kind.OPT_IN: "sends_opt_ins",
}


class WebhookError(ValueError):
    """What an owner asked for cannot be done; the message says why, for the screen."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


# --- endpoints -------------------------------------------------------------------------
def endpoints_of(*, company: Company) -> QuerySet[WebhookEndpoint]:
    """The company's endpoints, each with its newest delivery's status and time."""
    newest = WebhookDelivery.objects.filter(endpoint=OuterRef("pk")).order_by("-id")
    return (
        WebhookEndpoint.objects.filter(company=company)
        .annotate(
            last_status=Subquery(newest.values("status")[:1]),
            last_delivery_at=Subquery(newest.values("created_at")[:1]),
        )
        .order_by("created_at", "id")
    )


def deliveries_of(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """An endpoint's delivery log, newest first, each with its attempts, newest first."""
    attempts = WebhookAttempt.objects.filter(company_id=endpoint.company_id).order_by("-id")
    return (
        WebhookDelivery.objects.filter(company_id=endpoint.company_id, endpoint=endpoint)
        .order_by("-id")
        .prefetch_related(Prefetch("log", queryset=attempts))
    )


def check_destination(url: str) -> None:
    """Refuse a URL that is not https, or whose host is this machine or a private network.

    Checked when an endpoint is saved and again before every POST, since what a name
    resolves to can change. ``WEBHOOK_ALLOW_PRIVATE_ADDRESSES`` lifts the address check and
    allows plain http to localhost.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError as exc:  # a bad port or IPv6 literal
        raise WebhookError(f"This is not a URL we can post to: {exc}.", field="url") from None
    allow_private = settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES
    if parts.scheme == "http" and not (allow_private and host in LOCAL_HOSTS):
        raise WebhookError("Use an https:// URL: events carry people's phone numbers.", field="url")
    if parts.scheme not in ("http", "https") or not host:
        raise WebhookError("Use an https:// URL with a host name.", field="url")
    if parts.username or parts.password:
        raise WebhookError(
            "Leave user names and passwords out of the URL: check the signature instead.",
            field="url",
        )
    if allow_private:
        return
    try:
        found = socket.getaddrinfo(host, port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):
        raise WebhookError(f"{host} cannot be resolved to an address.", field="url") from None
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not address.is_global or address.is_multicast:
            raise WebhookError(
                f"{host} is a private or local address ({address}): an endpoint must be "
                "reachable on the public internet.",
                field="url",
            )


def _by(details: dict, api_key: str) -> dict:
    # Done through the API: the audit log names the key, as it does for campaigns.
    return {**details, "api_key": api_key} if api_key else details


def _check_events(*, sends_opt_outs: bool, sends_opt_ins: bool) -> None:
    if not (sends_opt_outs or sends_opt_ins):
        raise WebhookError("Choose at least one kind of event to send.")


def create_endpoint(
    *,
    company: Company,
    url: str,
    description: str = "",
    sends_opt_outs: bool = True,
    sends_opt_ins: bool = True,
    created_by: AbstractBaseUser | None = None,
    ip: str | None = None,
    api_key: str = "",
) -> WebhookEndpoint:
    url = url.strip()
    check_destination(url)
    _check_events(sends_opt_outs=sends_opt_outs, sends_opt_ins=sends_opt_ins)
    if endpoints_of(company=company).count() >= ENDPOINTS_PER_COMPANY:
        raise WebhookError(
            f"A company has at most {ENDPOINTS_PER_COMPANY} endpoints: remove one first."
        )
    endpoint = WebhookEndpoint.objects.create(
        company=company,
        url=url,
        description=description.strip(),
        sends_opt_outs=sends_opt_outs,
        sends_opt_ins=sends_opt_ins,
        created_by=created_by,
    )
    record_audit(
        company=company,
        action=AuditEvent.Action.WEBHOOK_ADDED,
        actor=created_by,
        obj=endpoint,
        details=_by({"events": endpoint.events}, api_key),
        ip=ip,
    )
    return endpoint


def update_endpoint(
    *,
    endpoint: WebhookEndpoint,
    url: str,
    description: str,
    sends_opt_outs: bool,
    sends_opt_ins: bool,
    actor: AbstractBaseUser | None = None,
    ip: str | None = None,
    api_key: str = "",
) -> WebhookEndpoint:
    url = url.strip()
    if url != endpoint.url:
        check_destination(url)
    _check_events(sends_opt_outs=sends_opt_outs, sends_opt_ins=sends_opt_ins)
    before = {
        "url": endpoint.url,
        "description": endpoint.description,
        "events": endpoint.events,
    }
    endpoint.url = url
    endpoint.description = description.strip()
    endpoint.sends_opt_outs = sends_opt_outs
    endpoint.sends_opt_ins = sends_opt_ins
    endpoint.save(update_fields=["url", "description", "sends_opt_outs", "sends_opt_ins"])
    after = {"url": endpoint.url, "description": endpoint.description, "events": endpoint.events}
    changed = {name: after[name] for name in after if after[name] != before[name]}
    if changed:
        record_audit(
            company=endpoint.company,
            action=AuditEvent.Action.WEBHOOK_CHANGED,
            actor=actor,
            obj=endpoint,
            details=_by(changed, api_key),
            ip=ip,
        )
    return endpoint


def rotate_secret(
    *,
    endpoint: WebhookEndpoint,
    actor: AbstractBaseUser | None = None,
    ip: str | None = None,
    api_key: str = "",
) -> WebhookEndpoint:
    """A new secret signs from now on; the old one also signs for WEBHOOK_OLD_SECRET_HOURS."""
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = timezone.now() + timedelta(
        hours=settings.WEBHOOK_OLD_SECRET_HOURS
    )
    endpoint.secret = new_endpoint_secret()
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
    record_audit(
        company=endpoint.company,
        action=AuditEvent.Action.WEBHOOK_CHANGED,
        actor=actor,
        obj=endpoint,
        details=_by({"secret": "rotated"}, api_key),
        ip=ip,
    )
    return endpoint


def delete_endpoint(
    *,
    endpoint: WebhookEndpoint,
    actor: AbstractBaseUser | None = None,
    ip: str | None = None,
    api_key: str = "",
) -> None:
    """The endpoint and its log go; the consent events stay, in the events feed."""
    record_audit(
        company=endpoint.company,
        action=AuditEvent.Action.WEBHOOK_REMOVED,
        actor=actor,
        obj=endpoint,
        details=_by({}, api_key),
        ip=ip,
    )
    company_id = endpoint.company_id
    with transaction.atomic():
        WebhookAttempt.objects.filter(company_id=company_id, delivery__endpoint=endpoint).delete()
        WebhookDelivery.objects.filter(company_id=company_id, endpoint=endpoint).delete()
        WebhookEndpoint.objects.filter(company_id=company_id, pk=endpoint.pk).delete()


def enable_endpoint(
    *,
    endpoint: WebhookEndpoint,
    actor: AbstractBaseUser | None = None,
    ip: str | None = None,
    api_key: str = "",
) -> WebhookEndpoint:
    """Send to a disabled endpoint again, starting with what was waiting for it."""
    if endpoint.active:
        return endpoint
    with transaction.atomic():
        WebhookEndpoint.objects.filter(company_id=endpoint.company_id, pk=endpoint.pk).update(
            active=True, disabled_at=None, disabled_reason="", consecutive_failures=0
        )
        _due_now(endpoint)
        record_audit(
            company=endpoint.company,
            action=AuditEvent.Action.WEBHOOK_CHANGED,
            actor=actor,
            obj=endpoint,
            details=_by({"enabled": True}, api_key),
            ip=ip,
        )
        _enqueue_after_commit([endpoint.pk])
    endpoint.refresh_from_db()
    return endpoint


def send_test_event(
    *, endpoint: WebhookEndpoint, actor: AbstractBaseUser | None = None, api_key: str = ""
) -> WebhookDelivery:
    """Queue a ``test`` event; whatever else waits for a retry is tried now too."""
    if not endpoint.active:
        raise WebhookError("This endpoint is disabled: enable it to send it events again.")
    now = timezone.now()
    with transaction.atomic():
        _due_now(endpoint)
        delivery = WebhookDelivery.objects.create(
            company_id=endpoint.company_id,
            endpoint=endpoint,
            kind=WebhookDelivery.Kind.TEST,
            payload={
                "id": f"test_{secrets.token_hex(8)}",
                "type": WebhookDelivery.Kind.TEST,
                "created_at": _timestamp(now),
                "data": {
                    "message": "A test event, sent from the webhooks screen.",
                    "endpoint_id": endpoint.pk,
                    "company_id": endpoint.company_id,
                    "requested_by": actor.get_username() if actor else api_key,
                },
            },
            next_attempt_at=now,
        )
        _enqueue_after_commit([endpoint.pk])
    return delivery


def _due_now(endpoint: WebhookEndpoint) -> None:
    # Safe while a worker is posting: the endpoint's lease, not this time, keeps two
    # workers apart.
    WebhookDelivery.objects.filter(
        company_id=endpoint.company_id,
        endpoint=endpoint,
        status=WebhookDelivery.Status.PENDING,
        next_attempt_at__gt=timezone.now(),
    ).update(next_attempt_at=timezone.now())


# --- the outbox ----------------------------------------------------------------------------
def queue_deliveries(*, event: ConsentEvent) -> None:
    """Inside the event's transaction: a delivery for every active endpoint that wants it.

    Every opt-out comes here, the landing page's too: a company without endpoints costs
    one indexed query and nothing else.
    """
    wanted = WANTS_EVENT.get(event.kind)
    if wanted is None:
        return
    endpoint_ids = list(
        WebhookEndpoint.objects.filter(
            company_id=event.company_id, active=True, **{wanted: True}
        ).values_list("pk", flat=True)
    )
    if not endpoint_ids:
        return
    payload = event_payload(event)
    try:
        # A savepoint: were the outbox ever unwritable, the opt-out still stands.
        with transaction.atomic():
            WebhookDelivery.objects.bulk_create(
                [
                    WebhookDelivery(
                        company_id=event.company_id,
                        endpoint_id=endpoint_id,
                        event=event,
                        kind=KIND_OF_EVENT[event.kind],
                        payload=payload,
                        next_attempt_at=event.created_at,
                    )
                    for endpoint_id in endpoint_ids
                ]
            )
    except DatabaseError:
        logger.exception("Consent event %s: its webhook deliveries were not written", event.pk)
        return
    _enqueue_after_commit(endpoint_ids)


def event_payload(event: ConsentEvent) -> dict:
    """The body of a consent event's delivery: what happened, to which address, and how."""
    return {
        "id": f"evt_{event.pk}",
        "type": KIND_OF_EVENT[event.kind],
        "created_at": _timestamp(event.created_at),
        "data": {
            "event_id": event.pk,
            "company_id": event.company_id,
            "kind": event.kind,
            "address": event.address,
            "channel": "email" if "@" in event.address else "sms",
            "source": event.source,
            "campaign_id": event.campaign_id,
            "reason": event.reason,
            "reason_text": event.reason_text,
            "raw_text": event.raw_text,
        },
    }


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _enqueue_after_commit(endpoint_ids: list[int]) -> None:
    transaction.on_commit(lambda: enqueue_deliveries(endpoint_ids=endpoint_ids))


def enqueue_deliveries(*, endpoint_ids: list[int], countdown: float | None = None) -> None:
    """Ask a worker to send; a broker that is down only delays it until the tick."""
    from .tasks import deliver_endpoint_task

    for endpoint_id in endpoint_ids:
        try:
            # No publish retries: an opt-out must not wait on a broker that is down.
            deliver_endpoint_task.apply_async((endpoint_id,), countdown=countdown, retry=False)
        except Exception as exc:
            # The opt-out is recorded and its delivery is in the outbox: the tick sends it.
            logger.warning(
                "Webhook endpoint %s: no task queued (%s: %s); the tick will send its deliveries",
                endpoint_id,
                type(exc).__name__,
                exc,
            )


# --- sending -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    started_at: datetime
    status_code: int | None = None
    latency_ms: int | None = None
    error: str = ""
    snippet: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True)
class Run:
    delivered: int = 0
    # Seconds until the endpoint's next retry, when a delivery has just failed.
    retry_in: float | None = None
    # The run stopped at its limit with more due.
    more: bool = False


def backoff_seconds(attempt: int) -> float:
    """Wait after failed attempt ``attempt`` (1, 2, …): doubling, capped, ±20% at random."""
    base = min(BACKOFF_CAP_SECONDS, settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (attempt - 1))
    # Jitter spreads the retries of many endpoints that failed at the same moment.
    return base * random.uniform(0.8, 1.2)


def deliver_endpoint(*, endpoint_id: int) -> Run:
    """Send an endpoint's due deliveries, oldest first, stopping at the first failure."""
    lease = _take_lease(endpoint_id)
    if lease is None:
        return Run()  # another worker is on it, or the endpoint is gone or disabled
    delivered = 0
    try:
        with requests.Session() as session:
            # No proxies, netrc or CA bundle from the environment: only what we decide
            # goes to a customer's URL.
            session.trust_env = False
            for _ in range(DELIVERIES_PER_RUN):
                endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id, active=True).first()
                if endpoint is None:
                    return Run(delivered=delivered)
                head = (
                    WebhookDelivery.objects.filter(
                        company_id=endpoint.company_id,
                        endpoint=endpoint,
                        status=WebhookDelivery.Status.PENDING,
                    )
                    .order_by("id")
                    .first()
                )
                if head is None:
                    return Run(delivered=delivered)
                wait = (head.next_attempt_at - timezone.now()).total_seconds()
                if wait > 0:
                    return Run(delivered=delivered, retry_in=wait)
                lease = _renew_lease(endpoint_id, lease)
                if lease is None:
                    return Run(delivered=delivered)
                # The row's own claim: only one attempt numbered n is ever made.
                number = head.attempts + 1
                claimed = WebhookDelivery.objects.filter(
                    pk=head.pk, status=WebhookDelivery.Status.PENDING, attempts=head.attempts
                ).update(attempts=number)
                if not claimed:
                    continue
                outcome = post_delivery(session=session, endpoint=endpoint, delivery=head)
                try:
                    retry_in = _record(
                        endpoint=endpoint, delivery=head, number=number, outcome=outcome
                    )
                except IntegrityError:
                    # An owner removed the endpoint, and its log, while we posted to it.
                    return Run(delivered=delivered)
                if not outcome.ok:
                    return Run(delivered=delivered, retry_in=retry_in)
                delivered += 1
            return Run(delivered=delivered, more=True)
    finally:
        WebhookEndpoint.objects.filter(pk=endpoint_id, busy_until=lease).update(busy_until=None)


def _take_lease(endpoint_id: int) -> datetime | None:
    now = timezone.now()
    lease = now + timedelta(seconds=LEASE_SECONDS)
    taken = (
        WebhookEndpoint.objects.filter(pk=endpoint_id, active=True)
        .filter(Q(busy_until__isnull=True) | Q(busy_until__lt=now))
        .update(busy_until=lease)
    )
    return lease if taken else None


def _renew_lease(endpoint_id: int, lease: datetime) -> datetime | None:
    renewed = timezone.now() + timedelta(seconds=LEASE_SECONDS)
    kept = WebhookEndpoint.objects.filter(pk=endpoint_id, busy_until=lease).update(
        busy_until=renewed
    )
    return renewed if kept else None


def signature_header(*, endpoint: WebhookEndpoint, body: bytes, timestamp: int) -> str:
    signatures = [sign(body, endpoint.secret, timestamp)]
    until = endpoint.previous_secret_until
    if endpoint.previous_secret and until is not None and until > timezone.now():
        signatures.append(sign(body, endpoint.previous_secret, timestamp))
    return " ".join(signatures)


def post_delivery(
    *, session: requests.Session, endpoint: WebhookEndpoint, delivery: WebhookDelivery
) -> Outcome:
    """One POST: signed when sent, no redirects followed, short timeouts."""
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
    stamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        ID_HEADER: str(delivery.payload.get("id", delivery.pk)),
        TIMESTAMP_HEADER: str(stamp),
        SIGNATURE_HEADER: signature_header(endpoint=endpoint, body=body, timestamp=stamp),
    }
    started_at = timezone.now()
    began = time.monotonic()

    def spent() -> int:
        return round((time.monotonic() - began) * 1000)

    try:
        check_destination(endpoint.url)
        response = session.post(
            endpoint.url,
            data=body,
            headers=headers,
            timeout=(settings.WEBHOOK_CONNECT_TIMEOUT, settings.WEBHOOK_READ_TIMEOUT),
            allow_redirects=False,
            stream=True,
        )
        try:
            raw = response.raw.read(SNIPPET_CHARACTERS * 4, decode_content=True) or b""
        finally:
            response.close()
    except WebhookError as exc:
        return Outcome(started_at=started_at, error=f"Not sent: {exc}")
    except requests.exceptions.ConnectTimeout:
        error = f"No connection within {settings.WEBHOOK_CONNECT_TIMEOUT:g} s."
        return Outcome(started_at=started_at, latency_ms=spent(), error=error)
    except requests.exceptions.ReadTimeout:
        error = f"No answer within {settings.WEBHOOK_READ_TIMEOUT:g} s."
        return Outcome(started_at=started_at, latency_ms=spent(), error=error)
    except requests.exceptions.SSLError as exc:
        return Outcome(started_at=started_at, latency_ms=spent(), error=_short(f"TLS: {exc}"))
    except requests.exceptions.ConnectionError as exc:
        error = _short(f"Connection failed: {exc}")
        return Outcome(started_at=started_at, latency_ms=spent(), error=error)
    except Exception as exc:  # urllib3's and requests' many other ways of failing
        error = _short(f"{type(exc).__name__}: {exc}")
        return Outcome(started_at=started_at, latency_ms=spent(), error=error)
    code = response.status_code
    error = ""
    if 300 <= code < 400:
        error = "Redirects are not followed: post to the final URL."
    elif not 200 <= code < 300:
        error = f"HTTP {code}"
    return Outcome(
        started_at=started_at,
        status_code=code,
        latency_ms=spent(),
        error=error,
        snippet=_text(raw.decode("utf-8", errors="replace"))[:SNIPPET_CHARACTERS],
    )


def _text(value: str) -> str:
    # PostgreSQL stores no NUL in text; an endpoint may answer anything.
    return value.replace("\x00", "")


def _short(value: str) -> str:
    return _text(value)[:255]


def _record(
    *, endpoint: WebhookEndpoint, delivery: WebhookDelivery, number: int, outcome: Outcome
) -> float | None:
    """Log the attempt and move the delivery on; returns seconds to the next retry."""
    now = timezone.now()
    retry_in = None
    with transaction.atomic():
        WebhookAttempt.objects.create(
            company_id=delivery.company_id,
            delivery=delivery,
            number=number,
            started_at=outcome.started_at,
            status_code=outcome.status_code,
            latency_ms=outcome.latency_ms,
            error=outcome.error,
            response_snippet=outcome.snippet,
        )
        last = {
            "last_status_code": outcome.status_code,
            "last_error": outcome.error,
            "last_latency_ms": outcome.latency_ms,
        }
        deliveries = WebhookDelivery.objects.filter(pk=delivery.pk)
        endpoints = WebhookEndpoint.objects.filter(pk=endpoint.pk)
        if outcome.ok:
            deliveries.update(status=WebhookDelivery.Status.DELIVERED, delivered_at=now, **last)
            endpoints.update(consecutive_failures=0)
            return None
        if number >= settings.WEBHOOK_MAX_ATTEMPTS:
            deliveries.update(status=WebhookDelivery.Status.FAILED, **last)
            retry_in = 0.0  # the next delivery in line may go now
        else:
            retry_in = backoff_seconds(number)
            deliveries.update(next_attempt_at=now + timedelta(seconds=retry_in), **last)
        endpoints.update(consecutive_failures=F("consecutive_failures") + 1)
        failures = endpoints.values_list("consecutive_failures", flat=True).first() or 0
        if failures >= settings.WEBHOOK_DISABLE_AFTER_FAILURES:
            _disable(endpoint=endpoint, failures=failures, outcome=outcome, now=now)
            return None
    return retry_in


def _disable(*, endpoint: WebhookEndpoint, failures: int, outcome: Outcome, now) -> None:
    last = outcome.error or f"HTTP {outcome.status_code}"
    reason = _short(
        f"Disabled after {failures} failed attempts in a row (the last: {last}). Events "
        "recorded while it is disabled are not sent to it."
    )
    disabled = WebhookEndpoint.objects.filter(pk=endpoint.pk, active=True).update(
        active=False, disabled_at=now, disabled_reason=reason
    )
    if disabled:
        logger.warning("Webhook endpoint %s disabled: %s", endpoint.pk, reason)
        record_audit(
            company=endpoint.company,
            action=AuditEvent.Action.WEBHOOK_CHANGED,
            obj=endpoint,
            details={"disabled": reason},
        )


def deliver_due() -> int:
    """The tick: a task for every active endpoint with a delivery due; the log pruned."""
    now = timezone.now()
    endpoint_ids = sorted(
        set(
            WebhookDelivery.objects.filter(
                status=WebhookDelivery.Status.PENDING,
                next_attempt_at__lte=now,
                endpoint__active=True,
            )
            .filter(Q(endpoint__busy_until__isnull=True) | Q(endpoint__busy_until__lt=now))
            .values_list("endpoint_id", flat=True)
            .distinct()
        )
    )
    enqueue_deliveries(endpoint_ids=endpoint_ids)
    prune_log(now=now)
    return len(endpoint_ids)


def prune_log(*, now: datetime) -> None:
    """Delivered and failed deliveries older than WEBHOOK_LOG_DAYS go, a batch per tick."""
    old = WebhookDelivery.objects.filter(
        created_at__lt=now - timedelta(days=settings.WEBHOOK_LOG_DAYS),
        status__in=[WebhookDelivery.Status.DELIVERED, WebhookDelivery.Status.FAILED],
    )
    ids = list(old.values_list("pk", flat=True)[:1000])
    if ids:
        WebhookAttempt.objects.filter(delivery_id__in=ids).delete()
        WebhookDelivery.objects.filter(pk__in=ids).delete()
