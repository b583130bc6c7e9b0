"""A marketer downloads a person's data and erases them from the contact page, in Chromium
on a laptop and on a phone."""

import json
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from addressbook.models import Contact
from campaigns.models import Campaign, Message
from optout.models import Suppression
from tests.factories import CampaignFactory, CompanyFactory, ContactFactory, MembershipFactory

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
SIZES = {
    "laptop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True},
}
PHONE = "+31612345678"
EMAIL = "anna.de.vries@example.com"


@pytest.fixture
def marketer(transactional_db):
    company = CompanyFactory(name="Acme Coffee", default_country="NL")
    contact = ContactFactory(
        company=company, phone=PHONE, email=EMAIL, first_name="Anna", last_name="de Vries"
    )
    campaign = CampaignFactory(company=company, name="Spring sale", status=Campaign.Status.SENT)
    Message.objects.create(
        company=company,
        campaign=campaign,
        contact=contact,
        to=PHONE,
        country="NL",
        body="Hi Anna, 20% off today. Afmelden: SMS STOP naar 3010",
        status=Message.Status.SENT,
    )
    return MembershipFactory(company=company).user


def fits_the_screen(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.browser
@pytest.mark.parametrize("size", SIZES)
def test_download_then_erase_from_the_contact_page(live_server, browser: Browser, marketer, size):
    width = SIZES[size]["viewport"]["width"]
    context = browser.new_context(**SIZES[size], accept_downloads=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(marketer.username)
    page.get_by_label("Password").fill("pw-for-tests")
    page.get_by_role("button", name="Log in").click()
    contact = Contact.objects.get()
    page.goto(f"{live_server.url}/contacts/{contact.pk}/")
    expect(page.get_by_role("heading", name="Anna de Vries")).to_be_visible()
    fits_the_screen(page, width)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"privacy-contact-{size}.png", full_page=True)

    with page.expect_download() as download:
        page.get_by_role("button", name="Download their data (JSON)").click()
    data = json.loads(Path(download.value.path()).read_text())
    assert download.value.suggested_filename.startswith(f"contact-{contact.pk}-")
    assert (data["contact"]["phone"], data["contact"]["email"]) == (PHONE, EMAIL)
    assert data["messages"][0]["campaign_name"] == "Spring sale"

    page.get_by_role("link", name="Erase this person…").click()
    expect(page.get_by_role("heading", name="Erase Anna de Vries?")).to_be_visible()
    expect(page.locator("#goes")).to_contain_text("The text of 1 message sent to them")
    expect(page.locator("#stays")).to_contain_text(f"{PHONE} and {EMAIL} stay on your opt-out")
    fits_the_screen(page, width)
    page.screenshot(path=SHOTS / f"privacy-erase-{size}.png", full_page=True)

    page.get_by_role("button", name="Erase this person").click()
    expect(page.get_by_role("alert")).to_have_text("Tick the box to confirm the erasure.")
    assert Contact.objects.exists()
    page.screenshot(path=SHOTS / f"privacy-erase-unconfirmed-{size}.png", full_page=True)

    page.get_by_label("I understand that this cannot be undone").check()
    page.get_by_role("button", name="Erase this person").click()
    expect(page.get_by_role("status")).to_contain_text("Erased Anna de Vries.")
    expect(page.get_by_role("heading", name="Contacts")).to_be_visible()
    page.screenshot(path=SHOTS / f"privacy-erased-{size}.png", full_page=True)
    assert not Contact.objects.exists()
    assert set(Suppression.objects.values_list("address", flat=True)) == {PHONE, EMAIL}
    assert Message.objects.get().body == ""
    context.close()
