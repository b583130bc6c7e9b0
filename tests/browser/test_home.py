"""The home page in Chromium, on a laptop and on a phone: this week's figures, both charts
drawn, the alarm notice with its Resume button, and a new company's first steps."""

from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import Browser, Page, expect

from tests.factories import CompanyFactory, MembershipFactory
from tests.insights.home_data import NOW, alarm_paused, build

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
WIDTHS = [1366, 375]


@pytest.fixture
def marketer(transactional_db):
    company = CompanyFactory(name="Acme Coffee", default_country="NL")
    build(company, CompanyFactory(name="Globex Travel", default_country="FR"))
    alarm_paused(company)
    return MembershipFactory(company=company).user


@pytest.fixture
def newcomer(transactional_db):
    return MembershipFactory(company=CompanyFactory(name="Fresh Start")).user


def _log_in(page: Page, base: str, user) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("pw-for-tests")
    page.get_by_role("button", name="Log in").click()


def _fits(page: Page, width: int) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"the page is {scroll_width}px wide on a {width}px screen"


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_the_week_at_a_glance_and_the_alarm(live_server, browser: Browser, marketer, width):
    # tick: the browser's requests need the clock to move.
    with time_machine.travel(NOW, tick=True):
        context = browser.new_context(viewport={"width": width, "height": 900})
        try:
            page = context.new_page()
            _log_in(page, live_server.url, marketer)
            expect(page.get_by_role("heading", name="This week")).to_be_visible()
            # 1,000 sent by the hand count, plus the 100 of the campaign the alarm paused.
            expect(page.locator('[data-figure="sent"]')).to_have_text("1,100")
            expect(page.locator('[data-figure="optouts"]')).to_have_text("10")
            expect(page.locator('[data-figure="suppressed"]')).to_have_text("16")
            expect(page.locator('canvas[data-drawn="true"]')).to_have_count(2)
            notice = page.locator("[data-alarm]")
            expect(notice).to_contain_text("5 opt-outs from 100 messages sent (5.0%)")
            expect(page.locator("tr[data-optout]")).to_have_count(10)
            _fits(page, width)
            _shot(page, f"home-{width}")
            page.locator(".home-latest").screenshot(path=SHOTS / f"home-latest-{width}.png")

            notice.get_by_role("link", name="Black Friday").click()
            expect(page.get_by_role("heading", name="This campaign paused itself")).to_be_visible()
            _fits(page, width)
            _shot(page, f"campaign-alarm-{width}")

            page.get_by_role("button", name="Resume sending").click()
            # Not the flash message: the page's progress poll, answered just after the
            # resume, may reload the page (its status changed) before the flash shows.
            expect(page.get_by_role("heading", name="Black Friday")).to_contain_text("Sending")
            expect(page.locator("[data-alarm]")).to_have_count(0)
        finally:
            context.close()


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_a_new_company_sees_where_to_start(live_server, browser: Browser, newcomer, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    try:
        page = context.new_page()
        _log_in(page, live_server.url, newcomer)
        expect(page.get_by_role("heading", name="Welcome to Fresh Start")).to_be_visible()
        page.get_by_role("link", name="Import your contacts").click()
        expect(page).to_have_url(f"{live_server.url}/imports/new/")
        page.go_back()
        _fits(page, width)
        _shot(page, f"home-new-{width}")
    finally:
        context.close()
