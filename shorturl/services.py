from django.core import signing

from addressbook.addresses import InvalidAddress, parse_phone
from campaigns.models import Message
from optout.models import ConsentEvent, Source
from optout.selectors import is_suppressed
from optout.services import record_optin, record_optout

UNDO_SALT = "shorturl.undo"
UNDO_WINDOW_SECONDS = 30 * 60


class WrongNumber(ValueError):
    pass


class NotANumber(ValueError):
    pass


def confirm_optout(
    *, message: Message, typed_phone: str | None, reason: str = "", reason_text: str = ""
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
        reason=reason,
        reason_text=reason_text,
    )


def undo_token(event: ConsentEvent) -> str:
    return signing.dumps(event.pk, salt=UNDO_SALT)


def undo_optout(*, message: Message, token: str) -> ConsentEvent:
    """The person's own "undo", right after leaving, from the page that confirmed it."""
    event_id = signing.loads(token, salt=UNDO_SALT, max_age=UNDO_WINDOW_SECONDS)
    event = ConsentEvent.objects.get(
        pk=event_id, company=message.company, address=message.to, kind=ConsentEvent.Kind.OPT_OUT
    )
    newer = ConsentEvent.objects.filter(
        company=event.company, address=event.address, pk__gt=event.pk
    )
    if newer.exists():  # e.g. a STOP sent since: that decision stands
        raise ConsentEvent.DoesNotExist("A newer decision stands")
    return record_optin(company=event.company, address=event.address, source=Source.LANDING_PAGE)


def unsubscribe_email(*, message: Message, one_click: bool) -> ConsentEvent | None:
    """Idempotent: a mailbox provider may POST the same one-click link more than once."""
    if is_suppressed(company=message.company, address=message.to):
        return None
    return record_optout(
        company=message.company,
        address=message.to,
        source=Source.ONE_CLICK if one_click else Source.EMAIL_LINK,
        campaign_id=message.campaign_id,
    )
