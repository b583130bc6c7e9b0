"""Every dashboard page on a 375 px phone, in Chromium: nothing wider than the screen, the
navigation reachable, wide tables scrolling inside their own box.

The pages come from the URL resolver (the same walk as tests/test_tenancy_walk.py): every
dashboard URL that answers a GET with a page is visited, filled with a row of the demo
company; the others are named in NOT_PAGES, so a new page cannot be left out unseen.
"""

import io
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from addressbook.management.commands.seed_demo import PASSWORD
from addressbook.models import (
    AuditEvent,
    Company,
    Contact,
    CustomField,
    Group,
    ImportJob,
    ImportRejection,
    Invitation,
    Membership,
)
from api.models import ApiKey, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from campaigns.models import Message
from optout.models import (
    CompanyOptoutText,
    ConsentEvent,
    InboundMessage,
    LeaveReason,
    Suppression,
    SuppressionImport,
    SuppressionImportRejection,
)
from tests.campaigns.test_report import build_reported_campaign
from tests.factories import CampaignFactory
from tests.test_tenancy_walk import dashboard_patterns

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
PHONE = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True}
LAPTOP = {"viewport": {"width": 1366, "height": 900}}

# Dashboard URLs that are no page to look at: actions (POST only), downloads, htmx
# fragments of a page, and pages that only make sense on the way somewhere else.
NOT_PAGES = {
    "addressbook:company-switch",
    "addressbook:contact-bulk",
    "addressbook:contact-delete",
    "addressbook:contact-export",
    "addressbook:field-delete",
    "addressbook:group-edit",
    "addressbook:import-rejected",
    "addressbook:import-resume",
    "addressbook:invitation-revoke",
    "addressbook:member-remove",
    "addressbook:member-role",
    "campaigns:campaign-cancel",
    "campaigns:campaign-edit-preview",
    "campaigns:campaign-pause",
    "campaigns:campaign-preview",
    "campaigns:campaign-resume",
    "campaigns:campaign-schedule",
    "campaigns:campaign-send",
    "campaigns:campaign-test-send",
    "campaigns:campaign-unschedule",
    "integrations:api-key-revoke",
    "integrations:webhook-delete",
    "integrations:webhook-enable",
    "integrations:webhook-rotate",
    "integrations:webhook-test",
    "optout:consent-document",
    "optout:reason-add",
    "optout:reason-move",
    "optout:reason-remove",
    "optout:reason-rename",
    "optout:reply-action",
    "optout:suppression-consent",
    "optout:suppression-double-optin",
    "optout:suppression-export",
    "optout:suppression-upload-rejected",
    "optout:suppression-upload-resume",
    "optout:text-edit-preview",
    "optout:text-preview",
    "optout:text-remove",
    "privacy:contact-export",
    "two-factor-qr",
}
# What the issue asked for by name, so the walk can never quietly lose one of them.
MUST_SEE = {
    "insights:home",
    "addressbook:contact-list",
    "addressbook:contact-edit",
    "addressbook:contact-create",
    "addressbook:import-create",
    "addressbook:group-list",
    "addressbook:field-list",
    "campaigns:campaign-list",
    "campaigns:campaign-create",
    "campaigns:campaign-detail",
    "optout:suppression-list",
    "optout:suppression-detail",
    "optout:replies",
    "insights:insights",
    "addressbook:company-settings",
    "optout:settings",
    "addressbook:team",
    "integrations:api-keys",
    "integrations:webhooks",
    "addressbook:audit-log",
}
# The pages also looked at on a laptop.
ON_A_LAPTOP = [
    "insights:home",
    "addressbook:contact-list",
    "campaigns:campaign-detail",
    "optout:suppression-list",
    "addressbook:audit-log",
]


