"""``/api/v1/webhook-endpoints/``: a program manages the company's endpoints as an owner does."""

import pytest

from addressbook.models import AuditEvent
from api.models import WebhookDelivery, WebhookEndpoint
from optout.services import record_optout

BASE = "/api/v1/webhook-endpoints/"
URL = "https://93.184.215.14/hooks/optout"


@pytest.fixture(autouse=True)
def _public_addresses_only(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False


@pytest.fixture
def created(api) -> dict:
    response = api.post(BASE, {"url": URL, "description": "CRM"}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_register_shows_the_secret_once(api, company, created):
    endpoint = WebhookEndpoint.objects.get(company=company)
    assert created["id"] == endpoint.pk
    assert created["secret"] == endpoint.secret and created["secret"].startswith("whsec_")
    assert created["events"] == ["opt_out", "opt_in"]
    assert created["active"] is True

    listed = api.get(BASE).json()
    assert [e["id"] for e in listed["results"]] == [endpoint.pk]
    assert "secret" not in listed["results"][0]
    assert "secret" not in api.get(f"{BASE}{endpoint.pk}/").json()
    audit = AuditEvent.objects.get(company=company, action=AuditEvent.Action.WEBHOOK_ADDED)
    assert audit.details == {"events": ["opt_out", "opt_in"], "api_key": "CRM sync"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://93.184.215.14/h"}, "url"),
        ({"url": "https://10.0.0.1/h"}, "url"),
        ({"url": "https://[::1]/h"}, "url"),
        ({"url": 12345}, "url"),
        ({"url": "x" * 5000}, "url"),
        ({"url": "https://93.184.215.14/h\u0000"}, None),
        ({}, "url"),
        ({"url": URL, "events": []}, "events"),
        ({"url": URL, "events": ["opt_out", "sms_sent"]}, "events"),
        ({"url": URL, "events": "opt_out"}, "events"),
        ({"url": URL, "description": ["CRM"]}, "description"),
        ({"url": URL, "description": "d" * 201}, "description"),
    ],
)
def test_a_bad_registration_is_a_400_naming_the_field(api, company, body, field):
    response = api.post(BASE, body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    if field:
        # A list's item is named by its place: events[1].
        assert field in {name.split("[")[0] for name in error["fields"]}, error
    assert not WebhookEndpoint.objects.filter(company=company).exists()


def test_change_rotate_and_remove(api, company, created):
    path = f"{BASE}{created['id']}/"
    changed = api.patch(path, {"events": ["opt_out"], "description": "CRM v2"}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["events"] == ["opt_out"]
    assert changed.json()["description"] == "CRM v2" and changed.json()["url"] == URL
    assert api.patch(path, {"url": "https://192.168.1.1/"}, format="json").status_code == 400
    assert api.get(path).json()["url"] == URL

    rotated = api.post(f"{path}rotate-secret")
    assert rotated.status_code == 200
    assert rotated.json()["secret"] != created["secret"]
    assert rotated.json()["previous_secret_until"] is not None

    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404
    assert not WebhookEndpoint.objects.filter(company=company).exists()


def test_a_test_event_and_the_delivery_log(api, company, created):
    path = f"{BASE}{created['id']}/"
    record_optout(company=company, address="+31612345678", source="landing_page")
    queued = api.post(f"{path}test", headers={"Idempotency-Key": "test-1"})
    assert queued.status_code == 202, queued.content
    assert queued.json()["type"] == "test" and queued.json()["status"] == "pending"
    again = api.post(f"{path}test", headers={"Idempotency-Key": "test-1"})
    assert again.headers["Idempotent-Replayed"] == "true"
    assert WebhookDelivery.objects.filter(company=company, kind="test").count() == 1

    log = api.get(f"{path}deliveries").json()["results"]
    assert [d["type"] for d in log] == ["test", "consent.opt_out"]
    assert log[1]["payload"]["data"]["address"] == "+31612345678"
    assert log[1]["event_id"] == log[1]["payload"]["data"]["event_id"]
    assert log[1]["attempts_log"] == []
    assert api.get(f"{path}deliveries", {"status": "delivered"}).json()["results"] == []
    bad = api.get(f"{path}deliveries", {"status": "lost"})
    assert bad.status_code == 400 and "status" in bad.json()["error"]["fields"]


def test_a_disabled_endpoint_refuses_tests_until_enabled(api, company, created):
    path = f"{BASE}{created['id']}/"
    WebhookEndpoint.objects.filter(pk=created["id"]).update(
        active=False, disabled_reason="Disabled after 15 failed attempts in a row."
    )
    shown = api.get(path).json()
    assert shown["active"] is False and shown["disabled_reason"].startswith("Disabled after")
    refused = api.post(f"{path}test")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "endpoint_disabled"

    enabled = api.post(f"{path}enable")
    assert enabled.status_code == 200 and enabled.json()["active"] is True
    assert api.post(f"{path}test").status_code == 202


def test_another_companys_key_finds_none_of_it(outsider_api, company, created):
    path = f"{BASE}{created['id']}/"
    assert outsider_api.get(BASE).json()["results"] == []
    assert outsider_api.get(path).status_code == 404
    assert outsider_api.patch(path, {"url": URL}, format="json").status_code == 404
    for action in ("rotate-secret", "enable", "test", "deliveries"):
        method = outsider_api.get if action == "deliveries" else outsider_api.post
        assert method(f"{path}{action}").status_code == 404, action
    assert outsider_api.delete(path).status_code == 404
    endpoint = WebhookEndpoint.objects.get(pk=created["id"])
    assert endpoint.secret == created["secret"] and endpoint.active
    assert not WebhookDelivery.objects.filter(company=company).exists()


def test_an_unknown_or_huge_id_is_a_404(api):
    assert api.get(f"{BASE}987654/").status_code == 404
    assert api.get(f"{BASE}{10**30}/").status_code == 404
    assert api.post(f"{BASE}{10**30}/test").status_code == 404
