"""A recipient on a phone opens their link, confirms their number and leaves."""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from campaigns.models import Campaign, Message
from optout.models import ConsentEvent, Suppression
from tests.factories import CampaignFactory, CompanyFactory, ContactFactory

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, **PHONE}


@pytest.fixture
def message(transactional_db):
    company = CompanyFactory(name="Acme Coffee")
    contact = ContactFactory(company=company, phone="+27711234567", country="ZA")
    campaign = CampaignFactory(company=company, status=Campaign.Status.SENT)
    return Message.objects.create(
        company=company,
        campaign=campaign,
        contact=contact,
        to=contact.phone,
        country="ZA",
        short_code="Xk7pQ2ab",
        status=Message.Status.SENT,
    )


@pytest.mark.browser
def test_recipient_opts_out_on_a_phone(live_server, page: Page, message):
    page.goto(f"{live_server.url}/s/Xk7pQ2ab")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Acme Coffee")
    expect(page.locator(".masked")).to_have_text("+27 7 •••• 4567")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "landing.png", full_page=True)

    page.get_by_label("Your mobile number").fill("071 123 0000")
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("alert")).to_contain_text("not the number this message was sent to")
    assert not Suppression.objects.exists()

    page.get_by_label("Your mobile number").fill("071 123 4567")
    page.get_by_label("Too many messages").check()
    page.get_by_label("Anything else? (optional)").fill("Once a week would be fine")
    page.get_by_role("button", name="Unsubscribe").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("You're unsubscribed")
    page.screenshot(path=SHOTS / "landing-done.png", full_page=True)
    event = ConsentEvent.objects.get()
    assert (event.address, event.reason, event.reason_text) == (
        "+27711234567",
        "too_many",
        "Once a week would be fine",
    )
    assert Suppression.objects.filter(company=message.company, address="+27711234567").exists()

    # Changed their mind at once: undo, from the same page.
    page.get_by_role("button", name="Undo: keep receiving messages").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You're subscribed again")
    assert not Suppression.objects.exists()


@pytest.mark.browser
def test_recipient_reads_the_page_in_their_language(live_server, page: Page, message):
    Message.objects.filter(pk=message.pk).update(country="FR", to="+33612345678")
    page.goto(f"{live_server.url}/s/Xk7pQ2ab")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    heading_fr = page.get_by_role("heading", level=1).inner_text()

    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Stop marketing messages from")
    assert heading_fr != page.get_by_role("heading", level=1).inner_text()
    page.screenshot(path=SHOTS / "landing-en.png", full_page=True)


@pytest.mark.browser
def test_a_recipient_who_mistyped_too_often_still_gets_out(
    live_server, page: Page, message, settings
):
    settings.LANDING_WRONG_NUMBERS_PER_CODE = 2
    page.goto(f"{live_server.url}/s/Xk7pQ2ab")
    for _ in range(2):
        page.get_by_label("Your mobile number").fill("071 123 0000")
        page.get_by_role("button", name="Unsubscribe").click()
        expect(page.get_by_role("alert")).to_contain_text("not the number")

    page.get_by_label("Your mobile number").fill("071 123 4567")
    page.get_by_role("button", name="Unsubscribe").click()

    expect(page.locator("main")).to_contain_text(
        "If that is the number this message was sent to, it will get no more marketing "
        "from Acme Coffee"
    )
    page.screenshot(path=SHOTS / "landing-if-yours.png", full_page=True)
    assert Suppression.objects.filter(company=message.company, address="+27711234567").exists()
