"""Staff open the honour deadline report from the replies list, in Chromium on a laptop and
on a phone."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import Browser, expect

from optout.services import note_marketing_sent, optout_from_reply, receive_inbound_sms
from tests.factories import CompanyFactory, UserFactory

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
SIZES = {
    "laptop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True},
}
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def staff(transactional_db):
    company = CompanyFactory(name="Acme Coffee")
    fast, slow = "+33612345601", "+33612345602"
    note_marketing_sent(company=company, campaign_id=7, shortcode="36111", addresses=[fast, slow])
    with time_machine.travel(T0, tick=False):
        receive_inbound_sms(sender=fast, recipient="36111", text="STOP")
        read = receive_inbound_sms(sender=slow, recipient="36111", text="please stop texting me")
    with time_machine.travel(T0 + timedelta(minutes=7), tick=False):
        optout_from_reply(inbound=read)
    with time_machine.travel(T0 - timedelta(hours=5), tick=False):
        receive_inbound_sms(sender="+31612340002", recipient="99999", text="Stop")
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.mark.browser
@pytest.mark.parametrize("size", SIZES)
def test_staff_open_the_honour_report(live_server, browser: Browser, staff, size):
    width = SIZES[size]["viewport"]["width"]
    context = browser.new_context(**SIZES[size])
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(staff.username)
    page.get_by_label("Password").fill("pw-for-tests")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/admin/optout/inboundmessage/")
    page.get_by_role("link", name="Honour deadline").click()

    expect(page.get_by_role("heading", name="Honour deadline")).to_be_visible()
    rows = page.locator("#slow-optouts tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Acme Coffee")
    expect(rows.first).to_contain_text("+33 6 •••• 5602")
    expect(rows.first).to_contain_text("7 min 0 s")
    expect(rows.first).to_contain_text("SMS reply, read by a marketer")
    expect(page.locator("#oldest-stop")).to_contain_text("+31 6 •••• 0002")
    # The page never scrolls sideways; the table scrolls inside its own box if it must.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"honour-report-{size}.png", full_page=True)

    page.get_by_role("link", name="Open it").click()
    expect(page.locator("#content")).to_contain_text("+31612340002")
    context.close()
