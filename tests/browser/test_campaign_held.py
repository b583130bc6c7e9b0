"""A marketer in Amsterdam at 05:17 sees, before Send and while sending, who waits for
their sending hours and until when in their own zone, on a laptop and on a phone."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from campaigns.models import Campaign
from campaigns.services import plan_campaign, send_chunk
from tests.factories import CampaignFactory, CompanyFactory, ContactFactory, MembershipFactory

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
SIZES = {
    "laptop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True},
}
# Monday 05:17 in Amsterdam. Hours are judged at this moment (not the clock's) so that the
# browser and the server keep their own real time.
EARLY_MONDAY = "2026-12-07T05:17:00+01:00"
LINES = [
    "1 in South Africa from Monday 08:00 Johannesburg time",
    "2 in France from Monday 08:00 Paris time",
    "1 in the United States from Monday 08:00 New York time",
    "1 in the United States from Monday 08:00 Los Angeles time",
]


@pytest.fixture
def abroad(transactional_db, seeded_defaults, settings):
    settings.SEND_HOURS_AT = EARLY_MONDAY
    company = CompanyFactory(name="Acme Coffee", default_country="NL", timezone="Europe/Amsterdam")
    for phone, country in (
        ("+33612345678", "FR"),
        ("+33612345679", "FR"),
        ("+27711234567", "ZA"),
        ("+12015550123", "US"),
        ("+12135550123", "US"),
        ("+4915123456789", "DE"),
    ):
        ContactFactory(company=company, phone=phone, country=country)
    draft = CampaignFactory(company=company, name="Winter beans")
    sending = CampaignFactory(company=company, name="Advent beans", status=Campaign.Status.SENDING)
    plan_campaign(campaign_id=sending.pk)
    chunk = sending.chunks.get()
    send_chunk(chunk_id=chunk.pk, task_token=chunk.lease)
    return MembershipFactory(company=company).user, draft, sending


@pytest.fixture(params=SIZES)
def sized_page(request, browser: Browser):
    context = browser.new_context(**SIZES[request.param])
    yield request.param, context.new_page()
    context.close()


@pytest.mark.browser
def test_marketer_sees_who_waits_for_their_hours(live_server, sized_page, abroad):
    size, page = sized_page
    user, draft, sending = abroad
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("pw-for-tests")
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile("/login/"))
    SHOTS.mkdir(parents=True, exist_ok=True)
    width = SIZES[size]["viewport"]["width"]

    page.goto(f"{live_server.url}/campaigns/{draft.pk}/")
    card = page.locator("section.card", has=page.get_by_role("heading", name="Before you send"))
    held = card.locator("[data-held]")
    expect(held).to_contain_text("5 recipients would wait for their sending hours")
    expect(held.locator("li")).to_have_text(LINES)
    expect(card.get_by_role("button", name="Send now (6 contacts)")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    card.screenshot(path=SHOTS / f"campaign-held-before-send-{size}.png")

    page.goto(f"{live_server.url}/campaigns/{sending.pk}/")
    held = page.locator("#held [data-held]")
    expect(held).to_contain_text("5 recipients wait for their sending hours")
    expect(held.locator("li")).to_have_text(LINES)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=SHOTS / f"campaign-held-sending-{size}.png")


@pytest.mark.browser
def test_the_editor_says_who_would_wait_as_the_audience_changes(live_server, sized_page, abroad):
    size, page = sized_page
    user, _, _ = abroad
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("pw-for-tests")
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile("/login/"))
    page.goto(f"{live_server.url}/campaigns/new/")
    held = page.locator("#preview-panel [data-held]")
    expect(held.locator("li")).to_have_text(LINES)

    page.get_by_label("FR", exact=True).check()
    expect(held.locator("li")).to_have_text([LINES[1]])
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["viewport"]["width"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#preview-panel").screenshot(path=SHOTS / f"campaign-held-editor-{size}.png")
