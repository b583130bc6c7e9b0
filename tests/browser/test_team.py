"""An owner invites a colleague, who joins from the email's link; the owner changes the role."""

import re
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import Browser, Page, expect

from addressbook.models import Membership
from tests.factories import CompanyFactory, MembershipFactory

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
PASSWORD = "a-long-new-pass-2026"


@pytest.fixture
def owner(transactional_db):
    company = CompanyFactory(name="Acme Coffee", default_country="NL")
    MembershipFactory(company=company)  # a marketer colleague already there
    return MembershipFactory(company=company, role=Membership.Role.OWNER).user


def _shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 800})
        page.screenshot(path=SHOTS / f"{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})


@pytest.mark.browser
def test_owner_invites_a_colleague_who_joins_and_gets_a_new_role(
    live_server, page: Page, browser: Browser, owner, request
):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(owner.username)
    page.get_by_label("Password").fill("pw-for-tests")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Team").click()
    expect(page.get_by_role("heading", name="Team of Acme Coffee")).to_be_visible()

    page.get_by_label("Email").fill("lena@example.com")
    page.get_by_label("Role", exact=True).select_option("marketer")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status")).to_have_text("Invitation sent to lena@example.com.")
    expect(page.get_by_role("row", name=re.compile("lena@example.com"))).to_contain_text("Marketer")
    _shoot(page, "team")

    [email] = mail.outbox
    link = re.search(r"https?://\S+/invitations/\S+/", email.body).group(0)
    # The invitee's own browser, closed at the end so the live server lets go of its
    # database connection before the test database is dropped.
    invitee_context = browser.new_context()
    request.addfinalizer(invitee_context.close)
    invitee = invitee_context.new_page()
    invitee.goto(link)
    expect(invitee.get_by_role("heading", name="Join Acme Coffee")).to_be_visible()
    _shoot(invitee, "team-invitation")
    invitee.get_by_label("Username").fill("lena")
    invitee.get_by_label("Password", exact=True).fill(PASSWORD)
    invitee.get_by_label("Password confirmation").fill(PASSWORD)
    invitee.get_by_role("button", name="Create account and join").click()
    expect(invitee.get_by_role("status")).to_have_text("Welcome to Acme Coffee.")
    expect(invitee).to_have_url(f"{live_server.url}/")  # the home page
    expect(invitee.get_by_role("link", name="Team")).to_have_count(0)  # not an owner

    page.reload()
    row = page.get_by_role("row", name=re.compile(r"^lena "))
    row.get_by_label("Role of lena").select_option("viewer")
    row.get_by_role("button", name="Change role").click()
    expect(page.get_by_role("status")).to_have_text("lena is now viewer.")
    assert Membership.objects.get(user__username="lena").role == Membership.Role.VIEWER

    invitee.reload()
    expect(invitee.get_by_role("link", name="Add contact")).to_have_count(0)
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("cell", name="Role changed")).to_be_visible()
    _shoot(page, "audit-log")
