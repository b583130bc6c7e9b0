"""A marketer reads the insights page on a laptop and on a phone: every chart drawn, the
page no wider than the screen, its filters working."""

import re
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import Browser, Page, expect

from tests.factories import CompanyFactory, MembershipFactory
from tests.insights.insights_data import NOW, build

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
WATCH = """
window.__refused = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__refused.push(`${e.effectiveDirective} refused ${e.blockedURI || "inline"}`);
});
"""


@pytest.fixture
def marketer(transactional_db):
    company = CompanyFactory(name="Acme Coffee", default_country="NL")
    build(company, CompanyFactory(name="Globex Travel", default_country="FR"))
    return MembershipFactory(company=company).user


def _log_in(page: Page, base: str, user) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("pw-for-tests")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()


def _charts_drawn(page: Page) -> int:
    """How many charts drew, once every chart that has numbers has."""
    figures = page.locator("figure[data-chart-figure]")
    with_numbers = figures.count() - page.locator("[data-chart-empty]").count()
    expect(page.locator('canvas[data-drawn="true"]')).to_have_count(with_numbers)
    return with_numbers


def _fits(page: Page, width: int) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"the page is {scroll_width}px wide on a {width}px screen"


@pytest.mark.browser
@pytest.mark.parametrize("width", [1366, 375])
def test_every_chart_draws_on_a_laptop_and_a_phone(live_server, browser: Browser, marketer, width):
    # tick: the browser's requests need the clock to move.
    with time_machine.travel(NOW, tick=True):
        context = browser.new_context(viewport={"width": width, "height": 900})
        try:
            page = context.new_page()
            page.add_init_script(WATCH)
            _log_in(page, live_server.url, marketer)
            page.get_by_role("navigation", name="Main").get_by_role("link", name="Insights").click()
            expect(page.get_by_role("heading", name="Insights")).to_be_visible()
            expect(page.locator('[data-stat="optouts"]')).to_have_text("11")
            assert _charts_drawn(page) == 5
            _fits(page, width)
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SHOTS / f"insights-{width}.png", full_page=True)

            # The numbers behind a chart open under it.
            figure = page.locator("#rate-by-campaign")
            figure.get_by_text("Numbers").click()
            expect(figure.get_by_role("link", name="Black Friday")).to_be_visible()

            page.get_by_label("Channel").select_option(label="Email")
            page.get_by_role("button", name="Show").click()
            expect(page).to_have_url(re.compile(r"channel=email"))
            expect(page.locator('[data-stat="optouts"]')).to_have_text("2")
            _charts_drawn(page)
            _fits(page, width)

            page.get_by_label("Period").select_option(label="Last 7 days")
            page.get_by_role("button", name="Show").click()
            expect(page.locator("[data-period]")).to_contain_text("24 Nov 2026 to 30 Nov 2026")
            _charts_drawn(page)

            page.get_by_label("Channel").select_option(label="All channels")
            page.get_by_role("button", name="Show").click()
            page.get_by_placeholder("Search what people wrote").fill("thanks")
            page.get_by_role("button", name="Search").click()
            expect(page.locator('[data-count="answers"]')).to_contain_text("1 answer")
            expect(page.locator("#answers")).to_contain_text("Not for me, thanks")
            expect(page.locator("[data-period]")).to_contain_text("24 Nov 2026")
            page.screenshot(path=SHOTS / f"insights-answers-{width}.png", full_page=True)
            assert page.evaluate("window.__refused") == []
        finally:
            context.close()
