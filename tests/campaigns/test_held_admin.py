"""Staff and sending hours in the admin: a rule saved there reaches held messages at once,
and the override sends a campaign's held messages, on the record."""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from addressbook.models import AuditEvent
from campaigns.models import Campaign, Message
from campaigns.services import plan_campaign, send_chunk
from optout.models import CountryRule
from tests.factories import CampaignFactory, ContactFactory

PARIS = ZoneInfo("Europe/Paris")
SUNDAY = datetime(2026, 12, 6, 12, 0, tzinfo=PARIS)
FR, DE = "+33612345678", "+4915123456789"

pytestmark = pytest.mark.send_hours_by_clock


@pytest.fixture
def held(seeded_defaults, company, outbox):
    """A campaign sent on Sunday: the German got it, the French one waits for Monday."""
    ContactFactory(company=company, phone=DE, country="DE")
    ContactFactory(company=company, phone=FR, country="FR")
    campaign = CampaignFactory(company=company, status=Campaign.Status.SENDING)
    with time_machine.travel(SUNDAY, tick=False):
        plan_campaign(campaign_id=campaign.pk)
        chunk = campaign.chunks.get()
        send_chunk(chunk_id=chunk.pk, task_token=chunk.lease)
    assert [sms.to for sms in outbox] == [DE]
    return campaign


def _run_released(campaign) -> None:
    chunk = campaign.chunks.get()
    assert chunk.not_before is None, "handed out again now, not at Monday's opening"
    send_chunk(chunk_id=chunk.pk, task_token=chunk.lease)


def test_a_rule_saved_in_the_admin_releases_the_held(admin_client, held, outbox):
    rule = CountryRule.objects.get(country="FR")
    with time_machine.travel(SUNDAY, tick=False):
        response = admin_client.post(
            f"/admin/optout/countryrule/{rule.pk}/change/",
            {
                "country": "FR",
                "method": rule.method,
                "shortcode": rule.shortcode,
                "template": rule.template,
                "send_hours": '{"sun": ["10:00", "18:00"]}',
                "skip_public_holidays": "on",
            },
        )
        assert response.status_code == 302
        _run_released(held)
    assert [sms.to for sms in outbox] == [DE, FR]
    held.refresh_from_db()
    assert held.status == Campaign.Status.SENT


def test_a_rule_saved_without_touching_its_hours_leaves_the_held_alone(admin_client, held):
    rule = CountryRule.objects.get(country="FR")
    with time_machine.travel(SUNDAY, tick=False):
        admin_client.post(
            f"/admin/optout/countryrule/{rule.pk}/change/",
            {
                "country": "FR",
                "method": rule.method,
                "shortcode": rule.shortcode,
                "template": rule.template,
                "send_hours": json.dumps(rule.send_hours),
                # What the admin's form sends back beside a field with a callable default.
                "initial-send_hours": json.dumps(rule.send_hours),
                "skip_public_holidays": "on" if rule.skip_public_holidays else "",
                "note": "Checked again",
            },
        )
    assert held.chunks.get().not_before == datetime(2026, 12, 7, 8, 0, tzinfo=PARIS)


def test_staff_send_the_held_now_from_the_admin(admin_client, held, company, outbox):
    with time_machine.travel(SUNDAY, tick=False):
        response = admin_client.post(
            "/admin/campaigns/campaign/",
            {"action": "send_held_now", "_selected_action": [held.pk]},
            follow=True,
        )
        assert "1 campaign(s) now send their held messages" in response.content.decode()
        _run_released(held)
    assert [sms.to for sms in outbox] == [DE, FR]
    assert Message.objects.get(to=FR).status == Message.Status.SENT
    event = AuditEvent.objects.get(company=company, action="campaign.hours_overridden")
    assert event.actor_name == "admin" and event.object_id == str(held.pk)
    change = admin_client.get(f"/admin/campaigns/campaign/{held.pk}/change/").content.decode()
    assert "Hours overridden by" in change and "admin" in change


def test_the_override_leaves_a_draft_alone(admin_client, seeded_defaults, company):
    draft = CampaignFactory(company=company)
    response = admin_client.post(
        "/admin/campaigns/campaign/",
        {"action": "send_held_now", "_selected_action": [draft.pk]},
        follow=True,
    )
    assert "1 left alone" in response.content.decode()
    draft.refresh_from_db()
    assert draft.hours_overridden_at is None
    assert not AuditEvent.objects.filter(action="campaign.hours_overridden").exists()
