"""Marketing SMS reach people only in their country's sending hours, in their local time;
the others wait for the hours to open and are then sent, never dropped."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from campaigns.models import Campaign, Message
from campaigns.services import plan_campaign, send_chunk, tick
from optout.models import CountryRule
from optout.selectors import country_rules
from optout.sendhours import SendHours
from tests.factories import CampaignFactory, ContactFactory

PARIS, JOBURG = ZoneInfo("Europe/Paris"), ZoneInfo("Africa/Johannesburg")
FR, ZA, NEW_YORK, LOS_ANGELES = "+33612345678", "+27711234567", "+12015550123", "+12135550123"
DE = "+4915123456789"


def _opens(number: str, country: str, at: datetime) -> datetime | None:
    return SendHours(country_rules(), at).opens_at(country, number)


@pytest.mark.parametrize(
    "number, country, at, opens",
    [
        # Wednesday evening in Paris: open until 20:00, then the next morning at 08:00.
        (FR, "FR", datetime(2026, 12, 2, 19, 59, tzinfo=PARIS), None),
        (FR, "FR", datetime(2026, 12, 2, 20, 0, tzinfo=PARIS), datetime(2026, 12, 3, 8, 0)),
        # Saturday opens at 10:00; Sunday never: Monday 08:00.
        (FR, "FR", datetime(2026, 12, 5, 9, 0, tzinfo=PARIS), datetime(2026, 12, 5, 10, 0)),
        (FR, "FR", datetime(2026, 12, 6, 12, 0, tzinfo=PARIS), datetime(2026, 12, 7, 8, 0)),
        # Christmas is a Friday in 2026: the next hours are Saturday's.
        (FR, "FR", datetime(2026, 12, 25, 12, 0, tzinfo=PARIS), datetime(2026, 12, 26, 10, 0)),
        # South Africa: Saturday 09:00-13:00 only; 16 December is a public holiday.
        (ZA, "ZA", datetime(2026, 12, 5, 13, 30, tzinfo=JOBURG), datetime(2026, 12, 7, 8, 0)),
        (ZA, "ZA", datetime(2026, 12, 16, 10, 0, tzinfo=JOBURG), datetime(2026, 12, 17, 8, 0)),
    ],
)
def test_hours_are_the_recipients_local_ones(seeded_defaults, number, country, at, opens):
    zone = at.tzinfo
    expected = opens.replace(tzinfo=zone) if opens else None
    assert _opens(number, country, at) == expected


def test_a_us_number_follows_its_own_time_zone(seeded_defaults):
    at = datetime(2026, 12, 2, 12, 30, tzinfo=UTC)  # 07:30 in New York, 04:30 in LA
    assert _opens(NEW_YORK, "US", at) == datetime(2026, 12, 2, 13, 0, tzinfo=UTC)
    assert _opens(LOS_ANGELES, "US", at) == datetime(2026, 12, 2, 16, 0, tzinfo=UTC)
    evening = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)  # 22:00 in New York, 19:00 in LA
    assert _opens(NEW_YORK, "US", evening) is not None
    assert _opens(LOS_ANGELES, "US", evening) is None


def test_countries_without_hours_are_always_open(seeded_defaults):
    sunday_night = datetime(2026, 12, 6, 23, 0, tzinfo=UTC)
    assert _opens(DE, "DE", sunday_night) is None


@pytest.mark.parametrize(
    "hours, error",
    [
        ({"monday": ["08:00", "20:00"]}, "not one of mon"),
        ({"mon": ["20:00", "08:00"]}, "start before they end"),
        ({"mon": "8-20"}, "HH:MM"),
    ],
)
def test_malformed_hours_are_refused(seeded_defaults, hours, error):
    rule = CountryRule.objects.get(country="FR")
    rule.send_hours = hours
    with pytest.raises(ValidationError, match=error):
        rule.full_clean()


@pytest.mark.send_hours_by_clock
def test_recipients_outside_their_hours_wait_and_go_when_the_hours_open(
    seeded_defaults, company, outbox, django_capture_on_commit_callbacks
):
    ContactFactory(company=company, phone=DE, country="DE")
    ContactFactory(company=company, phone=FR, country="FR")
    campaign = CampaignFactory(company=company, status=Campaign.Status.SENDING)
    sunday = datetime(2026, 12, 6, 12, 0, tzinfo=PARIS)

    with time_machine.travel(sunday, tick=False):
        plan_campaign(campaign_id=campaign.pk)
        chunk = campaign.chunks.get()
        send_chunk(chunk_id=chunk.pk, task_token=chunk.lease)
    assert [sms.to for sms in outbox] == [DE]
    assert Message.objects.get(to=FR).status == Message.Status.QUEUED
    chunk.refresh_from_db()
    assert chunk.not_before == datetime(2026, 12, 7, 8, 0, tzinfo=PARIS)
    assert chunk.done_at is None and chunk.leased_until is None
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENDING

    with (
        time_machine.travel(datetime(2026, 12, 7, 7, 59, tzinfo=PARIS), tick=False),
        django_capture_on_commit_callbacks() as callbacks,
    ):
        tick()
    assert callbacks == [], "not a minute early"

    with time_machine.travel(datetime(2026, 12, 7, 8, 0, tzinfo=PARIS), tick=False):
        with django_capture_on_commit_callbacks() as callbacks:
            tick()
        assert len(callbacks) == 1
        chunk.refresh_from_db()
        send_chunk(chunk_id=chunk.pk, task_token=chunk.lease)
    assert [sms.to for sms in outbox] == [DE, FR]
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


@pytest.mark.send_hours_by_clock
def test_transactional_messages_ignore_sending_hours(seeded_defaults, company, outbox):
    from campaigns.services import send_transactional

    with time_machine.travel(datetime(2026, 12, 6, 23, 0, tzinfo=PARIS), tick=False):
        message = send_transactional(company=company, to=FR, body="Your code is 123456")
    assert message.status == Message.Status.SENT and outbox[-1].to == FR


@pytest.mark.send_hours_by_clock
def test_the_campaign_page_says_who_waits_and_until_when(
    seeded_defaults, company, marketer_client, outbox
):
    company.timezone = "Europe/Amsterdam"
    company.save()
    ContactFactory(company=company, phone=FR, country="FR")
    campaign = CampaignFactory(company=company, status=Campaign.Status.SENDING)
    with time_machine.travel(datetime(2026, 12, 6, 12, 0, tzinfo=PARIS), tick=False):
        plan_campaign(campaign_id=campaign.pk)
        chunk = campaign.chunks.get()
        send_chunk(chunk_id=chunk.pk, task_token=chunk.lease)
        page = marketer_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    # In the recipient's zone, not the company's: one opening per country and zone.
    assert "wait for their sending hours" in page
    assert "<strong>1</strong> in France from Monday 08:00 Paris time" in page
    assert "(Europe/Amsterdam)" not in page
    assert outbox == []


def test_numbers_of_one_area_code_prefix_in_two_zones_are_told_apart(seeded_defaults):
    """+1 208 spans Pacific and Mountain time: each number is judged in its own."""
    at = datetime(2026, 12, 5, 3, 30, tzinfo=UTC)  # 19:30 in Boise's west, 20:30 in Denver
    hours = SendHours(country_rules(), at)
    assert hours.opens_at("US", "+12082155555") is None
    assert hours.opens_at("US", "+12082015555") is not None


def test_hours_on_the_default_rule_hold_countries_without_a_rule_of_their_own(seeded_defaults):
    CountryRule.objects.filter(country="ZZ").update(send_hours={"sun": None})
    sunday = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    assert _opens("+4915123456789", "DE", sunday) == datetime(
        2026, 12, 7, 0, 0, tzinfo=ZoneInfo("Europe/Berlin")
    )
