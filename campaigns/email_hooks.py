"""The email services' webhooks, through django-anymail: bounce and complaint reports
(tracking) and mail to the unsubscribe mailto: address (inbound).

anymail's views check each request as the service signs it (HTTP basic auth with
``ANYMAIL["WEBHOOK_SECRET"]``, plus Mailgun's HMAC signature and SendGrid's signed events
where configured) and send a signal per event; the receivers below turn each into a call
of a service. Without a webhook secret the URLs answer 404: anymail would otherwise take
unauthenticated requests with only a warning.
"""

import logging
from functools import wraps

from anymail import urls as anymail_urls
from anymail.exceptions import AnymailError
from anymail.signals import AnymailInboundEvent, AnymailTrackingEvent, EventType, RejectReason
from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern

from .models import EmailFeedback

logger = logging.getLogger(__name__)

# The services whose webhooks are mounted (README: Email services).
SERVICES = ("amazon_ses", "mailgun", "postmark", "sendgrid")

# Bounce reports that the service itself calls temporary: a full mailbox, a server that
# did not answer. SES and Postmark say so in their own fields; anymail calls them bounced.
_SES_SOFT = {"Transient", "Undetermined"}
_POSTMARK_SOFT = {"SoftBounce", "Transient", "DnsError", "AutoResponder", "ChallengeVerification"}


class ReceiverFailed(RuntimeError):
    """Our handling of a well-formed report failed (the database, a bug): a 500, so the
    service delivers it again later, never the 400 of a body it sent wrong."""


def _receiver(handle):
    @wraps(handle)
    def receiver(*args, **kwargs) -> None:
        try:
            handle(*args, **kwargs)
        except Exception as exc:
            raise ReceiverFailed(str(exc)) from exc

    return receiver


def _guarded(view):
    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not settings.ANYMAIL.get("WEBHOOK_SECRET"):
            raise Http404
        try:
            return view(request, *args, **kwargs)
        except (AnymailError, ValueError, KeyError, TypeError, AttributeError) as exc:
            # A body anymail cannot read: the service is told it is wrong, not that we
            # failed (which it would retry for days).
            logger.warning("Email webhook %s refused: %s", request.path, type(exc).__name__)
            return JsonResponse({"error": "Unreadable webhook body."}, status=400)

    return guarded


email_hook_patterns = [
    URLPattern(pattern.pattern, _guarded(pattern.callback), name=pattern.name)
    for pattern in anymail_urls.urlpatterns
    if pattern.name.rsplit("_", 2)[0] in SERVICES
]


def _kind(event: AnymailTrackingEvent, esp_name: str) -> str | None:
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    if event.event_type == EventType.COMPLAINED:
        return EmailFeedback.Kind.COMPLAINT
    if event.event_type == EventType.DEFERRED:
        return EmailFeedback.Kind.SOFT_BOUNCE
    if event.event_type == EventType.BOUNCED:
        if esp_name == "Amazon SES" and raw.get("bounce", {}).get("bounceType") in _SES_SOFT:
            return EmailFeedback.Kind.SOFT_BOUNCE
        if esp_name == "Postmark" and raw.get("Type") in _POSTMARK_SOFT:
            return EmailFeedback.Kind.SOFT_BOUNCE
        if esp_name == "SendGrid" and raw.get("type") == "blocked":
            return EmailFeedback.Kind.SOFT_BOUNCE
        return EmailFeedback.Kind.HARD_BOUNCE
    # The service refused to send because the address bounced before (its own list).
    if event.event_type == EventType.REJECTED and event.reject_reason == RejectReason.BOUNCED:
        return EmailFeedback.Kind.HARD_BOUNCE
    return None


@_receiver
def on_tracking(sender, event: AnymailTrackingEvent, esp_name: str, **kwargs) -> None:
    from .services.feedback import EmailReport, record_email_report

    kind = _kind(event, esp_name)
    if kind is None or not event.recipient:
        return  # delivered, opened, clicked…: nothing to act on
    record_email_report(
        report=EmailReport(
            esp=esp_name,
            kind=kind,
            recipient=event.recipient,
            message_id=event.message_id or "",
            metadata=event.metadata or {},
            event_id=event.event_id or "",
            description=event.description or event.mta_response or "",
        )
    )


@_receiver
def on_inbound(sender, event: AnymailInboundEvent, esp_name: str, **kwargs) -> None:
    from .services.feedback import record_mailto_unsubscribe

    message = event.message
    if message is None:
        return
    recipients = [a.addr_spec for a in message.to + message.cc]
    if message.envelope_recipient:
        recipients.insert(0, message.envelope_recipient)
    sender_address = message.from_email.addr_spec if message.from_email else ""
    record_mailto_unsubscribe(
        recipients=recipients, subject=message.subject or "", sender=sender_address
    )


@register()
def mailto_is_carried_out(app_configs, **kwargs) -> list[Error]:
    """List-Unsubscribe offers UNSUBSCRIBE_MAILTO only if a mail to it can reach us: an
    address, and inbound webhooks that accept the service's requests."""
    address = settings.UNSUBSCRIBE_MAILTO
    if not address:
        return []
    try:
        validate_email(address)
    except ValidationError:
        return [
            Error(
                f"UNSUBSCRIBE_MAILTO ({address!r}) is not an email address.",
                id="campaigns.E002",
            )
        ]
    if "+" in address.partition("@")[0]:
        return [
            Error(
                "UNSUBSCRIBE_MAILTO must not contain '+': each message adds its own token "
                "after one.",
                id="campaigns.E003",
            )
        ]
    if not settings.ANYMAIL.get("WEBHOOK_SECRET"):
        return [
            Error(
                "UNSUBSCRIBE_MAILTO is set but ANYMAIL_WEBHOOK_SECRET is not, so the inbound "
                "webhook that carries those unsubscribes out answers 404: marketing email "
                "would offer an unsubscribe that does nothing.",
                hint="Set ANYMAIL_WEBHOOK_SECRET and route the address's inbound mail to "
                "/hooks/email/<service>/inbound/, or leave UNSUBSCRIBE_MAILTO empty.",
                id="campaigns.E001",
            )
        ]
    return []
