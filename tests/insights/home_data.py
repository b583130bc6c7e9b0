"""The home page's hand-counted week, for the view tests and the browser test."""

from datetime import UTC, datetime

import time_machine

from campaigns.models import Campaign, CampaignChunk, SentTally
from campaigns.services.alarm import check_optout_alarm
from optout.services import record_optout
from tests.factories import CampaignFactory

Status = Campaign.Status
# Wednesday 2 December 2026, 10:00 in Amsterdam (CET, UTC+1). This week began on Monday
# 30 November 00:00 CET = Sunday 29 November 23:00 UTC; last week "at this moment" is
# Wednesday 25 November 10:00 CET = 09:00 UTC.
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def utc(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


def _tally(campaign: Campaign, hour: datetime, sent: int) -> None:
    SentTally.objects.create(
        company=campaign.company,
        campaign=campaign,
        channel="sms",
        hour=hour,
        country="NL",
        sent=sent,
    )


def _optout(company, at: datetime, address: str, **fields):
    with time_machine.travel(at, tick=False):
        return record_optout(company=company, address=address, source="landing_page", **fields)


def build(company, other_company) -> tuple[Campaign, Campaign, Campaign]:
    """Sent (hand count): this week 200 (Mon 00:00 CET) + 300 (Tue) + 500 (Wed) = 1,000;
    last week until Wednesday 10:00 CET 200 + 300 = 500 (the 09:00 UTC hour and Sunday
    night are after that moment). Opt-outs: this week 1 (Mon) + 2 (Tue) + 2 (Wed) = 5, an
    uploaded one not counted; last week until the same moment 2."""
    winter = CampaignFactory(company=company, name="Winter beans", status=Status.SENT)
    spring = CampaignFactory(company=company, name="Spring sale", status=Status.SENDING)
    for i in range(4):  # 1 of 4 chunks done: 25%
        CampaignChunk.objects.create(
            campaign=spring, after_id=i * 10, upto_id=i * 10 + 10, done_at=NOW if i == 0 else None
        )
    # Last week, before the moment compared: counted as last week.
    _tally(winter, utc(23, 10, month=11), 200)
    _tally(winter, utc(25, 8, month=11), 300)
    # Last week, after it: in neither figure.
    _tally(winter, utc(25, 9, month=11), 50)
    _tally(winter, utc(29, 22, month=11), 100)  # Sunday 23:00 CET
    # This week.
    _tally(winter, utc(29, 23, month=11), 200)  # Monday 00:00 CET
    _tally(winter, utc(1, 12), 300)
    _tally(spring, utc(2, 8), 500)

    _optout(company, utc(1, 10, month=11), "+31690000001")  # a month ago: 11th newest
    _optout(company, utc(23, 12, month=11), "+31690000002", campaign_id=winter.pk)
    _optout(company, utc(25, 8, 59, month=11), "+31690000003", campaign_id=winter.pk)
    _optout(company, utc(25, 9, 0, 1, month=11), "+31690000004")  # after last week's moment
    _optout(company, utc(29, 22, 59, month=11), "+31690000005")  # Sunday 23:59 CET
    _optout(
        company, utc(29, 23, 0, 30, month=11), "+31690000006", campaign_id=winter.pk
    )  # Monday 00:00:30 CET
    _optout(company, utc(1, 9), "+31690000007", campaign_id=winter.pk, reason="too_many")
    _optout(company, utc(1, 15), "+31690000008", reason="", reason_text="Moved away")
    _optout(company, utc(2, 8, 10), "+31690000009", campaign_id=spring.pk)
    with time_machine.travel(utc(2, 8, 20), tick=False):
        record_optout(company=company, address="+31690000010", source="import")
    _optout(company, utc(2, 8, 30), "+31690000011", campaign_id=spring.pk, reason="not_relevant")

    # Another company's week, on the same days: never in ours.
    theirs = CampaignFactory(company=other_company, name="Globex deals", status=Status.SENDING)
    _tally(theirs, utc(1, 12), 9000)
    _optout(other_company, utc(1, 12), "+33612340001", campaign_id=theirs.pk)
    _optout(other_company, utc(2, 8), "+33612340002")
    return winter, spring, theirs


def alarm_paused(company) -> Campaign:
    """A campaign the alarm paused this morning: 5 opt-outs from 100 sent, over 2%."""
    alarmed = CampaignFactory(company=company, name="Black Friday", status=Status.SENDING)
    _tally(alarmed, utc(2, 7), 100)
    for n in range(20, 25):
        _optout(company, utc(2, 7, 30), f"+316900000{n}", campaign_id=alarmed.pk)
    company.optout_alarm_minimum = 50
    company.save()
    assert check_optout_alarm(campaign=alarmed)
    return alarmed
