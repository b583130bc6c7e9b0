"""Double opt-in: a person who asked to hear from a company again confirms it themself.

The company sends one transactional message to the suppressed address: what the person
agrees to and a link to a page on the short host (``/c/<token>``), and by SMS "or reply
START" where replies reach us. The address comes back only when the person presses the
button on that page (a GET never confirms: scanners open links) or replies START; until
then nothing about their consent changes. The opt-in is an event of the person's own
(source ``double_opt_in``) carrying the message's exact wording as its proof.

It is only for a person who asked to come back (at the counter, in a letter, on the phone).
Writing to someone who opted out to ask them to opt back in would itself be direct
marketing (ICO guidance, research/compliance.md §5 [100]), so a request says it answers
theirs, and it is rationed so that it cannot be used to pester anyone:

- one open request per address (a second is refused, saying until when the first works);
- at most ``REQUESTS_PER_ADDRESS`` requests per address in ``REQUESTS_WINDOW``;
- none in the ``QUIET_AFTER_OPTOUT`` after the address's latest opt-out: the person has
  just had the one confirmation of their opt-out that they may get (FCC 47 CFR
  64.1200(a)(12) allows exactly one, with nothing else in it; research §1 US), and the
  landing page still offers them "undo" for that long.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from addressbook.addresses import country_of, is_email, mask_phone
from addressbook.models import Company
from addressbook.services.audit import Action, record_audit

from .consent import PERSON, Actor, Proof, Seen
from .languages import language_for
from .models import (
    ConsentEvent,
    ConsentMethod,
    CountryRule,
    DedicatedNumber,
    OptinRequest,
    Source,
    Suppression,
)
from .services import note_marketing_sent, record_optin

logger = logging.getLogger(__name__)

# The audit log's name for a request (AuditEvent.Action has no member for it yet).
OPTIN_TTL = timedelta(days=7)
QUIET_AFTER_OPTOUT = timedelta(minutes=30)
REQUESTS_PER_ADDRESS = 2
REQUESTS_WINDOW = timedelta(days=30)

Channel = OptinRequest.Channel
Status = OptinRequest.Status
_METHOD = {
    Channel.SMS: ConsentMethod.DOUBLE_OPT_IN_SMS,
    Channel.EMAIL: ConsentMethod.DOUBLE_OPT_IN_EMAIL,
}


class OptinRefused(ValueError):
    """A double opt-in that may not be started; the message says why and what to do.

    ``code`` names the reason for programs: not_suppressed, wrong_channel, pending,
    limit, too_soon.
    """

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.code = code


class OptinNotSent(RuntimeError):
    """The confirmation could not be sent; nothing was started, a retry is safe."""


class OptinClosed(ValueError):
    """A confirmation link that works no more: ``request`` says whether it was used or
    expired (None: no such link)."""

    def __init__(self, request: OptinRequest | None):
        super().__init__("This confirmation link does not work.")
        self.request = request


def confirm_link(token: str) -> str:
    return f"{settings.SHORT_URL_BASE}/c/{token}"


def is_open(request: OptinRequest, now: datetime | None = None) -> bool:
    return request.status == Status.PENDING and request.expires_at > (now or timezone.now())


def wording_shown(request: OptinRequest) -> str:
    """The confirmation as sent, its link cut short: only the person may open it, or a
    marketer could confirm for them."""
    return request.wording.replace(request.token, "…")


def pending_optin(*, company: Company, address: str) -> OptinRequest | None:
    """The address's request still waiting for the person, if any."""
    return OptinRequest.objects.filter(
        company=company, address=address, status=Status.PENDING, expires_at__gt=timezone.now()
    ).first()


def optin_request_for_token(token: str) -> OptinRequest | None:
    """The request a confirmation link names, whatever its state; None for a forged one."""
    if not token or len(token) > 64:
        return None
    return OptinRequest.objects.filter(token=token).select_related("company").first()


def reply_number(*, company: Company, address: str) -> str:
    """A number a START reply to the confirmation reaches us on, or "" when there is none.

    The company's dedicated number first (its replies are its own); else the shortcode
    of the destination's country rule (shared: the reply is the company's because it
    last wrote to that number through it). An alphanumeric sender takes no replies, so
    where neither exists the message offers only the link.
    """
    own = DedicatedNumber.objects.filter(company=company).order_by("pk")
    dedicated = own.values_list("number", flat=True).first()
    if dedicated:
        return dedicated
    country = country_of(address)
    rules = CountryRule.objects.filter(country__in=[country, CountryRule.DEFAULT_COUNTRY])
    by_country = {rule.country: rule for rule in rules}
    rule = by_country.get(country) or by_country.get(CountryRule.DEFAULT_COUNTRY)
    return rule.shortcode if rule else ""


