"""The main pages run under the Content-Security-Policy with nothing refused, in Chromium."""

from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from campaigns.models import Campaign, Message, SentTally
from optout.services import record_optout
from tests.factories import (
    CampaignFactory,
    CompanyFactory,
    ContactFactory,
    MembershipFactory,
    UserFactory,
)

FILES = Path(__file__).resolve().parents[1] / "addressbook" / "files"
SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
# Runs in the page before its own scripts; the browser reports every refusal this way.
WATCH = """
window.__refused = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__refused.push(`${e.effectiveDirective} refused ${e.blockedURI || "inline"}`);
});
"""


@pytest.fixture
def company(transactional_db, seeded_defaults):
    company = CompanyFactory(name="Acme Coffee", default_country="NL")
    ContactFactory(company=company, first_name="Sanne")
    ContactFactory(company=company, first_name="Camille", phone="+33612345678", country="FR")
    return company


@pytest.fixture
def refused(page: Page) -> list[str]:
    """What the policy refused, as the page's console says it."""
    messages: list[str] = []
    page.add_init_script(WATCH)
    page.on(
        "console",
        lambda msg: messages.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return messages


def _log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-for-tests")
    page.get_by_role("button", name="Log in").click()


def _nothing_refused(page: Page, console: list[str]) -> None:
    assert page.evaluate("window.__refused") == []
    assert console == []


def _shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=SHOTS / f"csp-{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.mark.browser
def test_dashboard_pages_run_with_nothing_refused(live_server, page: Page, company, refused):
    marketer = MembershipFactory(company=company).user
    _log_in(page, live_server.url, marketer.username)

    # A log-in lands on the home page; the contacts are one click away.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contacts").click()
    expect(page.get_by_role("heading", name="Contacts")).to_be_visible()
    page.get_by_label("Search contacts").fill("Camille")
    expect(page.locator('[data-count="matching"]')).to_have_text("1")
    _nothing_refused(page, refused)
    _shoot(page, "contacts")

    page.goto(f"{live_server.url}/campaigns/new/")
    page.evaluate("window.notReloaded = true")
    panel = page.locator("#preview-panel")
    page.get_by_label("Body", exact=True).fill("Hi {{ first_name }}, fresh beans today")
    expect(panel.locator('[data-country="NL"]')).to_contain_text("Hi Sanne, fresh beans today")
    page.get_by_label("Body", exact=True).fill("Hi {{ first_name }}, ‘new’ beans")
    expect(panel.locator('#length [data-counter="encoding"]')).to_have_text("UCS-2")
    assert page.evaluate("window.notReloaded") is True
    _nothing_refused(page, refused)
    _shoot(page, "campaign-editor")

    page.goto(f"{live_server.url}/imports/new/")
    page.get_by_label("File").set_input_files(FILES / "messy.csv")
    page.get_by_role("button", name="Upload").click()
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview")).to_contain_text("Duplicate in the file")
    _nothing_refused(page, refused)

    campaign = CampaignFactory(company=company, name="Spring beans", status=Campaign.Status.SENDING)
    for contact, status in zip(company.contacts.all(), ["sent", "queued"], strict=True):
        campaign.messages.create(company=company, contact=contact, to=contact.phone, status=status)
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    expect(page.get_by_role("progressbar", name="Messages done")).to_have_attribute("value", "50")
    _nothing_refused(page, refused)
    _shoot(page, "campaign-progress")

    # The pages with charts: Chart.js draws them without a style the policy refuses.
    SentTally.objects.create(
        company=company,
        campaign=campaign,
        channel=campaign.channel,
        hour=timezone.now().replace(minute=0, second=0, microsecond=0),
        country="NL",
        sent=2,
    )
    record_optout(company=company, address="+31610000000", source="api", campaign_id=campaign.pk)
    for path in ("/", "/insights/", f"/campaigns/{campaign.pk}/"):
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("canvas[data-drawn]").first).to_be_visible()
        _nothing_refused(page, refused)

    # The detector itself: an inline style is what the policy must refuse.
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color:red\">x</p>')")
    page.wait_for_function("window.__refused.length > 0")
    assert "style-src-attr" in page.evaluate("window.__refused")[0]


@pytest.mark.browser
def test_landing_page_runs_with_nothing_refused(live_server, page: Page, company, refused):
    contact = ContactFactory(company=company, phone="+27711234567", country="ZA")
    campaign = CampaignFactory(company=company, status=Campaign.Status.SENT)
    Message.objects.create(
        company=company,
        campaign=campaign,
        contact=contact,
        to=contact.phone,
        country="ZA",
        short_code="Csp2345a",
        status=Message.Status.SENT,
    )
    page.goto(f"{live_server.url}/s/Csp2345a")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Acme Coffee")
    _nothing_refused(page, refused)
    _shoot(page, "landing")

    page.get_by_label("Your mobile number").fill("071 123 4567")
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You're unsubscribed")
    _nothing_refused(page, refused)


@pytest.mark.browser
def test_admin_runs_with_nothing_refused(live_server, page: Page, company, refused):
    staff = UserFactory(is_staff=True, is_superuser=True)
    _log_in(page, live_server.url, staff.username)

    page.goto(f"{live_server.url}/admin/")
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    _nothing_refused(page, refused)
    page.goto(f"{live_server.url}/admin/addressbook/contact/")
    page.get_by_role("checkbox", name="Select all objects on this page for an action").check()
    expect(page.locator(".action-counter")).to_contain_text("2 of 2 selected")
    _nothing_refused(page, refused)
    page.goto(f"{live_server.url}/admin/auth/user/add/")
    expect(page.get_by_role("heading", name="Add user")).to_be_visible()
    _nothing_refused(page, refused)
    # Its richest form: a select2 autocomplete, the two-box group picker, a prepopulated slug.
    page.goto(f"{live_server.url}/admin/addressbook/contact/add/")
    page.locator(".select2-selection").first.click()
    expect(page.locator(".select2-results")).to_contain_text("Acme Coffee")
    expect(page.locator("#id_groups_from")).to_be_visible()
    _nothing_refused(page, refused)
    page.goto(f"{live_server.url}/admin/addressbook/company/add/")
    page.locator("#id_name").press_sequentially("Globex Travel")
    expect(page.locator("#id_slug")).to_have_value("globex-travel")
    _nothing_refused(page, refused)
