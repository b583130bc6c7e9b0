from dataclasses import dataclass

from django.conf import settings
from django.core import signing

from addressbook.addresses import InvalidAddress, parse_phone
from campaigns.models import Message
from optout.consent import NOTHING_SEEN, PERSON, Seen
from optout.models import ConsentEvent, Source
from optout.selectors import is_suppressed
from optout.services import record_optin, record_optout

from .ratelimit import is_blocked, over_limit

UNDO_SALT = "shorturl.undo"
RESUBSCRIBED_SALT = "shorturl.resubscribed"
UNDO_WINDOW_SECONDS = 30 * 60
WRONG_NUMBER_WINDOW_SECONDS = 60 * 60
POSTS_PER_IP_WINDOW_SECONDS = 10 * 60

# The version of each page's wording, recorded with what the person did on it: the consent
# record then says what they read (research/compliance.md §5: keep "the wording or version
# shown"). Bump a page's version whenever its template or its translations change what it
# says; the language it was shown in is added (``landing-2026-12/fr``).
WORDING_VERSIONS = {
    "landing": "landing-2026-12",  # shorturl/landing.html and if_yours.html
    "undo": "done-2026-12",  # shorturl/done.html, whose button undoes
    "email": "email-2026-12",  # shorturl/email_confirm.html
    "optin": "optin-2026-12",  # shorturl/optin_confirm.html
    # No page of ours: the mail client's own "Unsubscribe" (RFC 8058), in its language.
    "one_click": "one-click-rfc8058",
}


def wording_version(page: str, language: str = "") -> str:
    return f"{WORDING_VERSIONS[page]}/{language}" if language else WORDING_VERSIONS[page]


class WrongNumber(ValueError):
    pass


class NotANumber(ValueError):
    pass


def confirm_optout(
    *,
    message: Message,
    typed_phone: str | None,
    reason: str = "",
    reason_text: str = "",
    seen: Seen = NOTHING_SEEN,
) -> ConsentEvent:
    """Opt out the link's number; ``typed_phone`` None is the one-tap confirmation."""
    if typed_phone is not None:
        try:
            typed = parse_phone(typed_phone, message.country or message.company.default_country)
        except InvalidAddress as exc:
            raise NotANumber(str(exc)) from exc
        if typed.e164 != message.to:
            # The same answer whether or not the typed number is a contact: nothing leaks.
            raise WrongNumber(typed.e164)
    return record_optout(
        company=message.company,
        address=message.to,
        source=Source.LANDING_PAGE,
        campaign_id=message.campaign_id,
        message_sent_at=message.sent_at,
        reason=reason,
        reason_text=reason_text,
        actor=PERSON,
        seen=seen,
    )


@dataclass(frozen=True)
class Left:
    """What the landing page may say after a confirmation."""

    event: ConsentEvent | None  # the opt-out, when the number was the link's
    # True when the page must not tell a right number from a wrong one.
    neutral: bool


def leave_by_link(
    *,
    message: Message,
    typed_phone: str | None,
    reason: str = "",
    reason_text: str = "",
    client_ip: str,
    seen: Seen = NOTHING_SEEN,
) -> Left:
    """The landing page's confirmation, under its rate limits.

    The limits slow whoever guesses the number behind a link, never the recipient: past
    ``LANDING_WRONG_NUMBERS_PER_CODE`` wrong numbers on the link within the hour, or
    ``LANDING_POSTS_PER_IP`` posts from one address within ten minutes, every number gets
    the same neutral answer, and the right one is still opted out. A guesser learns
    nothing more; the person always gets out. Raises ``WrongNumber`` (while the link may
    still say so) and ``NotANumber``.
    """
    wrong_key = f"wrong:{message.short_code}"
    wrong_limit = settings.LANDING_WRONG_NUMBERS_PER_CODE
    guarded = over_limit(
        f"ip:{client_ip}",
        limit=settings.LANDING_POSTS_PER_IP,
        window=POSTS_PER_IP_WINDOW_SECONDS,
    ) or is_blocked(wrong_key, limit=wrong_limit)
    try:
        event = confirm_optout(
            message=message,
            typed_phone=typed_phone,
            reason=reason,
            reason_text=reason_text,
            seen=seen,
        )
    except WrongNumber:
        counted_over = over_limit(wrong_key, limit=wrong_limit, window=WRONG_NUMBER_WINDOW_SECONDS)
        if guarded or counted_over:
            return Left(event=None, neutral=True)
        raise
    return Left(event=event, neutral=guarded)


def undo_token(event: ConsentEvent) -> str:
    return signing.dumps(event.pk, salt=UNDO_SALT)


def resubscribed_token(event: ConsentEvent) -> str:
    return signing.dumps(event.pk, salt=RESUBSCRIBED_SALT)


def optout_for_token(*, message: Message, token: str) -> ConsentEvent | None:
    """The opt-out of this link's number that ``token`` names, while it may be undone;
    None for a forged, stale or foreign token."""
    return _event_for_token(
        message=message, token=token, salt=UNDO_SALT, kind=ConsentEvent.Kind.OPT_OUT
    )


def optin_for_token(*, message: Message, token: str) -> ConsentEvent | None:
    """The undo of this link's opt-out that ``token`` names, shortly after it."""
    return _event_for_token(
        message=message, token=token, salt=RESUBSCRIBED_SALT, kind=ConsentEvent.Kind.OPT_IN
    )


def _event_for_token(*, message: Message, token: str, salt: str, kind: str) -> ConsentEvent | None:
    try:
        event_id = signing.loads(token, salt=salt, max_age=UNDO_WINDOW_SECONDS)
    except signing.BadSignature:
        return None
    return ConsentEvent.objects.filter(
        pk=event_id, company=message.company, address=message.to, kind=kind
    ).first()


def undo_optout(*, message: Message, token: str, seen: Seen = NOTHING_SEEN) -> ConsentEvent:
    """The person's own "undo", right after leaving, from the page that confirmed it."""
    event = optout_for_token(message=message, token=token)
    if event is None:
        raise ConsentEvent.DoesNotExist("No opt-out of this link to undo")
    newer = ConsentEvent.objects.filter(
        company=event.company, address=event.address, pk__gt=event.pk
    )
    if newer.exists():  # e.g. a STOP sent since: that decision stands
        raise ConsentEvent.DoesNotExist("A newer decision stands")
    return record_optin(
        company=event.company,
        address=event.address,
        source=Source.LANDING_PAGE,
        actor=PERSON,
        seen=seen,
    )


def unsubscribe_email(
    *, message: Message, one_click: bool, seen: Seen = NOTHING_SEEN
) -> ConsentEvent | None:
    """Idempotent: a mailbox provider may POST the same one-click link more than once.

    A one-click POST is the person's act (they pressed "Unsubscribe" in their mail
    client) made for them by their mailbox provider: the actor is the person, but the IP
    address and browser in ``seen`` are the provider's.
    """
    if is_suppressed(company=message.company, address=message.to):
        return None
    return record_optout(
        company=message.company,
        address=message.to,
        source=Source.ONE_CLICK if one_click else Source.EMAIL_LINK,
        campaign_id=message.campaign_id,
        message_sent_at=message.sent_at,
        actor=PERSON,
        seen=seen,
    )
