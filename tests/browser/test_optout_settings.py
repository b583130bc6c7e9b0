"""An owner writes the company's own opt-out text with its live preview and sets the leave
reasons; the campaign editor then previews and counts that text. Laptop and phone sizes."""

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from addressbook.models import Membership
from optout.models import CompanyOptoutText, LeaveReason
from tests.factories import CompanyFactory, ContactFactory, MembershipFactory
from tests.optout.rules import one_rule_per_method

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
BODY = (
    "Our spring beans are in, {{ first_name }}: come and taste them at the shop this "
    "weekend, on us. Bring a friend!"
)
SIZES = {
    "laptop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True},
}


@pytest.fixture
def owner(transactional_db, seeded_defaults):
    one_rule_per_method()
    company = CompanyFactory(name="Acme Coffee", default_country="NL")
    ContactFactory(company=company, first_name="Sanne")
    ContactFactory(company=company, first_name="Camille", phone="+33612345678", country="FR")
    ContactFactory(company=company, first_name="Thabo", phone="+27821234567", country="ZA")
    return MembershipFactory(company=company, role=Membership.Role.OWNER).user


def _log_in(browser: Browser, live_server, user, size: str, request) -> Page:
    # Closed at the end, so the live server lets go of its database connection.
    context = browser.new_context(**SIZES[size])
    request.addfinalizer(context.close)
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("pw-for-tests")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    return page


def _shoot(page: Page, name: str, size: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}-{size}.png", full_page=True)
    width = SIZES[size]["viewport"]["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "scrolls sideways"


@pytest.mark.browser
@pytest.mark.parametrize("size", SIZES)
def test_owner_writes_an_optout_text_and_sets_the_leave_reasons(
    live_server, browser: Browser, owner, size, request
):
    page = _log_in(browser, live_server, owner, size, request)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Opt-out settings").click()
    expect(page.get_by_role("heading", name="Opt-out settings of Acme Coffee")).to_be_visible()
    expect(page.locator('.previews [data-country="FR"]')).to_contain_text("standard text")

    page.get_by_role("link", name="Add a text").click()
    preview = page.locator("#text-preview")
    page.get_by_label("Country").fill("FR")
    page.get_by_label("Text", exact=True).fill("Plus de SMS ? {link}")
    expect(preview).to_contain_text("It would leave no way out: FR (a reply to 36111) needs")
    page.get_by_label("Text", exact=True).fill("{company} : ARRET au {shortcode}")
    sample = preview.locator('[data-country="FR"]')
    expect(sample.locator(".sms")).to_have_text("Acme Coffee : ARRET au 36111")
    expect(sample.locator('[data-counter="room"]')).to_have_text(str(160 - 28 - 1))
    _shoot(page, "optout-text-editor", size)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").first).to_have_text("Saved. Marketing SMS to FR end with it.")
    expect(page.locator('.previews [data-country="FR"]')).to_contain_text("your text")
    assert CompanyOptoutText.objects.get().template == "{company} : ARRET au {shortcode}"

    reasons = page.locator("#reasons")
    for label in ("Too expensive", "Moved away"):
        reasons.get_by_label("New reason").fill(label)
        reasons.get_by_role("button", name="Add").click()
        expect(page.get_by_role("status").first).to_contain_text(f"“{label}” is offered")
    page.get_by_role("button", name="Move “Moved away” up").click()
    expect(page.locator("#reasons li input[name=label]").first).to_have_value("Moved away")
    assert [r.label for r in LeaveReason.objects.all()] == ["Moved away", "Too expensive"]
    page.evaluate("window.scrollTo(0, 0)")
    _shoot(page, "optout-settings", size)


@pytest.mark.browser
@pytest.mark.parametrize("size", SIZES)
def test_the_campaign_editor_previews_and_counts_the_companys_text(
    live_server, browser: Browser, owner, size, request
):
    company = owner.memberships.get().company
    CompanyOptoutText.objects.create(
        company=company, template="{company} news: to get no more of it, tap {link}"
    )
    CompanyOptoutText.objects.create(
        company=company, country="FR", template="{company} : ARRET au {shortcode}"
    )
    page = _log_in(browser, live_server, owner, size, request)
    page.goto(f"{live_server.url}/campaigns/new/")
    page.get_by_label("Name", exact=True).fill("Spring beans")
    page.get_by_label("Body", exact=True).fill(BODY)

    panel = page.locator("#preview-panel")
    fr = panel.locator('[data-country="FR"]')
    expect(fr).to_contain_text("your opt-out text")
    expect(fr.locator(".sms")).to_have_text(
        BODY.replace("{{ first_name }}", "Camille") + "\nAcme Coffee : ARRET au 36111"
    )
    nl = panel.locator('[data-country="NL"]')
    expect(nl.locator(".sms")).to_contain_text(
        "Acme Coffee news: to get no more of it, tap https://"
    )
    # NL's text is the longest: with it Sanne's 100 characters take two parts (not one).
    expect(panel.locator('#length [data-counter="parts"]')).to_have_text("2")
    expect(panel).to_contain_text("As the first contact in NL gets it")
    # ZA needs STOP and the link: the text for all countries has no STOP, ZA keeps its own.
    expect(panel.locator('[data-country="ZA"] .sms')).to_contain_text("Reply STOP to 31222")
    fr.scroll_into_view_if_needed()
    _shoot(page, "campaign-editor-optout-text", size)