@pytest.fixture
def demo(transactional_db, seeded_defaults):
    """The trial's demo, plus a row of every kind a page shows, all of Acme Coffee."""
    call_command("seed_demo", stdout=io.StringIO())
    acme = Company.objects.get(slug="acme")
    now = timezone.now()
    contact = Contact.objects.filter(company=acme, country="FR").order_by("pk").first()
    group = Group.objects.create(company=acme, name="Regulars at the Amsterdam roastery")
    contact.groups.add(group)
    CustomField.objects.create(company=acme, name="Favourite roast", key="roast")
    sent = build_reported_campaign(acme, name="Winter sale on every single-origin bean")
    draft = CampaignFactory(company=acme, name="Spring beans", sender="AcmeCoffee")
    draft.groups.add(group)
    message = Message.objects.filter(campaign=sent).order_by("pk").first()
    job = ImportJob.objects.create(
        company=acme,
        filename="contacts-from-the-old-shop-export-2026.csv",
        path="/nonexistent.csv",
        status=ImportJob.Status.DONE,
        counts={"created": 41, "updated": 3, "rejected": 1},
        finished_at=now,
    )
    ImportRejection.objects.create(job=job, row=2, reason="No phone", values=["Jan", ""])
    upload = SuppressionImport.objects.create(
        company=acme,
        filename="old-provider-stop-list.csv",
        path="/nonexistent.csv",
        status=SuppressionImport.Status.DONE,
        counts={"added": 12, "invalid": 1},
    )
    SuppressionImportRejection.objects.create(
        upload=upload, row=7, reason="Not a phone number", values=["12"]
    )
    suppression = Suppression.objects.filter(company=acme).order_by("pk").first()
    event = ConsentEvent.objects.filter(company=acme).order_by("pk").first()
    InboundMessage.objects.create(
        company=acme,
        sender="+33612345679",
        sender_e164="+33612345679",
        recipient="36111",
        text="Who is this? Please stop writing to me on this number, thanks",
        status=InboundMessage.Status.UNMATCHED,
    )
    text = CompanyOptoutText.objects.create(
        company=acme, country="NL", template="Geen berichten meer? SMS STOP naar {shortcode}"
    )
    LeaveReason.objects.get_or_create(company=acme, label="Too many messages this month")
    anna = get_user_model().objects.get(username="anna")
    Invitation.objects.create(company=acme, email="new.colleague@acme.example")
    AuditEvent.objects.create(
        company=acme,
        actor=anna,
        actor_name="anna",
        action=AuditEvent.Action.CAMPAIGN_SENT,
        target=sent.name,
        ip="203.0.113.9",
    )
    key = ApiKey.objects.create(company=acme, name="CRM sync", prefix="0123456789ab")
    endpoint = WebhookEndpoint.objects.create(
        company=acme,
        url="https://crm.acme.example/hooks/opt-outs/receive-from-the-address-book",
        description="CRM",
    )
    delivery = WebhookDelivery.objects.create(
        company=acme,
        endpoint=endpoint,
        event=event,
        kind=WebhookDelivery.Kind.OPT_OUT,
        payload={"id": f"evt_{event.pk}"},
        status=WebhookDelivery.Status.DELIVERED,
    )
    WebhookAttempt.objects.create(
        company=acme, delivery=delivery, number=1, started_at=now, status_code=200
    )
    rows = {
        "addressbook:contact-edit": contact,
        "addressbook:import-detail": job,
        "campaigns:campaign-detail": sent,
        "campaigns:campaign-confirm": draft,
        "campaigns:campaign-edit": draft,
        "insights:contact-history": contact,
        "campaigns:message-detail": message,
        "integrations:api-key-created": key,
        "integrations:webhook-detail": endpoint,
        "optout:consent-event": event,
        "optout:suppression-detail": suppression,
        "optout:suppression-upload-detail": upload,
        "optout:text-edit": text,
        "privacy:contact-erase": contact,
    }
    assert Membership.objects.get(user=anna, company=acme).role == Membership.Role.OWNER
    return anna, rows


def _url(name: str, params: tuple[str, ...], rows: dict) -> str | None:
    if name == "insights:consent-certificate":
        return f"{reverse(name)}?{urlencode({'address': rows['optout:consent-event'].address})}"
    if not params:
        return reverse(name)
    if name not in rows:
        return None
    return reverse(name, kwargs={"pk": rows[name].pk})


def dashboard_pages(user, rows) -> dict[str, str]:
    """Each dashboard URL that answers a GET with a whole page: {view name: URL}."""
    client = Client()
    client.force_login(user)
    pages, others = {}, {}
    for name, params in dashboard_patterns():
        url = _url(name, params, rows)
        if url is None:
            others[name] = "no row for it in the demo fixture"
            continue
        response = client.get(url)
        html = response.get("Content-Type", "").startswith("text/html")
        if response.status_code == 200 and html and b"<html" in response.content:
            pages[name] = url
        else:
            others[name] = response.status_code
    assert set(others) == NOT_PAGES, f"pages not walked: {others}"
    assert set(pages) >= MUST_SEE
    return pages


