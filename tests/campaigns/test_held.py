"""Who waits for their sending hours, said per country and time zone before and while
sending; and what releases them: their hours opening under a changed rule, a resume, or
staff sending them anyway."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from addressbook.models import AuditEvent
from campaigns.held import held_before_send, held_in_campaign
from campaigns.models import Campaign, Channel, Message
from campaigns.services import (
    override_send_hours,
    pause_campaign,
    plan_campaign,
    release_held_chunks,
    resume_campaign,
    send_chunk,
)
from optout.models import CountryRule
from optout.services import apply_send_hours_change, record_optout
from tests.factories import CampaignFactory, ContactFactory, UserFactory

AMSTERDAM, PARIS = ZoneInfo("Europe/Amsterdam"), ZoneInfo("Europe/Paris")
# A Monday, 05:17 in Amsterdam: Paris and Johannesburg before 08:00, New York and Los
# Angeles on Sunday evening after 20:00; Germany has no hours.
EARLY_MONDAY = datetime(2026, 12, 7, 5, 17, tzinfo=AMSTERDAM)
SUNDAY = datetime(2026, 12, 6, 12, 0, tzinfo=PARIS)
FR, ZA, NEW_YORK, LOS_ANGELES = "+33612345678", "+27711234567", "+12015550123", "+12135550123"
DE = "+4915123456789"

pytestmark = pytest.mark.send_hours_by_clock


def _audience(company):
    ContactFactory(company=company, phone=FR, country="FR")
    ContactFactory(company=company, phone="+33612345679", country="FR")
    ContactFactory(company=company, phone=ZA, country="ZA")
    ContactFactory(company=company, phone=NEW_YORK, country="US")
    ContactFactory(company=company, phone=LOS_ANGELES, country="US")
    ContactFactory(company=company, phone=DE, country="DE")


def _said(summary) -> list[str]:
    return [
        f"{g.recipients} in {g.country_name} from {g.opens_label} {g.city} time"
        for g in summary.groups
    ]


def test_before_sending_each_country_and_zone_has_its_own_opening(seeded_defaults, company):
    _audience(company)
    campaign = CampaignFactory(company=company)
    with time_machine.travel(EARLY_MONDAY, tick=False):
        held = held_before_send(campaign=campaign)
    assert _said(held) == [
        "1 in South Africa from Monday 08:00 Johannesburg time",
        "2 in France from Monday 08:00 Paris time",
        "1 in the United States from Monday 08:00 New York time",
        "1 in the United States from Monday 08:00 Los Angeles time",
    ]
    assert held.recipients == 5  # the German one goes at once


def test_opted_out_contacts_are_skipped_not_held(seeded_defaults, company):
    _audience(company)
    record_optout(company=company, address=FR, source="admin")
    campaign = CampaignFactory(company=company, countries=["FR"])
    with time_machine.travel(EARLY_MONDAY, tick=False):
        held = held_before_send(campaign=campaign)
    assert _said(held) == ["1 in France from Monday 08:00 Paris time"]


def test_nobody_waits_in_open_hours_or_for_email(seeded_defaults, company):
    _audience(company)
    sms = CampaignFactory(company=company)
    email = CampaignFactory(company=company, channel=Channel.EMAIL)
    with time_machine.travel(EARLY_MONDAY, tick=False):
        assert held_before_send(campaign=email).groups == []
    with time_machine.travel(datetime(2026, 12, 8, 19, 0, tzinfo=PARIS), tick=False):
        # 13:00 in New York, 10:00 in Los Angeles, 20:00 in Johannesburg: South Africa shut.
        assert _said(held_before_send(campaign=sms)) == [
            "1 in South Africa from Wednesday 08:00 Johannesburg time"
        ]


def test_numbers_of_one_area_code_in_two_zones_are_counted_apart(seeded_defaults, company):
    """+1 208 spans Pacific and Mountain time: at 20:30 in Denver only one number waits."""
    ContactFactory(company=company, phone="+12082155555", country="US")
    ContactFactory(company=company, phone="+12082015555", country="US")
    campaign = CampaignFactory(company=company)
    with time_machine.travel(datetime(2026, 12, 5, 3, 30, tzinfo=UTC), tick=False):
        held = held_before_send(campaign=campaign)
    assert held.recipients == 1
    assert [g.country for g in held.groups] == ["US"]


def test_an_opening_a_week_away_names_its_date(seeded_defaults, company):
    CountryRule.objects.filter(country="FR").update(
        send_hours={d: None for d in ("tue", "wed", "thu", "fri", "sat", "sun")}
        | {"mon": ["08:00", "20:00"]}
    )
    ContactFactory(company=company, phone=FR, country="FR")
    campaign = CampaignFactory(company=company)
    with time_machine.travel(datetime(2026, 12, 7, 21, 0, tzinfo=PARIS), tick=False):
        assert _said(held_before_send(campaign=campaign)) == [
            "1 in France from Monday 14 Dec, 08:00 Paris time"
        ]


def _held_campaign(company):
    """A campaign sent on Sunday: the German got it, the French one waits for Monday."""
    ContactFactory(company=company, phone=DE, country="DE")
    ContactFactory(company=company, phone=FR, country="FR")
    campaign = CampaignFactory(company=company, status=Campaign.Status.SENDING)
    with time_machine.travel(SUNDAY, tick=False):
        plan_campaign(campaign_id=campaign.pk)
        chunk = campaign.chunks.get()
        send_chunk(chunk_id=chunk.pk, task_token=chunk.lease)
    chunk.refresh_from_db()
    assert chunk.not_before == datetime(2026, 12, 7, 8, 0, tzinfo=PARIS)
    return campaign, chunk


def _run(chunk) -> None:
    chunk.refresh_from_db()
    send_chunk(chunk_id=chunk.pk, task_token=chunk.lease)


def test_while_sending_the_held_are_counted_per_country(seeded_defaults, company, outbox):
    campaign, _ = _held_campaign(company)
    with time_machine.travel(SUNDAY, tick=False):
        held = held_in_campaign(campaign=campaign)
    assert _said(held) == ["1 in France from Monday 08:00 Paris time"]
    assert [sms.to for sms in outbox] == [DE]


def test_a_changed_rule_releases_the_held_at_once(
    seeded_defaults, company, outbox, django_capture_on_commit_callbacks
):
    campaign, chunk = _held_campaign(company)
    CountryRule.objects.filter(country="FR").update(send_hours={})
    with time_machine.travel(SUNDAY, tick=False):
        with django_capture_on_commit_callbacks() as queued:
            apply_send_hours_change()
        assert len(queued) == 1, "the chunk is handed out again, not at Monday's opening"
        _run(chunk)
    assert [sms.to for sms in outbox] == [DE, FR]
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


def test_a_released_chunk_still_waits_if_its_hours_are_still_shut(seeded_defaults, company, outbox):
    campaign, chunk = _held_campaign(company)
    with time_machine.travel(SUNDAY, tick=False):
        assert release_held_chunks() == 1
        _run(chunk)
    assert [sms.to for sms in outbox] == [DE]
    chunk.refresh_from_db()
    assert chunk.not_before == datetime(2026, 12, 7, 8, 0, tzinfo=PARIS)


def test_resume_sends_who_may_now_get_it(seeded_defaults, company, outbox):
    campaign, chunk = _held_campaign(company)
    with time_machine.travel(SUNDAY, tick=False):
        assert pause_campaign(campaign=campaign)
        CountryRule.objects.filter(country="FR").update(send_hours={})
        assert resume_campaign(campaign=campaign)
        _run(chunk)
    assert [sms.to for sms in outbox] == [DE, FR]


def test_staff_override_sends_the_held_now_and_is_on_record(seeded_defaults, company, outbox):
    campaign, chunk = _held_campaign(company)
    staff = UserFactory(username="ops-anna", is_staff=True)
    with time_machine.travel(SUNDAY, tick=False):
        assert override_send_hours(campaign=campaign, actor=staff, ip="192.0.2.1")
        assert held_in_campaign(campaign=campaign).overridden
        _run(chunk)
    assert [sms.to for sms in outbox] == [DE, FR]
    assert Message.objects.get(to=FR).status == Message.Status.SENT
    campaign.refresh_from_db()
    assert campaign.hours_overridden_by == "ops-anna"
    assert campaign.hours_overridden_at == SUNDAY
    event = AuditEvent.objects.get(company=company, action="campaign.hours_overridden")
    assert (event.actor_name, event.target, event.ip) == ("ops-anna", campaign.name, "192.0.2.1")


def test_override_is_once_and_only_for_a_started_campaign(seeded_defaults, company):
    staff = UserFactory(is_staff=True)
    draft = CampaignFactory(company=company)
    assert not override_send_hours(campaign=draft, actor=staff)
    campaign, _ = _held_campaign(company)
    assert override_send_hours(campaign=campaign, actor=staff)
    assert not override_send_hours(campaign=campaign, actor=staff)
    assert AuditEvent.objects.filter(action="campaign.hours_overridden").count() == 1


def test_a_paused_campaign_overridden_sends_the_held_on_resume(seeded_defaults, company, outbox):
    campaign, chunk = _held_campaign(company)
    staff = UserFactory(is_staff=True)
    with time_machine.travel(SUNDAY, tick=False):
        assert pause_campaign(campaign=campaign)
        assert override_send_hours(campaign=campaign, actor=staff)
        chunk.refresh_from_db()
        assert chunk.not_before is not None, "nothing goes out while paused"
        assert resume_campaign(campaign=campaign)
        _run(chunk)
    assert [sms.to for sms in outbox] == [DE, FR]


def test_contacts_without_a_country_are_judged_by_their_number(seeded_defaults, company):
    CountryRule.objects.filter(country="ZZ").update(send_hours={"sun": None})
    ContactFactory(company=company, phone="+4915123456789", country="")
    campaign = CampaignFactory(company=company)
    with time_machine.travel(SUNDAY, tick=False):
        assert _said(held_before_send(campaign=campaign)) == [
            "1 in an unknown country from Monday 00:00 Berlin time"
        ]


def test_a_rule_changed_during_a_run_does_not_hold_by_the_old_rule(seeded_defaults, company):
    """The run judged the hours by the rule it read; saved meanwhile, the chunk is handed
    out again at once instead of waiting until the opening the old rule gave."""
    from campaigns.services.sending import _take_lease

    campaign, chunk = _held_campaign(company)
    chunk.not_before = None
    chunk.save()
    with time_machine.travel(SUNDAY, tick=False):
        lease = _take_lease(chunk.pk, "")
    with time_machine.travel(datetime(2026, 12, 6, 12, 1, tzinfo=PARIS), tick=False):
        rule = CountryRule.objects.get(country="FR")
        rule.send_hours = {}
        rule.save()
        lease.hold(until=datetime(2026, 12, 7, 8, 0, tzinfo=PARIS))
    chunk.refresh_from_db()
    assert chunk.not_before is None and chunk.leased_until is None
