"""A marketer brings an address back with proof of consent, and asks another person to
confirm by double opt-in, who then confirms on their phone: in Chromium on a laptop and on
a phone."""

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Browser, expect

from campaigns.backends import locmem
from optout.models import ConsentEvent, OptinRequest, Source
from optout.selectors import is_suppressed
from optout.services import record_optout
from tests.factories import CompanyFactory, MembershipFactory

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
SIZES = {
    "laptop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True},
}
PAPER = "+31612345678"
ASKED = "+31687654321"
WORDING = "Yes, send me offers from Acme Coffee by SMS and email. I can stop at any time."


@pytest.fixture
def marketer(transactional_db, seeded_defaults, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    company = CompanyFactory(name="Acme Coffee", default_country="NL")
    with time_machine.travel(timezone.now() - timedelta(hours=3), tick=False):
        record_optout(company=company, address=PAPER, source=Source.LANDING_PAGE, reason="too_many")
        record_optout(company=company, address=ASKED, source=Source.SMS_KEYWORD, raw_text="STOP")
    return MembershipFactory(company=company).user


def fits_the_screen(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def log_in(page, base: str, user) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("pw-for-tests")
    page.get_by_role("button", name="Log in").click()


@pytest.mark.browser
@pytest.mark.parametrize("size", SIZES)
def test_record_consent_and_ask_for_a_double_opt_in(
    live_server, browser: Browser, marketer, tmp_path, size
):
    width = SIZES[size]["viewport"]["width"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    document = tmp_path / "signed-form.pdf"
    document.write_bytes(b"%PDF-1.4\n%%EOF\n")
    context = browser.new_context(**SIZES[size])
    page = context.new_page()
    log_in(page, live_server.url, marketer)

    # The address, from the list: how it left, and the two ways back.
    page.goto(f"{live_server.url}/opt-outs/")
    page.get_by_role("link", name=PAPER).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(PAPER)
    expect(page.locator(".status-out")).to_contain_text("Too many messages")
    expect(page.get_by_role("heading", name="Record consent again")).to_be_visible()
    expect(
        page.get_by_role("heading", name="Ask the person to confirm (double opt-in)")
    ).to_be_visible()
    fits_the_screen(page, width)
    page.screenshot(path=SHOTS / f"consent-again-{size}.png", full_page=True)

    # Without the wording they agreed to, it is refused and says why.
    page.get_by_label("Paper form").check()
    yesterday = timezone.localtime(timezone.now() - timedelta(days=1), ZoneInfo("Europe/Amsterdam"))
    page.get_by_label("When").fill(yesterday.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Record consent and bring back").click()
    expect(page.get_by_role("alert")).to_contain_text("Give the wording the person agreed to")
    fits_the_screen(page, width)
    page.screenshot(path=SHOTS / f"consent-again-refused-{size}.png", full_page=True)
    assert is_suppressed(company=marketer.memberships.get().company, address=PAPER)

    page.get_by_label("Paper form").check()
    page.get_by_label("When").fill(yesterday.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("The wording they agreed to").fill(WORDING)
    page.get_by_label("Document (optional)").set_input_files(document)
    page.get_by_role("button", name="Record consent and bring back").click()

    expect(page.get_by_role("status")).to_contain_text(f"{PAPER} may receive marketing again")
    expect(page.locator("#proof")).to_contain_text(WORDING)
    expect(page.get_by_role("link", name="Download the document")).to_be_visible()
    fits_the_screen(page, width)
    page.screenshot(path=SHOTS / f"consent-recorded-{size}.png", full_page=True)
    company = marketer.memberships.get().company
    assert not is_suppressed(company=company, address=PAPER)
    event = ConsentEvent.objects.get(address=PAPER, kind="opt_in")
    assert (event.consent_method, event.consent_wording) == ("paper", WORDING)

    # The other person asked on the phone to come back: they confirm it themself.
    page.goto(f"{live_server.url}/opt-outs/")
    page.get_by_role("link", name=ASKED).click()
    page.get_by_role("button", name="Send the confirmation by SMS").click()
    expect(page.get_by_role("alert")).to_contain_text("Tick that the person asked to come back")
    page.get_by_label("The person asked to get our marketing again").check()
    page.get_by_role("button", name="Send the confirmation by SMS").click()
    expect(page.get_by_role("status")).to_contain_text("Confirmation sent by SMS")
    expect(page.locator("#double-opt-in")).to_contain_text("A confirmation went by SMS")
    fits_the_screen(page, width)
    page.screenshot(path=SHOTS / f"double-optin-sent-{size}.png", full_page=True)
    assert is_suppressed(company=company, address=ASKED)
    [sms] = [m for m in locmem.outbox if m.to == ASKED]
    assert "START" in sms.body
    context.close()

    # On their phone, from the link in the SMS (the trial serves the short host under /s/).
    phone = browser.new_context(**SIZES["phone"])
    person = phone.new_page()
    token = OptinRequest.objects.get(address=ASKED).token
    person.goto(f"{live_server.url}/s/c/{token}")
    expect(person.get_by_role("heading", level=1)).to_contain_text("Acme Coffee")
    expect(person.locator(".masked")).to_have_text("+31 6 •••• 4321")
    assert is_suppressed(company=company, address=ASKED)
    person.screenshot(path=SHOTS / f"double-optin-page-{size}.png", full_page=True)
    person.get_by_role("button").click()
    expect(person.get_by_role("heading", level=1)).to_have_text("Je bent weer aangemeld")
    person.screenshot(path=SHOTS / f"double-optin-confirmed-{size}.png", full_page=True)
    phone.close()
    assert not is_suppressed(company=company, address=ASKED)
    confirmed = ConsentEvent.objects.get(address=ASKED, kind="opt_in")
    assert (confirmed.source, confirmed.consent_method) == ("double_opt_in", "double_opt_in_sms")
