"""Sending: an endpoint's due deliveries, one at a time and oldest first, signed.

Per endpoint, deliveries go out under a lease on the endpoint (``busy_until``), so two
workers never post to one endpoint at once, and a failure holds back the ones behind it:
an endpoint hears of an opt-out and the opt-in after it in that order. At least once: a
receiver recognises a delivery it has seen by ``X-Webhook-Id``.
"""

import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
import requests.adapters
import urllib3
import urllib3.connection
import urllib3.exceptions
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone

from addressbook.models import AuditEvent
from addressbook.services.audit import record_audit
from optout.webhooks import sign

from ..models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .endpoints import WebhookError, check_destination, public_addresses
from .outbox import enqueue_deliveries

logger = logging.getLogger(__name__)

ID_HEADER = "X-Webhook-Id"
TIMESTAMP_HEADER = "X-Webhook-Timestamp"
SIGNATURE_HEADER = "X-Webhook-Signature"
USER_AGENT = "Optout-Webhooks/1"
# A worker owns an endpoint this long without renewing (before every POST); longer than
# one POST can take (connect + read timeouts), so a live worker never loses it.
LEASE_SECONDS = 60
# Deliveries one task sends before it hands the endpoint back (and asks for another task).
DELIVERIES_PER_RUN = 100
BACKOFF_CAP_SECONDS = 6 * 3600
SNIPPET_CHARACTERS = 500


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


class _Pinned:
    """A connection that opens only to the public address its host was checked to have.

    ``check_destination`` resolves the name before each POST; the name could resolve to
    a private address a moment later (DNS rebinding). So the socket is opened to an
    address checked here, at connection time, while TLS still verifies the host name.
    """

    def _new_conn(self):
        if settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
            return super()._new_conn()
        try:
            [(*_, sockaddr), *_] = public_addresses(self._dns_host, self.port)
        except WebhookError as exc:
            raise urllib3.exceptions.NewConnectionError(self, str(exc)) from None
        name, self._dns_host = self._dns_host, str(sockaddr[0])
        try:
            return super()._new_conn()
        finally:
            self._dns_host = name


class _PinnedHTTPConnection(_Pinned, urllib3.connection.HTTPConnection):
    pass


class _PinnedHTTPSConnection(_Pinned, urllib3.connection.HTTPSConnection):
    pass


class _PinnedHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _PinnedHTTPConnection


class _PinnedHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _PinnedHTTPSConnection


class _PinnedAdapter(requests.adapters.HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _PinnedHTTPPool,
            "https": _PinnedHTTPSPool,
        }


def webhook_session() -> requests.Session:
    """The HTTP client of the deliveries: pinned connections, nothing from the environment."""
    session = requests.Session()
    # No proxies, netrc or CA bundle from the environment: only what we decide goes to a
    # customer's URL.
    session.trust_env = False
    adapter = _PinnedAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def deliver_endpoint(*, endpoint_id: int) -> Run:
    """Send an endpoint's due deliveries, oldest first, stopping at the first failure."""
    lease = _take_lease(endpoint_id)
    if lease is None:
        return Run()  # another worker is on it, or the endpoint is gone or disabled
    delivered = 0
    try:
        with webhook_session() as session:
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
                if not claimed:  # another worker holds it: leave the endpoint to it
                    return Run(delivered=delivered)
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
        except Exception:  # the status line came: it decides; the body is only for the log
            raw = b""
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
            action=AuditEvent.Action.WEBHOOK_DISABLED,
            obj=endpoint,
            details={"reason": reason},
        )


def deliver_due() -> int:
    """The tick: a task for every endpoint whose next delivery is due; the log pruned."""
    now = timezone.now()
    endpoint_ids = due_endpoints(now=now)
    enqueue_deliveries(endpoint_ids=endpoint_ids)
    prune_log(now=now)
    return len(endpoint_ids)


def due_endpoints(*, now: datetime) -> list[int]:
    """Active, free endpoints whose oldest pending delivery is due.

    Only the oldest counts: the ones behind a delivery that waits for its retry wait too.
    One index probe per active endpoint, and there are a few per company.
    """
    head = (
        WebhookDelivery.objects.filter(
            endpoint=OuterRef("pk"), status=WebhookDelivery.Status.PENDING
        )
        .order_by("id")
        .values("next_attempt_at")[:1]
    )
    return list(
        WebhookEndpoint.objects.filter(active=True)
        .filter(Q(busy_until__isnull=True) | Q(busy_until__lt=now))
        .annotate(head_due_at=Subquery(head))
        .filter(head_due_at__lte=now)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


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
