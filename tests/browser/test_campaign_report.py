"""A marketer reads a sent campaign's report in Chromium, on a laptop and on a phone."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.campaigns.test_report import build_reported_campaign
from tests.factories import CompanyFactory, MembershipFactory

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
SIZES = {
    "laptop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True},
}
CHARTS = ["funnel", "optout-hours", "reasons", "countries"]


@pytest.fixture
def reported(transactional_db):
    company = CompanyFactory(name="Acme Coffee", default_country="NL")
    user = MembershipFactory(company=company).user
    return user, build_reported_campaign(company)


@pytest.fixture(params=SIZES)
def sized_page(request, browser: Browser):
    context = browser.new_context(**SIZES[request.param])
    yield request.param, context.new_page()
    context.close()


@pytest.mark.browser
def test_report_draws_every_chart(live_server, sized_page, reported):
    size, page = sized_page
    user, campaign = reported
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("pw-for-tests")
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile("/login/"))
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")

    report = page.locator("#report")
    expect(report.get_by_role("heading", name="Report")).to_be_visible()
    for chart in CHARTS:
        expect(page.locator(f'#{chart} canvas[data-drawn="true"]')).to_have_count(1)
    # Nothing wider than the screen: the page never scrolls sideways.
    width = SIZES[size]["viewport"]["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.locator("#funnel summary").click()
    expect(page.locator("#funnel table")).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    report.screenshot(path=SHOTS / f"campaign-report-{size}.png")
    page.screenshot(path=SHOTS / f"campaign-page-{size}.png", full_page=True)

    with page.expect_download() as download:
        report.get_by_role("link", name="Download report (CSV)").click()
    assert download.value.suggested_filename == f"campaign-{campaign.pk}-report.csv"
