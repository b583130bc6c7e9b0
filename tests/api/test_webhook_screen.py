"""The webhooks screen: owners manage endpoints, every member reads the log, outsiders get 404."""

import pytest
from django.test import Client
from django.utils import timezone

from addressbook.models import AuditEvent
from api.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from api.webhooks import create_endpoint

LIST = "/integrations/webhooks/"


@pytest.fixture(autouse=True)
def _public_addresses_only(settings):
    # As in production: no private or local endpoints; literal public addresses need no DNS.
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False


@pytest.fixture
def owner_client(client, owner) -> Client:
    client.force_login(owner)
    return client


@pytest.fixture
def endpoint(company, owner) -> WebhookEndpoint:
    return create_endpoint(
        company=company,
        url="https://93.184.215.14/hooks/optout",
        description="CRM",
        created_by=owner,
    )


def _detail(endpoint: WebhookEndpoint, action: str = "") -> str:
    return f"{LIST}{endpoint.pk}/{action + '/' if action else ''}"


def _page(response) -> str:
    return response.content.decode()


def test_an_owner_adds_an_endpoint_and_sees_its_secret(owner_client, company):
    response = owner_client.post(
        LIST,
        {
            "url": "https://93.184.215.14/hooks/optout",
            "description": "CRM sync",
            "sends_opt_outs": "on",
        },
        follow=True,
    )
    endpoint = WebhookEndpoint.objects.get(company=company)
    assert response.redirect_chain == [(_detail(endpoint), 302)]
    page = _page(response)
    assert "Endpoint added." in page
    assert endpoint.secret in page
    assert endpoint.events == ["opt_out"]
    assert endpoint.description == "CRM sync"
    assert AuditEvent.objects.filter(
        company=company, action=AuditEvent.Action.WEBHOOK_ADDED, object_id=str(endpoint.pk)
    ).exists()

    listing = _page(owner_client.get(LIST))
    assert "https://93.184.215.14/hooks/optout" in listing and "CRM sync" in listing
    assert endpoint.secret not in listing


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://93.184.215.14/hook", "Use an https:// URL"),
        ("https://10.0.0.7/hook", "private or local address"),
        ("https://127.0.0.1:8000/hook", "private or local address"),
        ("https://bad\x00host.example/hook", "characters that cannot be stored"),
        ("https://example.com/" + "x" * 5000, "at most 500 characters"),
        ("not a url at all", "Enter a valid URL"),
        ("", "This field is required"),
    ],
)
def test_a_url_that_cannot_be_used_is_refused_with_the_reason(owner_client, company, url, says):
    response = owner_client.post(LIST, {"url": url, "sends_opt_outs": "on"})
    assert response.status_code == 400
    assert says in _page(response)
    assert not WebhookEndpoint.objects.filter(company=company).exists()


def test_an_endpoint_without_events_is_refused(owner_client, company):
    response = owner_client.post(LIST, {"url": "https://93.184.215.14/hook"})
    assert response.status_code == 400
    assert "Choose at least one kind of event" in _page(response)
    assert not WebhookEndpoint.objects.filter(company=company).exists()


def test_an_owner_edits_rotates_tests_and_removes(owner_client, company, endpoint):
    response = owner_client.post(
        _detail(endpoint),
        {"url": "https://93.184.215.14/v2/hook", "description": "CRM v2", "sends_opt_ins": "on"},
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.description, endpoint.events) == (
        "https://93.184.215.14/v2/hook",
        "CRM v2",
        ["opt_in"],
    )
    changed = AuditEvent.objects.get(company=company, action=AuditEvent.Action.WEBHOOK_CHANGED)
    assert changed.details == {
        "url": "https://93.184.215.14/v2/hook",
        "description": "CRM v2",
        "events": ["opt_in"],
    }

    old = endpoint.secret
    page = _page(owner_client.post(_detail(endpoint, "rotate"), follow=True))
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret in page
    assert "The old one also signs until" in page

    page = _page(owner_client.post(_detail(endpoint, "test"), follow=True))
    assert "Test event queued" in page
    [test] = WebhookDelivery.objects.filter(company=company, endpoint=endpoint)
    assert test.kind == WebhookDelivery.Kind.TEST and test.status == "pending"
    assert "Test" in page and "Not tried yet." in page

    response = owner_client.post(_detail(endpoint, "delete"), follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    assert "removed" in _page(response)
    assert not WebhookEndpoint.objects.filter(company=company).exists()
    assert not WebhookDelivery.objects.filter(company=company).exists()
    assert AuditEvent.objects.filter(
        company=company, action=AuditEvent.Action.WEBHOOK_REMOVED
    ).exists()


def _failed_delivery(endpoint: WebhookEndpoint, number: int = 3) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(
        company=endpoint.company,
        endpoint=endpoint,
        kind=WebhookDelivery.Kind.OPT_OUT,
        payload={"id": "evt_1", "type": "consent.opt_out", "data": {"address": "+31612345678"}},
        status=WebhookDelivery.Status.FAILED,
        attempts=number,
        last_status_code=503,
        last_error="HTTP 503",
        last_latency_ms=41,
    )
    for n in range(1, number + 1):
        WebhookAttempt.objects.create(
            company=endpoint.company,
            delivery=delivery,
            number=n,
            started_at=timezone.now(),
            status_code=503,
            latency_ms=40 + n,
            error="HTTP 503",
            response_snippet="upstream down",
        )
    return delivery


def test_a_disabled_endpoint_says_why_and_can_be_enabled_again(owner_client, company, endpoint):
    _failed_delivery(endpoint)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        active=False,
        disabled_at=timezone.now(),
        disabled_reason="Disabled after 15 failed attempts in a row (the last: HTTP 503).",
        consecutive_failures=15,
    )
    listing = _page(owner_client.get(LIST))
    assert "Disabled" in listing

    page = _page(owner_client.get(_detail(endpoint)))
    assert "Disabled after 15 failed attempts in a row (the last: HTTP 503)." in page
    assert page.count("HTTP 503") >= 4  # the delivery and its three attempts
    assert "43 ms" in page and "upstream down" in page
    assert "Send a test event" not in page and "Enable again" in page

    refused = _page(owner_client.post(_detail(endpoint, "test"), follow=True))
    assert "This endpoint is disabled" in refused

    page = _page(owner_client.post(_detail(endpoint, "enable"), follow=True))
    assert "Endpoint enabled" in page
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.disabled_reason == ""
    assert endpoint.consecutive_failures == 0


