from addressbook.addresses import InvalidAddress, parse_phone
from campaigns.models import Message
from optout.models import ConsentEvent, Source
from optout.services import record_optout


class WrongNumber(ValueError):
    pass


def confirm_optout(
    *, message: Message, typed_phone: str, reason: str = "", reason_text: str = ""
) -> ConsentEvent:
    """Opt out the link's number once the recipient has typed that same number."""
    try:
        typed = parse_phone(typed_phone, message.country or message.company.default_country)
    except InvalidAddress as exc:
        raise WrongNumber(str(exc)) from exc
    if typed.e164 != message.to:
        # Same answer whether or not the typed number is a contact: nothing leaks.
        raise WrongNumber("That is not the number this message was sent to. Check and try again.")
    return record_optout(
        company=message.company,
        address=message.to,
        source=Source.LANDING_PAGE,
        campaign_id=message.campaign_id,
        reason=reason,
        reason_text=reason_text,
    )
