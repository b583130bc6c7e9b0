"""A marketer reads a person's consent history on the contact page and opens the consent
certificate, in Chromium on a laptop and on a phone."""

from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import Browser, expect

from optout.consent import Seen
from optout.models import Source
from optout.services import record_optout
from tests.factories import CampaignFactory, CompanyFactory, ContactFactory, MembershipFactory

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
SIZES = {
    "laptop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True},
}


@pytest.fixture
def marketer(transactional_db):
    company = CompanyFactory(name="Acme Coffee", default_country="NL")
    spring = CampaignFactory(company=company, name="Spring sale")
    contact = ContactFactory(
        company=company, first_name="Anna", phone="+31612345678", email="anna@example.com"
    )
    with time_machine.travel("2026-03-01 10:00Z", tick=False):
        record_optout(
            company=company,
            address=contact.phone,
            source=Source.LANDING_PAGE,
            campaign_id=spring.pk,
            reason="too_many",
            seen=Seen(ip_address="203.0.113.9", user_agent="Firefox/140", wording_version="v1/nl"),
        )
    user = MembershipFactory(company=company).user
    user.contact_pk = contact.pk
    return user


@pytest.mark.browser
@pytest.mark.parametrize("size", SIZES)
def test_consent_history_and_certificate(live_server, browser: Browser, marketer, size):
    width = SIZES[size]["viewport"]["width"]
    context = browser.new_context(**SIZES[size])
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(marketer.username)
    page.get_by_label("Password").fill("pw-for-tests")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/contacts/{marketer.contact_pk}/")

    history = page.locator(".timeline li")
    expect(history).to_have_count(2)
    expect(history.filter(has_text="anna@example.com")).to_contain_text(
        "another address of the same person +31612345678"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"contact-consent-{size}.png", full_page=True)

    page.get_by_role("link", name="+31612345678", exact=True).click()
    expect(page.get_by_role("heading", name="Consent certificate")).to_be_visible()
    # The heading can show before the page's stylesheet has loaded, and unstyled, its
    # 64-character fingerprint is wider than a phone: measure the page as it is shown.
    page.wait_for_load_state("load")
    expect(page.locator("body")).to_contain_text("Opted out")
    expect(page.locator("body")).to_contain_text("Spring sale")
    expect(page.locator("body")).to_contain_text("203.0.113.9")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=SHOTS / f"consent-certificate-{size}.png", full_page=True)
    context.close()
