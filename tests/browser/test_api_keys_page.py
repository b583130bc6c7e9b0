"""An owner creates an API key, copies its secret from the one page that shows it, and
revokes it; on a wide screen and on a phone."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from addressbook.models import Membership
from api.models import ApiKey
from tests.factories import CompanyFactory, MembershipFactory

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
WATCH = """
window.__refused = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__refused.push(`${e.effectiveDirective} refused ${e.blockedURI || "inline"}`);
});
"""


@pytest.fixture
def owner(transactional_db):
    company = CompanyFactory(name="Acme Coffee", default_country="NL")
    return MembershipFactory(company=company, role=Membership.Role.OWNER).user


def _shoot(page: Page, name: str, width: int) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}-{width}.png", full_page=True)


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 375])
def test_owner_creates_copies_and_revokes_a_key(live_server, browser: Browser, owner, width):
    context = browser.new_context(
        viewport={"width": width, "height": 800},
        permissions=["clipboard-read", "clipboard-write"],
    )
    try:
        page = context.new_page()
        page.add_init_script(WATCH)
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill(owner.username)
        page.get_by_label("Password").fill("pw-for-tests")
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("link", name="API keys").click()
        expect(page.get_by_role("heading", name="API keys of Acme Coffee")).to_be_visible()
        expect(page.get_by_role("cell", name=re.compile("No keys yet"))).to_be_visible()

        page.get_by_label("Name").fill("CRM sync")
        page.get_by_label("Expires").select_option(label="In 90 days")
        page.get_by_role("button", name="Create key").click()
        expect(page.get_by_role("heading", name="API key “CRM sync”")).to_be_visible()
        secret = page.get_by_label("The key").input_value()
        key = ApiKey.objects.get(name="CRM sync")
        assert secret.startswith(f"oab_{key.prefix}_")
        _shoot(page, "api-key-created", width)

        page.get_by_role("button", name="Copy").click()
        expect(page.get_by_role("button", name="Copied")).to_be_visible()
        assert page.evaluate("navigator.clipboard.readText()") == secret

        page.reload()  # the secret was shown once
        expect(page.get_by_label("The key")).to_have_count(0)
        expect(page.get_by_role("status")).to_contain_text("cannot be shown again")
        assert secret not in page.content()

        page.get_by_role("link", name="Back to the keys").click()
        row = page.get_by_role("row", name=re.compile("CRM sync"))
        expect(row).to_contain_text(f"oab_{key.prefix}_…")
        expect(row).to_contain_text("Active")
        revoke = row.get_by_role("button", name="Revoke").bounding_box()
        assert revoke["x"] + revoke["width"] <= width, "the button is off the screen"
        _shoot(page, "api-keys", width)

        # The confirmation first says no, then yes.
        page.once("dialog", lambda dialog: dialog.dismiss())
        row.get_by_role("button", name="Revoke").click()
        expect(row).to_contain_text("Active")
        page.once("dialog", lambda dialog: dialog.accept())
        row.get_by_role("button", name="Revoke").click()
        expect(page.get_by_role("status")).to_contain_text("is revoked")
        expect(page.get_by_role("row", name=re.compile("CRM sync"))).to_contain_text("Revoked")
        expect(page.get_by_role("button", name="Revoke")).to_have_count(0)
        _shoot(page, "api-keys-revoked", width)
        assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
        assert page.evaluate("window.__refused") == []
    finally:
        context.close()
