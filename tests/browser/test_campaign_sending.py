"""A marketer tries a draft on their own phone, then sends it after the confirmation page,
in Chromium, on a laptop and on a phone."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from campaigns.models import Campaign
from optout.services import record_optout
from tests.factories import CampaignFactory, CompanyFactory, ContactFactory, MembershipFactory

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
SIZES = {
    "laptop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True},
}


@pytest.fixture
def campaign(transactional_db, seeded_defaults):
    company = CompanyFactory(name="Acme Coffee", default_country="NL")
    ContactFactory(company=company, first_name="Sanne")
    ContactFactory(company=company, first_name="Daan")
    ContactFactory(company=company, first_name="Camille", phone="+33612345678", country="FR")
    record_optout(company=company, address="+33612345678", source="sms_keyword")
    user = MembershipFactory(company=company, user__first_name="Marta").user
    campaign = CampaignFactory(
        company=company, name="Spring beans", sender="AcmeCoffee", body="Hi {{ first_name }}!"
    )
    return user, campaign


@pytest.fixture(params=SIZES)
def sized_page(request, browser: Browser):
    context = browser.new_context(**SIZES[request.param])
    yield request.param, context.new_page()
    context.close()


def _log_in(page: Page, url: str, user) -> None:
    page.goto(f"{url}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("pw-for-tests")
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile("/login/"))


def _fits(page: Page, size: str) -> None:
    """Nothing wider than the screen: the page never scrolls sideways."""
    width = SIZES[size]["viewport"]["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.browser
def test_marketer_sends_a_test_to_their_own_phone(live_server, sized_page, campaign, outbox):
    size, page = sized_page
    user, draft = campaign
    _log_in(page, live_server.url, user)
    page.goto(f"{live_server.url}/campaigns/{draft.pk}/")
    card = page.locator("#test-send")
    expect(card).to_contain_text("20 of 20 left this hour.")

    page.get_by_label("Send a test to").fill("06 1234")
    page.get_by_role("button", name="Send test").click()
    expect(page.get_by_role("alert")).to_contain_text("“06 1234” is not a valid NL phone number")
    SHOTS.mkdir(parents=True, exist_ok=True)
    _fits(page, size)
    page.locator("#test-send").screenshot(path=SHOTS / f"campaign-test-send-error-{size}.png")
    assert not outbox

    page.get_by_label("Send a test to").fill("06 87654321, +33 6 11 22 33 44")
    page.get_by_role("button", name="Send test").click()
    expect(page.get_by_role("status")).to_have_text("Test sent to +31687654321, +33611223344.")
    expect(page.locator("#test-send")).to_contain_text("18 of 20 left this hour.")
    page.screenshot(path=SHOTS / f"campaign-test-sent-{size}.png", full_page=True)
    assert [sms.body for sms in outbox] == [
        "[Test] Hi Marta!\nAfmelden: SMS STOP naar 3010",
        "[Test] Hi Marta!\nSTOP au 36111",
    ]
    # Still a draft that has sent nothing: the test is in none of its figures.
    expect(page.get_by_role("button", name="Send now (2 contacts)")).to_be_visible()
    expect(page.get_by_text("Nothing sent yet.")).to_be_visible()


@pytest.mark.browser
def test_marketer_confirms_before_sending(
    live_server, sized_page, campaign, outbox, celery_worker, wait_for
):
    size, page = sized_page
    user, draft = campaign
    _log_in(page, live_server.url, user)
    page.goto(f"{live_server.url}/campaigns/{draft.pk}/")

    page.get_by_role("button", name="Send now (2 contacts)").click()
    expect(page.get_by_role("heading", name="Send “Spring beans” now?")).to_be_visible()
    expect(page.locator('[data-confirm="audience"]')).to_have_text(
        re.compile(
            r"2 contacts will get this SMS from AcmeCoffee;\s+1 opted out and will be skipped"
        )
    )
    expect(page.locator('[data-confirm="parts"]')).to_have_text("2 SMS parts in all.")
    expect(page.locator('tr[data-country="NL"]')).to_have_text(re.compile(r"NL\s*2\s*2\s*none"))
    expect(page.locator('tr[data-country="FR"]')).to_have_text(re.compile(r"FR\s*0\s*0\s*none"))
    SHOTS.mkdir(parents=True, exist_ok=True)
    _fits(page, size)
    page.screenshot(path=SHOTS / f"campaign-send-confirm-{size}.png", full_page=True)

    page.get_by_role("link", name="No, go back").click()
    expect(page.get_by_role("heading", name="Spring beans")).to_be_visible()
    assert Campaign.objects.get(pk=draft.pk).status == Campaign.Status.DRAFT
    assert not outbox

    page.get_by_role("button", name="Send now (2 contacts)").click()
    page.get_by_role("button", name="Yes, send to 2 contacts").click()
    expect(page.get_by_role("status")).to_have_text("“Spring beans” is being sent.")
    expect(page.locator("[data-status]")).to_have_text("Sent", timeout=30_000)
    wait_for(lambda: len(outbox) == 2, what="both messages handed to the gateway")
    assert sorted(sms.to for sms in outbox) == sorted(
        draft.company.contacts.filter(country="NL").values_list("phone", flat=True)
    )
