"""A marketer's day in Chromium, on a laptop and on a phone: ticking a page of contacts
and sorting them, reading the campaign list's figures, and a contact's history."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from campaigns.models import Campaign, Channel, Message
from optout.services import record_optout
from tests.campaigns.test_report import build_reported_campaign
from tests.factories import CampaignFactory, CompanyFactory, ContactFactory, MembershipFactory

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
SIZES = {
    "laptop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True},
}
NAMES = ["Daan", "ada", "Cas", "Bo"]


@pytest.fixture
def marketer(transactional_db):
    company = CompanyFactory(name="Acme Coffee", default_country="NL", timezone="Europe/Amsterdam")
    return MembershipFactory(company=company).user


@pytest.fixture(params=SIZES)
def sized_page(request, browser: Browser, live_server, marketer):
    context = browser.new_context(**SIZES[request.param])
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(marketer.username)
    page.get_by_label("Password").fill("pw-for-tests")
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile("/login/"))
    yield request.param, page
    context.close()


def _shot(page: Page, name: str, size: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}-{size}.png", full_page=True)


def _no_sideways_scroll(page: Page, size: str) -> None:
    width = SIZES[size]["viewport"]["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.browser
def test_tick_a_page_of_contacts_and_sort_them(live_server, sized_page, marketer):
    size, page = sized_page
    company = marketer.memberships.get().company
    for name in NAMES:
        ContactFactory(company=company, first_name=name)
    page.goto(f"{live_server.url}/contacts/")
    boxes = page.locator('#results input[name="ids"]')
    select_all = page.get_by_label("Select every contact on this page")

    select_all.check()
    for i in range(len(NAMES)):
        expect(boxes.nth(i)).to_be_checked()
    boxes.first.uncheck()  # one less: the page is no longer all ticked
    expect(select_all).not_to_be_checked()
    boxes.first.check()
    expect(select_all).to_be_checked()
    select_all.uncheck()
    expect(page.locator('#results input[name="ids"]:checked')).to_have_count(0)

    names = page.locator("#results tbody td:nth-child(2)")
    page.get_by_role("link", name="Name", exact=True).click()
    expect(page).to_have_url(re.compile(r"sort=name"))
    expect(names).to_have_text(["ada Tester", "Bo Tester", "Cas Tester", "Daan Tester"])
    page.get_by_role("link", name=re.compile(r"^Name")).click()
    expect(page).to_have_url(re.compile(r"sort=-name"))
    expect(names).to_have_text(["Daan Tester", "Cas Tester", "Bo Tester", "ada Tester"])
    # Searching keeps the order it was given.
    page.get_by_label("Search contacts").fill("a")
    expect(page).to_have_url(re.compile(r"q=a.*sort=-name|sort=-name.*q=a"))
    expect(names).to_have_text(["Daan Tester", "Cas Tester", "ada Tester"])
    page.wait_for_load_state("networkidle")  # the search's last swap is in
    select_all = page.get_by_label("Select every contact on this page")
    select_all.check()  # the swapped-in rows answer too
    expect(page.locator('#results input[name="ids"]:checked')).to_have_count(3)
    _shot(page, "contact-list-sorted", size)


@pytest.mark.browser
def test_the_campaign_list_shows_what_each_campaign_did(live_server, sized_page, marketer):
    size, page = sized_page
    company = marketer.memberships.get().company
    sent = build_reported_campaign(company, name="Winter sale")
    CampaignFactory(company=company, name="Spring draft")
    page.goto(f"{live_server.url}/campaigns/")
    row = page.locator(f'tr[data-campaign="{sent.pk}"]')
    expect(row.locator('[data-count="sent"]')).to_have_text("7")
    expect(row.locator('[data-count="delivered"]')).to_have_text("4")
    expect(row.locator('[data-count="optouts"]')).to_have_text("5")
    expect(row.locator('[data-count="rate"]')).to_have_text("71.43 %")
    draft = page.locator("tr", has_text="Spring draft")
    expect(draft.locator('[data-count="sent"]')).to_have_text("—")
    _no_sideways_scroll(page, size)
    _shot(page, "campaign-list", size)


@pytest.mark.browser
def test_a_contacts_page_shows_their_history(live_server, sized_page, marketer):
    size, page = sized_page
    company = marketer.memberships.get().company
    contact = ContactFactory(company=company, first_name="Ada", email="ada@example.nl")
    start = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    campaigns = [
        Campaign.objects.create(
            company=company, name=f"Weekly deal {i}", body="Hi", status=Campaign.Status.SENT
        )
        for i in range(1, 13)
    ]
    Message.objects.bulk_create(
        Message(
            company=company,
            campaign=campaign,
            contact=contact,
            to=contact.phone,
            channel=Channel.SMS,
            status=Message.Status.DELIVERED,
            sent_at=start + timedelta(days=7 * i),
        )
        for i, campaign in enumerate(campaigns)
    )
    record_optout(
        company=company,
        address=contact.phone,
        source="landing_page",
        campaign_id=campaigns[-1].pk,
        reason="too_many",
    )
    page.goto(f"{live_server.url}/contacts/{contact.pk}/")
    history = page.locator("#history")
    expect(history.get_by_role("heading", name="Messages")).to_be_visible()
    expect(history.locator("tr[data-message]")).to_have_count(10)
    expect(history.locator("tr[data-message]").first).to_contain_text("Weekly deal 12")
    expect(history.locator("tr[data-message]").first).to_contain_text("18 Jan 2027 10:30")
    expect(history.get_by_role("heading", name="Consent history")).to_be_visible()
    expect(history).to_contain_text("from Weekly deal 12")
    _no_sideways_scroll(page, size)
    _shot(page, "contact-history", size)

    history.get_by_role("link", name="All 12 messages").click()
    expect(page.get_by_role("heading", name="History of Ada Tester")).to_be_visible()
    expect(page.locator("tr[data-message]")).to_have_count(12)
    page.get_by_role("link", name="Weekly deal 1", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile(r"^Weekly deal 1 "))).to_be_visible()
