"""A marketer imports a messy file and finds their contacts, in Chromium."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from addressbook.models import Group, ImportJob
from tests.factories import CompanyFactory, MembershipFactory

FILES = Path(__file__).resolve().parents[1] / "addressbook" / "files"
SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"


@pytest.fixture
def marketer(transactional_db):
    company = CompanyFactory(name="Acme Coffee", default_country="NL")
    return MembershipFactory(company=company).user


@pytest.mark.browser
def test_marketer_imports_a_file_and_searches_it(
    live_server, page: Page, marketer, celery_worker, settings, tmp_path
):
    settings.IMPORT_DIR = tmp_path
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(marketer.username)
    page.get_by_label("Password").fill("pw-for-tests")
    page.get_by_role("button", name="Log in").click()
    # A log-in lands on the home page; the contacts are one click away.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contacts").click()
    expect(page.get_by_role("heading", name="Contacts")).to_be_visible()

    page.get_by_role("link", name="Import", exact=True).click()
    page.get_by_label("File").set_input_files(FILES / "messy.csv")
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_label("Field for column Téléphone")).to_have_value("phone")

    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#preview")
    expect(preview).to_contain_text("Duplicate in the file")
    expect(preview).to_contain_text("is not a valid NL phone number")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "import-preview.png", full_page=True)

    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("[data-status]")).to_have_text("Done", timeout=30_000)
    expect(page.locator('[data-count="created"]')).to_have_text("7")
    page.screenshot(path=SHOTS / "import-done.png", full_page=True)
    assert ImportJob.objects.get().status == ImportJob.Status.DONE

    page.get_by_role("link", name="Contacts", exact=True).click()
    page.get_by_label("Search contacts").fill("Camille")
    expect(page.locator('[data-count="matching"]')).to_have_text("1")
    expect(page).to_have_url(re.compile(r"q=Camille"))
    expect(page.locator("#results tbody tr")).to_have_count(1)


@pytest.mark.browser
@pytest.mark.parametrize("width", [1366, 375])
def test_preview_then_import_into_a_new_group(
    live_server, page: Page, marketer, celery_worker, settings, tmp_path, width
):
    """A preview names the new group without making it; the import makes it and fills it."""
    settings.IMPORT_DIR = tmp_path
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(marketer.username)
    page.get_by_label("Password").fill("pw-for-tests")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contacts").click()
    page.get_by_role("link", name="Import", exact=True).click()
    page.get_by_label("File").set_input_files(FILES / "messy.csv")
    page.get_by_role("button", name="Upload").click()

    page.get_by_label("or a new group").fill("Coffee fair 2026")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview")).to_contain_text("Duplicate in the file")
    assert not Group.objects.filter(name="Coffee fair 2026").exists(), "a preview makes nothing"
    expect(page.get_by_label("or a new group")).to_have_value("Coffee fair 2026")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"import-new-group-preview-{width}.png", full_page=True)

    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("[data-status]")).to_have_text("Done", timeout=30_000)
    expect(page.locator('[data-count="created"]')).to_have_text("7")
    group = Group.objects.get(name="Coffee fair 2026")
    assert group.contacts.count() == 7
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=SHOTS / f"import-new-group-done-{width}.png", full_page=True)
