"""A marketer searches the opt-out list, adds opt-outs by hand and uploads an old list, in
Chromium on a laptop and on a phone."""

import re
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import Browser, expect

from optout.models import Source
from optout.services import record_optout
from tests.factories import CampaignFactory, CompanyFactory, MembershipFactory

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
SIZES = {
    "laptop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True},
}


@pytest.fixture
def marketer(transactional_db):
    company = CompanyFactory(name="Acme Coffee", default_country="NL")
    spring = CampaignFactory(company=company, name="Spring sale")
    with time_machine.travel("2026-03-01 10:00Z", tick=False):
        record_optout(
            company=company,
            address="+31612345678",
            source=Source.LANDING_PAGE,
            campaign_id=spring.pk,
            reason="too_many",
            reason_text="Every day, really?",
        )
    with time_machine.travel("2026-03-02 10:00Z", tick=False):
        record_optout(company=company, address="jan.de.vries@example.com", source=Source.ONE_CLICK)
    return MembershipFactory(company=company).user


def fits_the_screen(page, width: int) -> None:
    """The page never scrolls sideways; a wide table scrolls inside its own box."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.browser
@pytest.mark.parametrize("size", SIZES)
def test_search_add_and_upload(
    live_server, browser: Browser, marketer, celery_worker, settings, tmp_path, size
):
    settings.IMPORT_DIR = tmp_path
    width = SIZES[size]["viewport"]["width"]
    context = browser.new_context(**SIZES[size])
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(marketer.username)
    page.get_by_label("Password").fill("pw-for-tests")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/opt-outs/")
    expect(page.get_by_role("heading", name="Opt-outs")).to_be_visible()
    rows = page.locator("#suppressions tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("jan.de.vries@example.com")
    expect(rows.last).to_contain_text("Too many messages: “Every day, really?”")
    expect(rows.last.get_by_role("link", name="Spring sale")).to_be_visible()
    fits_the_screen(page, width)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"suppression-list-{size}.png", full_page=True)

    page.get_by_label("Search opt-outs").fill("06 12 34 56 78")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("+31612345678")
    expect(page).to_have_url(re.compile(r"q=06"))
    page.get_by_label("Search opt-outs").fill("")
    page.get_by_label("Channel").select_option("email")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("jan.de.vries@example.com")
    page.screenshot(path=SHOTS / f"suppression-list-filtered-{size}.png", full_page=True)

    page.get_by_role("link", name="Add opt-outs").click()
    page.get_by_label("Addresses").fill("06 87 65 43 21\n+31612345678\nnot a number")
    page.get_by_role("button", name="Opt them out").click()
    expect(page.locator('[data-count="added"]')).to_have_text("1")
    expect(page.locator('[data-count="already_suppressed"]')).to_have_text("1")
    expect(page.locator('[data-count="invalid"]')).to_have_text("1")
    expect(page.locator("#outcomes")).to_contain_text("“not a number” is not a phone number.")
    fits_the_screen(page, width)
    page.screenshot(path=SHOTS / f"suppression-add-{size}.png", full_page=True)

    page.goto(f"{live_server.url}/opt-outs/upload/")
    old_list = tmp_path / "old-provider.csv"
    old_list.write_text("email;reason\nann@example.com;moved\nbad-address;\nann@example.com;\n")
    page.get_by_label("File").set_input_files(old_list)
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("[data-status]")).to_have_text("Done", timeout=30_000)
    expect(page.locator('[data-count="added"]')).to_have_text("1")
    expect(page.locator('[data-count="duplicate"]')).to_have_text("1")
    expect(page.locator('[data-count="invalid"]')).to_have_text("1")
    fits_the_screen(page, width)
    page.screenshot(path=SHOTS / f"suppression-upload-{size}.png", full_page=True)

    page.get_by_role("link", name="See the imported opt-outs").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("ann@example.com")
    expect(rows.first).to_contain_text("moved")
    context.close()
