"""What the marketer reads of sending hours: before Send, in the editor, while sending,
and after staff sent the held ones anyway."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.models import Campaign
from campaigns.services import override_send_hours, plan_campaign, send_chunk
from tests.factories import CampaignFactory, ContactFactory, UserFactory

HTMX = {"HX-Request": "true"}
AMSTERDAM, PARIS = ZoneInfo("Europe/Amsterdam"), ZoneInfo("Europe/Paris")
EARLY_MONDAY = datetime(2026, 12, 7, 5, 17, tzinfo=AMSTERDAM)
SUNDAY = datetime(2026, 12, 6, 12, 0, tzinfo=PARIS)
FR, ZA, NEW_YORK, LOS_ANGELES = "+33612345678", "+27711234567", "+12015550123", "+12135550123"

pytestmark = pytest.mark.send_hours_by_clock


@pytest.fixture
def abroad(company):
    company.timezone = "Europe/Amsterdam"
    company.save()
    for phone, country in ((FR, "FR"), (ZA, "ZA"), (NEW_YORK, "US"), (LOS_ANGELES, "US")):
        ContactFactory(company=company, phone=phone, country=country)
    ContactFactory(company=company, phone="+4915123456789", country="DE")


def test_before_send_the_draft_says_who_would_wait_and_until_when(
    seeded_defaults, marketer_client, company, abroad
):
    campaign = CampaignFactory(company=company)
    with time_machine.travel(EARLY_MONDAY, tick=False):
        page = marketer_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "<strong data-held-total>4</strong> recipients would wait" in page
    for line in (
        "<strong>1</strong> in South Africa from Monday 08:00 Johannesburg time",
        "<strong>1</strong> in France from Monday 08:00 Paris time",
        "<strong>1</strong> in the United States from Monday 08:00 New York time",
        "<strong>1</strong> in the United States from Monday 08:00 Los Angeles time",
    ):
        assert line in page
    assert "Send now (5 contacts)" in page


def test_in_open_hours_the_draft_warns_of_nobody(seeded_defaults, marketer_client, company, abroad):
    campaign = CampaignFactory(company=company, countries=["DE", "FR"])
    with time_machine.travel(datetime(2026, 12, 8, 15, 0, tzinfo=PARIS), tick=False):
        page = marketer_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "data-held" not in page


def test_the_editor_preview_says_who_would_wait(seeded_defaults, marketer_client, abroad):
    form = {"name": "Spring beans", "channel": "sms", "body": "Hi!", "countries": "FR"}
    with time_machine.travel(EARLY_MONDAY, tick=False):
        page = marketer_client.post("/campaigns/preview/", form, headers=HTMX).content.decode()
    assert "<strong>1</strong> in France from Monday 08:00 Paris time" in page
    assert "South Africa" not in page


def test_the_editor_counts_the_held_without_a_query_per_recipient(
    seeded_defaults, marketer_client, company
):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            marketer_client.post(
                "/campaigns/preview/", {"name": "x", "channel": "sms", "body": "Hi"}, headers=HTMX
            )
        return len(captured)

    ContactFactory(company=company, phone=NEW_YORK, country="US")
    ContactFactory(company=company, phone="+12082155555", country="US")  # a split area code
    ContactFactory(company=company, phone=FR, country="FR")
    with time_machine.travel(EARLY_MONDAY, tick=False):
        few = queries()
        for n in range(10):
            ContactFactory(company=company, phone=f"+1201555{1000 + n}", country="US")
            ContactFactory(company=company, phone=f"+1208215{1000 + n}", country="US")
            ContactFactory(company=company, phone=f"+3361234{5000 + n}", country="FR")
        assert queries() == few


def _sending(company) -> Campaign:
    campaign = CampaignFactory(company=company, status=Campaign.Status.SENDING)
    with time_machine.travel(SUNDAY, tick=False):
        plan_campaign(campaign_id=campaign.pk)
        chunk = campaign.chunks.get()
        send_chunk(chunk_id=chunk.pk, task_token=chunk.lease)
    return campaign


def test_while_sending_each_country_has_its_own_opening(
    seeded_defaults, marketer_client, company, abroad, outbox
):
    campaign = _sending(company)
    with time_machine.travel(SUNDAY, tick=False):
        page = marketer_client.get(f"/campaigns/{campaign.pk}/").content.decode()
        held = marketer_client.get(
            f"/campaigns/{campaign.pk}/", {"part": "held"}, headers=HTMX
        ).content.decode()
    # Sunday noon in Paris: France and South Africa shut until Monday, the US until 08:00.
    expected = [
        "<strong>1</strong> in the United States from Sunday 08:00 New York time",
        "<strong>1</strong> in the United States from Sunday 08:00 Los Angeles time",
        "<strong>1</strong> in South Africa from Monday 08:00 Johannesburg time",
        "<strong>1</strong> in France from Monday 08:00 Paris time",
    ]
    for line in expected:
        assert line in page and line in held
    assert "recipients wait for their sending hours" in page
    assert 'id="held"' in held and "<html" not in held
    assert [sms.to for sms in outbox] == ["+4915123456789"]


def test_the_page_says_who_overrode_the_hours(
    seeded_defaults, marketer_client, company, abroad, outbox
):
    campaign = _sending(company)
    staff = UserFactory(username="ops-anna", is_staff=True)
    with time_machine.travel(SUNDAY, tick=False):
        override_send_hours(campaign=campaign, actor=staff)
        page = marketer_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "Sending hours overridden by <strong>ops-anna</strong> at 6 Dec 2026, 12:00" in page
    assert "data-held-total" not in page


@pytest.mark.parametrize("query", [{}, {"part": "held"}])
def test_other_company_gets_404(seeded_defaults, outsider_client, company, abroad, query):
    for campaign in (CampaignFactory(company=company), _sending(company)):
        response = outsider_client.get(f"/campaigns/{campaign.pk}/", query, headers=HTMX)
        assert response.status_code == 404