@dataclass(frozen=True)
class _Message:
    wording: str  # what is kept as the proof: exactly what the person reads
    body: str
    subject: str = ""


def _when(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local.day} {local:%b %Y %H:%M}"


def _sms(company: Company, address: str, link: str, replies_to: str) -> _Message:
    with translation.override(language_for(country=country_of(address))):
        if replies_to:
            text = _(
                "%(company)s: to get our marketing messages again, as you asked, confirm "
                "here: %(link)s or reply START. Not you? Ignore this and you stay "
                "unsubscribed."
            )
        else:
            text = _(
                "%(company)s: to get our marketing messages again, as you asked, confirm "
                "here: %(link)s Not you? Ignore this and you stay unsubscribed."
            )
    body = text % {"company": company.name, "link": link}
    return _Message(wording=body, body=body)


def _email(company: Company, link: str) -> _Message:
    context = {"company": company.name, "link": link, "days": OPTIN_TTL.days}
    with translation.override(language_for(country=company.default_country)):
        subject = render_to_string("emails/double-optin-subject.txt", context).strip()
        body = render_to_string("emails/double-optin-body.txt", context)
    subject = " ".join(subject.splitlines())
    return _Message(wording=f"{subject}\n\n{body.strip()}", body=body, subject=subject)


def confirmation_preview(*, company: Company, address: str) -> str:
    """What a confirmation to ``address`` would say, its link cut short."""
    link = confirm_link("…")
    if is_email(address):
        return _email(company, link).wording
    return _sms(company, address, link, reply_number(company=company, address=address)).body


def _refusal(*, company: Company, address: str, channel: str, now: datetime) -> OptinRefused | None:
    wanted = Channel.EMAIL if is_email(address) else Channel.SMS
    if channel != wanted:
        what = "an email address" if wanted == Channel.EMAIL else "a phone number"
        return OptinRefused(
            f"This is {what}: its confirmation goes by {Channel(wanted).label}.",
            code="wrong_channel",
        )
    open_request = pending_optin(company=company, address=address)
    if open_request is not None:
        return OptinRefused(
            "A confirmation was already sent to this address and works until "
            f"{_when(open_request.expires_at)}: the address comes back when the person "
            "confirms it. No second one is sent meanwhile.",
            code="pending",
        )
    recent = OptinRequest.objects.filter(
        company=company, address=address, created_at__gte=now - REQUESTS_WINDOW
    ).count()
    if recent >= REQUESTS_PER_ADDRESS:
        return OptinRefused(
            f"{REQUESTS_PER_ADDRESS} confirmations went to this address in the last "
            f"{REQUESTS_WINDOW.days} days; no more are sent, so that nobody is pestered. "
            "If the person asks again, record their consent with its proof instead.",
            code="limit",
        )
    optouts = ConsentEvent.objects.filter(
        company=company, address=address, kind=ConsentEvent.Kind.OPT_OUT
    )
    last_optout = optouts.values_list("created_at", flat=True).first()
    if last_optout and last_optout > now - QUIET_AFTER_OPTOUT:
        return OptinRefused(
            "This address opted out less than 30 minutes ago: the person has just been "
            "told so, and can still undo it themself. A confirmation can be sent from "
            f"{_when(last_optout + QUIET_AFTER_OPTOUT)}.",
            code="too_soon",
        )
    return None


