"""A program reads, as the campaign page shows it, who waits for their sending hours."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from campaigns.models import Campaign
from campaigns.services import override_send_hours, plan_campaign, send_chunk
from tests.factories import CampaignFactory, ContactFactory, UserFactory

EARLY_MONDAY = datetime(2026, 12, 7, 5, 17, tzinfo=ZoneInfo("Europe/Amsterdam"))

pytestmark = pytest.mark.send_hours_by_clock


@pytest.fixture
def abroad(seeded_defaults, company):
    ContactFactory(company=company, phone="+33612345678", country="FR")
    ContactFactory(company=company, phone="+12135550123", country="US")
    ContactFactory(company=company, phone="+4915123456789", country="DE")


def test_a_draft_says_who_sending_now_would_hold(api, company, abroad):
    campaign = CampaignFactory(company=company)
    with time_machine.travel(EARLY_MONDAY, tick=False):
        body = api.get(f"/api/v1/campaigns/{campaign.pk}").json()
    assert body["held"] == [
        {
            "country": "FR",
            "time_zone": "Europe/Paris",
            "recipients": 1,
            "opens_at": "2026-12-07T08:00:00+01:00",
        },
        {
            "country": "US",
            "time_zone": "America/Los_Angeles",
            "recipients": 1,
            "opens_at": "2026-12-07T08:00:00-08:00",
        },
    ]
    assert body["hours_overridden_at"] is None


def test_a_sending_campaign_says_who_is_held_and_who_overrode_it(api, company, abroad):
    campaign = CampaignFactory(company=company, status=Campaign.Status.SENDING)
    with time_machine.travel(EARLY_MONDAY, tick=False):
        plan_campaign(campaign_id=campaign.pk)
        chunk = campaign.chunks.get()
        send_chunk(chunk_id=chunk.pk, task_token=chunk.lease)
        held = api.get(f"/api/v1/campaigns/{campaign.pk}").json()["held"]
        assert [(g["country"], g["recipients"]) for g in held] == [("FR", 1), ("US", 1)]
        override_send_hours(campaign=campaign, actor=UserFactory(username="ops-anna"))
        body = api.get(f"/api/v1/campaigns/{campaign.pk}").json()
    assert body["held"] == []
    assert body["hours_overridden_by"] == "ops-anna"
    assert body["hours_overridden_at"].startswith("2026-12-07T04:17:00")


def test_another_company_s_campaign_is_404(outsider_api, company, abroad):
    campaign = CampaignFactory(company=company)
    assert outsider_api.get(f"/api/v1/campaigns/{campaign.pk}").status_code == 404
