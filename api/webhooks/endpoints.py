"""Webhook endpoints: where a company's consent events go, as owners set them up.

Where an endpoint may point is checked here (``check_destination``), when it is saved and
again before every POST.
"""

import ipaddress
import secrets
import socket
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.utils import timezone

from addressbook.models import AuditEvent, Company
from addressbook.services.audit import record_audit

from ..models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, new_endpoint_secret
from .outbox import enqueue_after_commit, timestamp_of

# Every opt-out writes a row per endpoint: a few endpoints per company are plenty.
ENDPOINTS_PER_COMPANY = 10
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


class WebhookError(ValueError):
    """What an owner asked for cannot be done; the message says why, for the screen."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


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
    if not allow_private:
        public_addresses(host, port or (443 if parts.scheme == "https" else 80))


def public_addresses(host: str, port: int) -> list[tuple]:
    """What ``host`` resolves to (``getaddrinfo`` tuples), when every address is public.

    Also called when a connection opens (api.webhooks.sending), so a name that resolved
    to a public address when checked and to a private one a moment later is refused too.
    """
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
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
    return found


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
        enqueue_after_commit([endpoint.pk])
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
                "created_at": timestamp_of(now),
                "data": {
                    "message": "A test event, sent from the webhooks screen.",
                    "endpoint_id": endpoint.pk,
                    "company_id": endpoint.company_id,
                    "requested_by": actor.get_username() if actor else api_key,
                },
            },
            next_attempt_at=now,
        )
        enqueue_after_commit([endpoint.pk])
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
