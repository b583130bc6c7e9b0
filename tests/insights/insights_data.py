"""A hand-counted month of two companies' sending and opt-outs, for the insights page.

"Now" is Monday 30 November 2026, 12:00 UTC; Acme Coffee lives in Europe/Amsterdam
(UTC+1 in November, +2 until 25 October), so "last 30 days" is 1–30 November there and
the period before is 2–31 October. The expected numbers in the tests are counted by hand
from the list below; the comments give each event's local day and its delay after its
message.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from addressbook.models import Company
from campaigns.models import Campaign, Message, SentTally
from optout.models import ConsentEvent, LeaveReason
from tests.factories import CampaignFactory, backdate_events

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
OWN_REASON = "Prices too high"


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@dataclass
class Month:
    black_friday: Campaign  # SMS, 1,000 sent on 20 Nov (800 NL, 200 BE)
    newsletter: Campaign  # email, 500 sent on 25 Nov
    october: Campaign  # SMS, 400 sent on 15 Oct (the period before)
    quiet: Campaign  # SMS, 100 sent on 28 Nov, nobody left; its name is a formula
    rival: Campaign  # the other company's


def tally(campaign: Campaign, at: datetime, country: str, sent: int) -> None:
    SentTally.objects.create(
        company=campaign.company,
        campaign=campaign,
        channel=campaign.channel,
        hour=at,
        country=country,
        sent=sent,
    )


def message(campaign: Campaign, to: str, sent_at: datetime) -> None:
    Message.objects.create(
        company=campaign.company,
        campaign=campaign,
        channel=campaign.channel,
        to=to,
        status=Message.Status.SENT,
        sent_at=sent_at,
    )


def event(
    company: Company,
    at: datetime,
    address: str,
    source: str,
    *,
    campaign: Campaign | None = None,
    country: str = "NL",
    reason: str = "",
    text: str = "",
    kind: str = ConsentEvent.Kind.OPT_OUT,
) -> None:
    # As recording does: when the campaign first wrote to the address, if it did.
    first = (
        Message.objects.filter(campaign=campaign, to=address).order_by("sent_at").first()
        if campaign
        else None
    )
    created = ConsentEvent.objects.create(
        company=company,
        address=address,
        country="" if "@" in address else country,
        kind=kind,
        source=source,
        campaign_id=campaign.pk if campaign else None,
        message_sent_at=first.sent_at if first else None,
        reason=reason,
        reason_text=text,
    )
    # created_at is stamped on insert; the month needs its own moments.
    backdate_events(ConsentEvent.objects.filter(pk=created.pk), at)


def build(company: Company, other: Company) -> Month:
    company.timezone = "Europe/Amsterdam"
    company.save(update_fields=["timezone"])
    LeaveReason.objects.create(company=company, label=OWN_REASON)
    month = Month(
        black_friday=CampaignFactory(company=company, name="Black Friday"),
        newsletter=CampaignFactory(company=company, name="Newsletter", channel="email"),
        october=CampaignFactory(company=company, name="October promo"),
        quiet=CampaignFactory(company=company, name="=SUM(A1)"),
        rival=CampaignFactory(company=other, name="Rival sale"),
    )
    bf, nl = month.black_friday, month.newsletter
    tally(bf, utc(11, 20, 9), "NL", 800)
    tally(bf, utc(11, 20, 9), "BE", 200)
    tally(nl, utc(11, 25, 8), "", 500)
    tally(month.october, utc(10, 15, 10), "NL", 400)
    tally(month.quiet, utc(11, 28, 10), "NL", 100)
    tally(month.rival, utc(11, 20, 9), "NL", 5000)

    for to in ("+31610000001", "+31610000002", "+32470000003", "+31610000004", "+31610000013"):
        message(bf, to, utc(11, 20, 9))
    # A second contact with the same number got it later: the opt-out counts once, from
    # the first message.
    message(bf, "+31610000002", utc(11, 20, 11))
    message(nl, "anna@example.com", utc(11, 25, 8))
    message(nl, "bob@example.com", utc(11, 25, 8))
    message(month.rival, "+31610000099", utc(11, 20, 9))

    # In the period (local day; delay after the message)
    event(company, utc(11, 20, 9, 30), "+31610000001", "sms_keyword", campaign=bf)  # 20th; 30 min
    event(
        company,
        utc(11, 20, 12),
        "+31610000002",
        "landing_page",
        campaign=bf,
        reason="too_many",
        text="Every day a message!",
    )  # 20th; 3 h
    event(
        company,
        utc(11, 21, 8),
        "+32470000003",
        "landing_page",
        campaign=bf,
        country="BE",
        reason=OWN_REASON,
        text="Too expensive",
    )  # 21st; 23 h
    event(company, utc(11, 22, 23, 30), "+31610000004", "sms_keyword", campaign=bf)  # 23rd; 62.5 h
    event(company, utc(11, 25, 10), "anna@example.com", "one_click", campaign=nl)  # 25th; 2 h
    event(
        company,
        utc(11, 29, 9),
        "bob@example.com",
        "email_link",
        campaign=nl,
        reason="not_relevant",
        text="Not for me, thanks",
    )  # 29th; 4 days 1 h
    event(company, utc(11, 5, 10), "+31610000007", "import")  # 5th
    event(
        company,
        utc(11, 24, 10),
        "+31610000008",
        "api",
        reason=OWN_REASON,
        text="Prices went up too",
    )  # 24th
    event(company, utc(10, 31, 23, 30), "+31610000011", "dashboard")  # 1 Nov, 00:30 local
    event(company, utc(11, 28, 9), "+31610000013", "landing_page", campaign=bf)  # 28th; 8 days
    # Attributed, but no message to this address: in the rate, not in the delays.
    event(company, utc(11, 21, 10), "+31610000014", "api", campaign=bf)  # 21st
    # An opt-in is not an opt-out.
    event(company, utc(11, 26, 10), "+31610000007", "landing_page", kind="opt_in")

    # The period before: 2–31 October local
    event(company, utc(10, 15, 11), "+31610000010", "sms_keyword", campaign=month.october)
    event(company, utc(10, 31, 22, 30), "+31610000012", "sms_keyword")  # 31 Oct, 23:30 local

    # The other company: none of it shows on Acme's page.
    for hour in range(5):
        event(
            other,
            utc(11, 20, 10 + hour),
            f"+4915100000{hour}",
            "sms_keyword",
            campaign=month.rival,
            country="DE",
            reason="too_many",
            text="too Globex secret",
        )
    event(other, utc(11, 20, 10), "+31610000099", "landing_page", campaign=month.rival)
    return month