def test_the_log_is_paged_newest_first_and_htmx_gets_only_the_log(owner_client, endpoint):
    for n in range(25):
        WebhookDelivery.objects.create(
            company=endpoint.company,
            endpoint=endpoint,
            kind=WebhookDelivery.Kind.OPT_OUT,
            payload={"id": f"evt_{1000 + n}", "data": {}},
        )
    first = _page(owner_client.get(_detail(endpoint)))
    assert "evt_1024" in first and "evt_1005" in first and "evt_1004" not in first
    assert "Page 1 of 2" in first

    second = owner_client.get(_detail(endpoint), {"page": 2}, headers={"HX-Request": "true"})
    part = _page(second)
    assert "evt_1004" in part and "evt_1000" in part and "evt_1005" not in part
    assert "<html" not in part and 'id="log"' in part
    # A page that is no number, or too far, is the nearest page rather than an error.
    assert owner_client.get(_detail(endpoint), {"page": "x" * 50}).status_code == 200
    assert owner_client.get(_detail(endpoint), {"page": 10**30}).status_code == 200


@pytest.mark.parametrize("persona", ["marketer", "viewer"])
def test_members_read_the_screen_but_change_nothing_and_see_no_secret(
    client, request, persona, company, endpoint
):
    client.force_login(request.getfixturevalue(persona))
    _failed_delivery(endpoint)
    assert "https://93.184.215.14/hooks/optout" in _page(client.get(LIST))
    page = _page(client.get(_detail(endpoint)))
    assert "HTTP 503" in page
    assert endpoint.secret not in page and "Only owners see it." in page
    assert "Add an endpoint" not in _page(client.get(LIST))

    assert (
        client.post(LIST, {"url": "https://93.184.215.14/x", "sends_opt_outs": "on"}).status_code
        == 403
    )
    for action in ("", "rotate", "test", "enable", "delete"):
        assert client.post(_detail(endpoint, action)).status_code == 403, action
    assert WebhookEndpoint.objects.filter(company=company).count() == 1
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).secret == endpoint.secret
    assert not WebhookDelivery.objects.filter(company=company, kind="test").exists()


def test_another_companys_owner_sees_none_of_it(client, other_company, endpoint):
    from tests.factories import MembershipFactory

    their_owner = MembershipFactory(company=other_company, role="owner").user
    client.force_login(their_owner)
    _failed_delivery(endpoint)

    listing = _page(client.get(LIST))
    assert "93.184.215.14" not in listing and "No endpoints yet" in listing
    assert client.get(_detail(endpoint)).status_code == 404
    for action in ("", "rotate", "test", "enable", "delete"):
        response = client.post(_detail(endpoint, action), {"url": "https://93.184.215.14/evil"})
        assert response.status_code == 404, action
    unchanged = WebhookEndpoint.objects.get(pk=endpoint.pk)
    assert (unchanged.url, unchanged.secret) == (endpoint.url, endpoint.secret)
    assert not WebhookDelivery.objects.filter(endpoint=endpoint, kind="test").exists()


def test_an_unknown_or_huge_id_is_a_404(owner_client):
    assert owner_client.get(f"{LIST}987654/").status_code == 404
    assert owner_client.get(f"{LIST}{10**30}/").status_code == 404
    assert owner_client.post(f"{LIST}{10**30}/rotate/").status_code == 404


def test_the_nav_links_to_the_screen_for_every_member(marketer_client):
    page = _page(marketer_client.get("/contacts/"))
    assert f'href="{LIST}"' in page
