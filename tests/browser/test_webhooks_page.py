"""An owner adds a webhook endpoint, reads its secret, sends a test event and sees it land."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

import api.tasks  # noqa: F401  (registers the tasks with the test's worker)
from addressbook.models import Membership
from tests.api.receiver import Receiver
from tests.factories import CompanyFactory, MembershipFactory

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"


@pytest.fixture
def owner(transactional_db):
    company = CompanyFactory(name="Acme Coffee", default_country="NL")
    return MembershipFactory(company=company, role=Membership.Role.OWNER).user


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True  # the receiver is on 127.0.0.1
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def _shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 800})
        page.screenshot(path=SHOTS / f"{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})


@pytest.mark.browser
def test_owner_adds_an_endpoint_and_a_test_event_reaches_it(
    live_server, page: Page, owner, receiver, celery_worker
):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(owner.username)
    page.get_by_label("Password").fill("pw-for-tests")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name=re.compile("No endpoints yet"))).to_be_visible()

    page.get_by_label("URL").fill(receiver.url)
    page.get_by_label("Description").fill("CRM sync")
    page.get_by_label("Opt-ins").uncheck()
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.get_by_role("status")).to_contain_text("Endpoint added.")
    expect(page.get_by_role("heading", name="CRM sync")).to_be_visible()
    expect(page.get_by_text(receiver.url)).to_be_visible()

    page.get_by_text("Show", exact=True).click()
    secret = page.locator("#signing-secret").inner_text()
    assert secret.startswith("whsec_")

    page.get_by_role("button", name="Send a test event").click()
    expect(page.get_by_role("status")).to_contain_text("Test event queued")
    [request] = receiver.wait_for(1)
    assert request.json["type"] == "test"
    assert request.signed_with(secret)

    page.reload()
    row = page.locator("#log tbody tr").first
    expect(row).to_contain_text("Test")
    expect(row).to_contain_text("Delivered")
    expect(row).to_contain_text("HTTP 200")
    row.locator("summary").click()  # the attempts of this delivery
    expect(row.get_by_role("listitem")).to_contain_text(re.compile(r"#1 .*HTTP 200 \d+ ms"))
    _shoot(page, "webhook-detail")

    page.get_by_role("link", name="← Webhooks").click()
    listing = page.get_by_role("row", name=re.compile("CRM sync"))
    expect(listing).to_contain_text("Active")
    expect(listing).to_contain_text("Delivered")
    _shoot(page, "webhooks")