def request_double_optin(
    *,
    company: Company,
    address: str,
    actor: Actor,
    channel: str,
    user=None,
    ip: str | None = None,
) -> OptinRequest:
    """Send the suppressed ``address`` one confirmation by ``channel`` (``sms`` or
    ``email``, the address's own) and keep it, with its exact wording, for
    ``OPTIN_TTL``. Raises ``OptinRefused`` (see the module) or ``OptinNotSent``.

    ``user`` and ``ip``: who asked, for the audit log (none for an API key).
    """
    now = timezone.now()
    with transaction.atomic():
        # The address's suppression, locked: two requests at once cannot both pass the
        # one-open-request check.
        suppressed = (
            Suppression.objects.select_for_update().filter(company=company, address=address).first()
        )
        if suppressed is None:
            raise OptinRefused(
                "This address is not on the suppression list: it may receive marketing already.",
                code="not_suppressed",
            )
        OptinRequest.objects.filter(
            company=company, address=address, status=Status.PENDING, expires_at__lte=now
        ).update(status=Status.EXPIRED)
        refusal = _refusal(company=company, address=address, channel=channel, now=now)
        if refusal is not None:
            raise refusal
        request = OptinRequest(
            company=company,
            address=address,
            channel=channel,
            actor_type=actor.type,
            actor_id=actor.id,
            actor_label=actor.label[:150],
            expires_at=now + OPTIN_TTL,
        )
        link = confirm_link(request.token)
        if channel == Channel.SMS:
            replies_to = reply_number(company=company, address=address)
            message = _sms(company, address, link, replies_to)
        else:
            replies_to, message = "", _email(company, link)
        request.wording = message.wording
        request.save()
    # Committed first: a person who confirms at once finds the request. The message is
    # transactional (it answers the person's own request, carries no marketing) and goes
    # through the same path as the opt-out confirmations.
    try:
        if channel == Channel.SMS:
            if replies_to and not replies_to.startswith("+"):
                _route_replies(company=company, shortcode=replies_to, address=address)
            sent = import_string(settings.OPTOUT_CONFIRMATION_SENDER)(
                company=company, to=address, body=message.body, sender=replies_to
            )
        else:
            sent = import_string(settings.OPTOUT_CONFIRMATION_EMAIL_SENDER)(
                company=company, to=address, subject=message.subject, body=message.body
            )
        # The sender answers with the message it recorded; a gateway that refused or
        # could not be reached leaves it failed, with why.
        failed = getattr(sent, "status", "") == "failed"
        error = (getattr(sent, "error", "") or "refused by the gateway") if failed else ""
    except Exception as exc:
        logger.exception("Could not send double opt-in request %s", request.pk)
        error = str(exc) or exc.__class__.__name__
    if error:
        # Nothing reached the person: the request never existed for them, and must not
        # stand in the way of the next try.
        OptinRequest.objects.filter(company=company, pk=request.pk).delete()
        raise OptinNotSent(f"The confirmation could not be sent ({error}). Try again later.")
    record_audit(
        company=company,
        action=Action.OPTIN_REQUESTED,
        actor=user,
        target=address,
        details={"channel": channel, "by": actor.label, "until": _when(request.expires_at)},
        ip=ip,
    )
    return request


def _route_replies(*, company: Company, shortcode: str, address: str) -> None:
    """A START to the shared shortcode is then read as this company's reply."""
    note_marketing_sent(company=company, campaign_id=None, shortcode=shortcode, addresses=[address])


def confirm_double_optin(*, token: str, seen: Seen) -> ConsentEvent:
    """The person pressed the button: their opt-in, with the request's wording as proof.

    Raises ``OptinClosed`` for a forged, used or expired link; nothing changes then.
    """
    now = timezone.now()
    with transaction.atomic():
        request = (
            OptinRequest.objects.select_for_update().filter(token=token).first()
            if token and len(token) <= 64
            else None
        )
        closed = request is None or not is_open(request, now)
        if not closed:
            event = record_optin(
                company=request.company,
                address=request.address,
                source=Source.DOUBLE_OPT_IN,
                actor=PERSON,
                seen=seen,
                proof=Proof(method=_METHOD[request.channel], given_at=now, wording=request.wording),
            )
            OptinRequest.objects.filter(company=request.company, pk=request.pk).update(
                status=Status.CONFIRMED, confirmed_at=now, event=event
            )
            return event
    if request is not None and request.status == Status.PENDING:
        OptinRequest.objects.filter(company=request.company, pk=request.pk).update(
            status=Status.EXPIRED
        )
        request.status = Status.EXPIRED
    raise OptinClosed(request)


def close_optin_requests(*, event: ConsentEvent) -> None:
    """Every consent event ends the address's open request (``OPTOUT_EVENT_SUBSCRIBERS``).

    A START reply is the person's answer to it: the request is confirmed with that
    event. Any other change decides without it: an opt-out (a STOP to the confirmation
    is a no), or an opt-in on proof or by undo; the link then works no more. The
    confirmation page's own opt-in closes its request itself.
    """
    if event.source == Source.DOUBLE_OPT_IN:
        return
    open_requests = OptinRequest.objects.filter(
        company_id=event.company_id, address=event.address, status=Status.PENDING
    )
    answered = event.kind == ConsentEvent.Kind.OPT_IN and event.source == Source.SMS_KEYWORD
    try:
        # A savepoint: whatever happens here, the consent event stands.
        with transaction.atomic():
            if answered:
                open_requests.filter(channel=Channel.SMS, expires_at__gt=event.created_at).update(
                    status=Status.CONFIRMED, confirmed_at=event.created_at, event=event
                )
            open_requests.update(status=Status.EXPIRED)
    except Exception:
        logger.exception("Could not close the double opt-in requests of event %s", event.pk)


def masked(address: str) -> str:
    """What the confirmation page shows of the address: enough to recognise it."""
    if is_email(address):
        local, _at, domain = address.partition("@")
        return f"{local[:1]}•••@{domain}"
    return mask_phone(address)
