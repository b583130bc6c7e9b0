"""A marketer writes an SMS campaign with the live preview, then schedules it, in Chromium."""

import re
import zoneinfo
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from campaigns.models import Campaign
from tests.factories import CompanyFactory, ContactFactory, MembershipFactory

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"


@pytest.fixture
def marketer(transactional_db, seeded_defaults):
    company = CompanyFactory(name="Acme Coffee", default_country="NL")
    ContactFactory(company=company, first_name="Sanne")
    ContactFactory(company=company, first_name="Daan")
    ContactFactory(company=company, first_name="Camille", phone="+33612345678", country="FR")
    return MembershipFactory(company=company).user


@pytest.mark.browser
def test_marketer_writes_previews_and_schedules_a_campaign(live_server, page: Page, marketer):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(marketer.username)
    page.get_by_label("Password").fill("pw-for-tests")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name="New campaign").click()
    expect(page.get_by_role("heading", name="New campaign")).to_be_visible()
    page.evaluate("window.notReloaded = true")
    SHOTS.mkdir(parents=True, exist_ok=True)

    panel = page.locator("#preview-panel")
    encoding = panel.locator('#length [data-counter="encoding"]')
    parts = panel.locator('#length [data-counter="parts"]')
    expect(panel.locator('[data-preview="total"]')).to_have_text("3")
    page.get_by_label("Name", exact=True).fill("Spring beans")
    page.get_by_label("Body", exact=True).fill(
        "Hi {{ first_name }}, it’s spring: our new beans are in!"
    )
    expect(encoding).to_have_text("UCS-2")
    expect(panel).to_contain_text("’ forces Unicode (70 characters per part)")
    expect(parts).to_have_text("2")
    expect(panel.locator('[data-country="FR"]')).to_contain_text("STOP au 36111")

    page.get_by_role("button", name="Replace ’ with '").click()
    expect(encoding).to_have_text("GSM-7")
    expect(parts).to_have_text("1")
    expect(page.get_by_label("Body", exact=True)).to_have_value(
        "Hi {{ first_name }}, it's spring: our new beans are in!"
    )

    page.get_by_label("NL", exact=True).check()
    expect(panel.locator('[data-preview="total"]')).to_have_text("2")
    expect(panel.locator('[data-country="FR"]')).to_have_count(0)
    assert page.evaluate("window.notReloaded") is True
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=SHOTS / "campaign-editor.png", full_page=True)

    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("heading", name="Spring beans")).to_be_visible()
    expect(page.get_by_role("button", name="Send now (2 contacts)")).to_be_enabled()
    campaign = Campaign.objects.get()
    assert campaign.countries == ["NL"]
    assert campaign.body == "Hi {{ first_name }}, it's spring: our new beans are in!"

    zone = zoneinfo.ZoneInfo("Europe/Amsterdam")
    tomorrow = (datetime.now(zone) + timedelta(days=1)).replace(hour=9, minute=30)
    page.get_by_label("Send at (Europe/Amsterdam time)").fill(tomorrow.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Schedule").click()
    expect(
        page.get_by_role("heading", name=re.compile("Schedule “Spring beans” for"))
    ).to_be_visible()
    page.screenshot(path=SHOTS / "campaign-schedule-confirm.png", full_page=True)
    page.get_by_role("button", name="Yes, schedule for 2 contacts").click()
    expect(page.locator("[data-scheduled]")).to_have_text(
        re.compile(rf"Scheduled for {tomorrow:%-d %b %Y}, 09:30 \(Europe/Amsterdam\)")
    )
    page.screenshot(path=SHOTS / "campaign-scheduled.png", full_page=True)

    page.get_by_role("button", name="Cancel schedule").click()
    expect(page.get_by_role("status")).to_contain_text("is a draft again")
    expect(page.get_by_role("button", name="Send now (2 contacts)")).to_be_visible()
    campaign.refresh_from_db()
    assert (campaign.status, campaign.scheduled_at) == (Campaign.Status.DRAFT, None)


@pytest.mark.browser
def test_editor_warns_live_as_the_body_passes_the_parts_cap(live_server, page: Page, marketer):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(marketer.username)
    page.get_by_label("Password").fill("pw-for-tests")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/campaigns/new/")
    page.evaluate("window.notReloaded = true")
    panel = page.locator("#preview-panel")
    warning = panel.locator('[data-counter="over-limit"]')
    page.get_by_label("Name", exact=True).fill("Long story")

    page.get_by_label("Body", exact=True).fill("Beans! " * 286)  # 2,002 characters
    expect(warning).to_have_text(
        "14 parts is more than the 8 your company sends in one message (Settings): "
        "shorten it to save."
    )
    expect(panel.locator('#length [data-counter="parts"]')).to_have_text("14")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "campaign-editor-over-cap.png", full_page=True)

    page.get_by_label("Body", exact=True).fill("Beans! " * 20)
    expect(warning).to_have_count(0)
    assert page.evaluate("window.notReloaded") is True  # warned as typed, not on a reload

    page.get_by_label("Body", exact=True).fill("Beans! " * 286)
    expect(warning).to_be_visible()
    page.get_by_role("button", name="Save draft").click()
    expect(
        page.get_by_text("your company sends at most 8 (Settings). Shorten it.").first
    ).to_be_visible()
    assert not Campaign.objects.exists()
