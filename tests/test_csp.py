"""Every page answers with a Content-Security-Policy that lets no inline script run."""

import re
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from campaigns.models import Campaign, Message
from tests.factories import CampaignFactory, ContactFactory, UserFactory

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
REQUIRED = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def _policy(response) -> dict[str, str]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"{response.request['PATH_INFO']} answers without a CSP"
    directives = (part.strip().split(None, 1) for part in header.split(";") if part.strip())
    return {name: (rest[0] if rest else "") for name, *rest in directives}


def _assert_strict(response) -> None:
    policy = _policy(response)
    for name, value in REQUIRED.items():
        assert policy.get(name) == value, f"{name} is {policy.get(name)!r}, not {value!r}"
    for name in ("script-src", "style-src", "default-src"):
        assert "unsafe" not in policy[name], f"{name} allows {policy[name]}"


def _paths(resolver: URLResolver, prefix: str = "") -> list[str]:
    """Every URL pattern as a path, its arguments filled with values no row has.

    Admin's own hundred patterns share one template set; its test below opens a few.
    """
    paths = []
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver) and entry.app_name == "admin":
            paths.append("/" + route)
        elif isinstance(entry, URLResolver):
            paths.extend(_paths(entry, route))
        elif isinstance(entry, URLPattern):
            route = re.sub(r"<int:\w+>", "987654", route)
            route = re.sub(r"<(?:\w+:)?\w+>", "nosuchthing", route)
            paths.append("/" + route)
    return sorted(set(paths))


@pytest.fixture
def message(company):
    contact = ContactFactory(company=company, phone="+27711234567", country="ZA")
    campaign = CampaignFactory(company=company, status=Campaign.Status.SENT)
    return Message.objects.create(
        company=company,
        campaign=campaign,
        contact=contact,
        to=contact.phone,
        country="ZA",
        short_code="Csp2345a",
        body="Hi",
        status=Message.Status.SENT,
    )


@pytest.mark.parametrize("path", _paths(get_resolver()))
def test_every_page_answers_with_a_strict_policy(marketer_client, path):
    response = marketer_client.get(path)
    assert response.status_code < 500, path
    if response.headers.get("Content-Type", "").startswith("text/html"):
        _assert_strict(response)


def test_dashboard_pages_answer_with_a_strict_policy(marketer_client, company, message):
    campaign = message.campaign
    for path in (
        "/contacts/",
        f"/contacts/{message.contact_id}/",
        "/imports/new/",
        "/campaigns/new/",
        f"/campaigns/{campaign.pk}/",
        "/campaigns/",
        f"/campaigns/messages/{message.pk}/",
        "/groups/",
        "/fields/",
        "/opt-outs/",
        "/replies/",
    ):
        response = marketer_client.get(path)
        assert response.status_code == 200, path
        _assert_strict(response)


def test_outsider_gets_404_with_the_policy_too(outsider_client, message):
    response = outsider_client.get(f"/contacts/{message.contact_id}/")
    assert response.status_code == 404
    _assert_strict(response)


def test_landing_pages_on_the_short_host_answer_with_a_strict_policy(client, message):
    for path in ("/Csp2345a", "/nosuchcode", "/contacts/"):
        response = client.get(path, headers={"host": "no-s.test"})
        _assert_strict(response)
    assert client.get("/Csp2345a", headers={"host": "no-s.test"}).status_code == 200


def test_admin_answers_with_a_strict_policy(client, db):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    for path in ("/admin/", "/admin/addressbook/contact/", "/admin/addressbook/contact/add/"):
        response = client.get(path)
        assert response.status_code == 200, path
        _assert_strict(response)


def test_login_page_answers_with_a_strict_policy(client, db):
    response = client.get("/login/")
    assert response.status_code == 200
    _assert_strict(response)


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"<style\b", re.I), "a <style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an on* event handler"),
    (re.compile(r"\shx-on", re.I), "an hx-on attribute (htmx evaluates it)"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]


# Email bodies are read in mail clients, which need inline styles and ignore our policy.
PAGES = sorted(
    str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html") if "emails" not in p.parts
)


@pytest.mark.parametrize("template", PAGES)
def test_templates_hold_nothing_the_policy_would_block(template):
    text = (TEMPLATES / template).read_text()
    for pattern, what in INLINE:
        match = pattern.search(text)
        assert match is None, f"{template} has {what}: {match and match.group(0)}"