def _log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile("/login/"))


def _shot_name(name: str) -> str:
    return name.split(":")[-1]


def _overflow(page: Page) -> list[str]:
    """What sticks out past the screen's right edge (outside a scrolling box)."""
    return page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth, found = [];
          const scrolls = el => { for (let p = el.parentElement; p; p = p.parentElement) {
              const o = getComputedStyle(p).overflowX;
              if (o === 'auto' || o === 'scroll' || o === 'hidden') return true; } return false; };
          for (const el of document.body.querySelectorAll('*')) {
            const box = el.getBoundingClientRect();
            if (box.width && box.right > width + 1 && !scrolls(el))
              found.push(`${el.tagName.toLowerCase()}.${el.classList} ${Math.round(box.right)}`);
          }
          return found.slice(0, 8);
        }"""
    )


@pytest.mark.browser
def test_every_dashboard_page_fits_a_phone(live_server, browser: Browser, demo):
    anna, rows = demo
    pages = dashboard_pages(anna, rows)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    _log_in(page, live_server.url, anna.username)
    SHOTS.mkdir(parents=True, exist_ok=True)
    too_wide = {}
    for name, url in pages.items():
        page.goto(live_server.url + url)
        page.wait_for_load_state("load")
        page.screenshot(path=SHOTS / f"phone-{_shot_name(name)}.png", full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 375:
            too_wide[name] = (width, _overflow(page))
    context.close()
    assert not too_wide, "\n".join(f"{name}: {found}" for name, found in too_wide.items())


@pytest.mark.browser
def test_a_wide_table_scrolls_in_its_own_box_on_a_phone(live_server, browser: Browser, demo):
    anna, _ = demo
    context = browser.new_context(**PHONE)
    page = context.new_page()
    _log_in(page, live_server.url, anna.username)
    page.goto(f"{live_server.url}/contacts/")
    table = page.locator("#results table")
    box = page.locator("#results .table-scroll")
    # Wider than the screen, inside a box as wide as the screen allows, which scrolls.
    assert table.bounding_box()["width"] > box.bounding_box()["width"]
    assert box.bounding_box()["x"] + box.bounding_box()["width"] <= 375
    # The last column starts off the screen's right edge; scrolling the box brings it in.
    last_column = page.get_by_role("columnheader", name="Status")
    assert last_column.bounding_box()["x"] >= 375
    box.evaluate("box => box.scrollBy(1000, 0)")
    shown = last_column.bounding_box()
    assert shown["x"] >= 0 and shown["x"] + shown["width"] <= 375
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    context.close()


@pytest.mark.browser
def test_the_navigation_works_on_a_phone_without_javascript(live_server, browser: Browser, demo):
    anna, _ = demo
    context = browser.new_context(**PHONE, java_script_enabled=False)
    page = context.new_page()
    _log_in(page, live_server.url, anna.username)
    nav = page.get_by_role("navigation", name="Main")
    links = nav.get_by_role("link")
    assert links.count() >= 14
    # The links wrap onto lines of their own: each one whole on the screen, none cut off.
    for i in range(links.count()):
        expect(links.nth(i)).to_be_visible()
        box = links.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375, links.nth(i).inner_text()
    logout = page.get_by_role("button", name="Log out")
    box = logout.bounding_box()
    assert box["x"] + box["width"] <= 375
    nav.get_by_role("link", name="API keys").click()
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "phone-navigation.png")
    context.close()


@pytest.mark.browser
def test_pages_on_a_laptop_show_the_whole_navigation(live_server, browser: Browser, demo):
    anna, rows = demo
    context = browser.new_context(**LAPTOP)
    page = context.new_page()
    _log_in(page, live_server.url, anna.username)
    nav = page.get_by_role("navigation", name="Main")
    for name in ON_A_LAPTOP:
        page.goto(live_server.url + _url(name, ("pk",) if name in rows else (), rows))
        # No menu to open on a wide screen: every link is there.
        expect(nav.get_by_role("link", name="Audit log")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366
        page.screenshot(path=SHOTS / f"laptop-{_shot_name(name)}.png", full_page=True)
    context.close()
