"""The API's interactive documentation runs under the Content-Security-Policy, from our own
static files (no CDN), and lists the API's operations."""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from api.keys import create_api_key
from tests.factories import CampaignFactory, CompanyFactory

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
# Runs in the page before its own scripts; the browser reports every refusal this way.
WATCH = """
window.__refused = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__refused.push(`${e.effectiveDirective} refused ${e.blockedURI || "inline"}`);
});
"""


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=SHOTS / f"{name}-{width}.png")
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.fixture
def secret(transactional_db) -> str:
    company = CompanyFactory(name="Acme Coffee", default_country="NL")
    CampaignFactory(company=company, name="Spring sale")
    return create_api_key(company=company, name="Docs").secret


@pytest.mark.browser
def test_the_docs_render_with_nothing_refused_and_nothing_from_elsewhere(
    live_server, page: Page, secret
):
    console: list[str] = []
    page.add_init_script(WATCH)
    page.on(
        "console", lambda msg: console.append(msg.text) if "Content Security" in msg.text else None
    )
    elsewhere: list[str] = []
    page.on(
        "request",
        lambda request: (
            None
            if request.url.startswith((live_server.url, "data:"))
            else elsewhere.append(request.url)
        ),
    )

    response = page.goto(f"{live_server.url}/api/v1/docs")
    assert response.status == 200
    expect(page.get_by_role("heading", name="Opt-out address book API")).to_be_visible()
    expect(page.locator(".opblock").first).to_be_visible()
    page.get_by_role("button", name="Authorize").first.click()
    dialog = page.locator(".modal-ux")
    expect(dialog.get_by_text("apiKey", exact=True)).to_be_visible()
    shot(page, "api-docs-authorize")
    dialog.get_by_role("textbox").fill(secret)
    dialog.locator("button.modal-btn.auth.authorize").click()
    dialog.locator("button.btn-done").click()

    # Try it out: the page calls the API itself, with the key, under the same policy.
    operation = page.locator("#operations-Campaigns-campaigns_list")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    expect(operation.locator(".live-responses-table tbody .response-col_status")).to_have_text(
        "200"
    )
    expect(operation.locator(".live-responses-table")).to_contain_text("Spring sale")
    shot(page, "api-docs-try-it-out")

    assert page.evaluate("window.__refused") == []
    assert console == []
    assert elsewhere == []
