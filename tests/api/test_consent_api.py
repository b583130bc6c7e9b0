"""Bringing an address back through the API: refused without proof, recorded with it, or a
double opt-in that changes nothing until the person confirms."""

import base64
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from addressbook.models import AuditEvent
from optout.models import ConsentEvent, OptinRequest, Source
from optout.selectors import is_suppressed
from optout.services import record_optout

NUMBER = "+31612345678"
PDF = b"%PDF-1.4\n%%EOF\n"
WORDING = "Yes, send me offers from Acme Coffee by SMS. I can stop at any time."


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def suppressed(company, seeded_defaults):
    with time_machine.travel(timezone.now() - timedelta(hours=2), tick=False):
        record_optout(company=company, address=NUMBER, source=Source.SMS_KEYWORD)


def consent(ref: str = NUMBER) -> str:
    return reverse("api:suppression-consent", kwargs={"ref": ref})


def detail(ref: str = NUMBER) -> str:
    return reverse("api:suppression-detail", kwargs={"ref": ref})


def proof(**fields) -> dict:
    given = (timezone.now() - timedelta(days=2)).isoformat()
    return {"method": "phone", "given_at": given, "wording": WORDING, **fields}


def test_delete_is_still_refused_and_says_where_proof_goes(api, company, suppressed):
    answer = api.delete(detail())

    assert answer.status_code == 409
    error = answer.json()["error"]
    assert error["code"] == "consent_proof_required"
    assert "/api/v1/suppressions/{ref}/consent" in error["message"]
    assert is_suppressed(company=company, address=NUMBER)


def test_consent_without_proof_is_a_400_naming_each_part(api, company, suppressed):
    answer = api.post(consent(), {}, format="json")

    assert answer.status_code == 400
    assert set(answer.json()["error"]["fields"]) == {"method", "given_at", "wording"}
    assert is_suppressed(company=company, address=NUMBER)
    assert not ConsentEvent.objects.filter(kind="opt_in").exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"wording": "   "}, "wording"),
        ({"method": "keyword"}, "method"),  # the person's own act, not a marketer's proof
        ({"method": "double_opt_in_sms"}, "method"),
        ({"given_at": "2999-01-01T00:00:00Z"}, "given_at"),
        ({"given_at": "yesterday"}, "given_at"),
        ({"document_base64": "not base64!"}, "document_base64"),
        ({"document_base64": base64.b64encode(b"plain text").decode()}, "document_base64"),
        ({"double_opt_in": "sms"}, "method"),  # both at once
    ],
)
def test_proof_that_does_not_hold_is_refused(api, company, suppressed, fields, field):
    answer = api.post(consent(), proof(**fields), format="json")

    assert answer.status_code == 400, answer.json()
    assert field in answer.json()["error"]["fields"]
    assert is_suppressed(company=company, address=NUMBER)


def test_consent_with_proof_brings_the_address_back(api, issued_key, company, suppressed):
    document = base64.b64encode(PDF).decode()

    answer = api.post(
        consent("06 12345678"),
        proof(document_base64=document),
        format="json",
        REMOTE_ADDR="203.0.113.9",
    )

    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert (body["kind"], body["address"], body["source"]) == ("opt_in", NUMBER, "api")
    assert (body["consent_method"], body["consent_wording"]) == ("phone", WORDING)
    assert body["has_document"] is True
    assert not is_suppressed(company=company, address=NUMBER)
    event = ConsentEvent.objects.get(pk=body["id"])
    assert (event.actor_type, event.actor_id, event.actor_label) == (
        "api_key",
        issued_key.key.pk,
        "CRM sync",
    )
    assert event.ip_address == "203.0.113.9"
    with event.consent_document.open("rb") as stored:
        assert stored.read() == PDF
    audit = AuditEvent.objects.get(company=company, action=AuditEvent.Action.CONSENT_RECORDED)
    assert (audit.target, audit.details["by"]) == (NUMBER, "CRM sync")
    # The address is no suppression any more: the check says so, and a second try is a 404.
    check = api.get(reverse("api:suppression-check"), {"phone": NUMBER}).json()
    assert check["may_send_marketing"] is True
    assert api.post(consent(), proof(), format="json").status_code == 404


def test_an_api_optout_records_the_key_as_its_actor(api, issued_key, company):
    api.post(reverse("api:suppression-list"), {"address": NUMBER}, format="json")
    event = ConsentEvent.objects.get()
    assert (event.source, event.actor_type, event.actor_id) == ("api", "api_key", issued_key.key.pk)


def test_a_double_opt_in_changes_nothing_until_the_person_confirms(
    api, company, suppressed, outbox
):
    answer = api.post(consent(), {"double_opt_in": "sms"}, format="json")

    assert answer.status_code == 202, answer.json()
    body = answer.json()
    assert (body["address"], body["channel"], body["status"]) == (NUMBER, "sms", "pending")
    # What it said, but for the link's token: only the person may confirm.
    token = OptinRequest.objects.get().token
    assert [sms.body.replace(token, "…") for sms in outbox] == [body["wording"]]
    assert token not in answer.content.decode()
    assert is_suppressed(company=company, address=NUMBER)
    assert not ConsentEvent.objects.filter(kind="opt_in").exists()

    again = api.post(consent(), {"double_opt_in": "sms"}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "double_opt_in_pending"
    assert len(outbox) == 1

    assert Client().post(f"/s/c/{token}").status_code == 200
    assert not is_suppressed(company=company, address=NUMBER)


def test_a_double_opt_in_goes_by_the_addresses_own_channel(api, company, suppressed, outbox):
    answer = api.post(consent(), {"double_opt_in": "email"}, format="json")
    assert answer.status_code == 400
    assert "double_opt_in" in answer.json()["error"]["fields"]
    assert outbox == []


def test_no_double_opt_in_right_after_an_opt_out(api, company, outbox):
    record_optout(company=company, address=NUMBER, source=Source.SMS_KEYWORD)
    answer = api.post(consent(), {"double_opt_in": "sms"}, format="json")
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "too_soon_after_opt_out"
    assert outbox == []


def test_a_gateway_that_is_down_is_a_503(api, company, suppressed, fake_gateway, settings):
    settings.SMS_BACKEND = "campaigns.backends.cm.CmBackend"
    settings.CM_BASE_URL = fake_gateway.url
    settings.CM_PRODUCT_TOKEN = fake_gateway.token
    settings.CM_MAX_ATTEMPTS = 1
    fake_gateway.fail_next(1, status=503)

    answer = api.post(consent(), {"double_opt_in": "sms"}, format="json")

    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "gateway_unavailable"
    assert not OptinRequest.objects.exists()


def test_a_retry_with_the_same_idempotency_key_sends_nothing_twice(
    api, company, suppressed, outbox
):
    headers = {"Idempotency-Key": "doi-1"}
    first = api.post(consent(), {"double_opt_in": "sms"}, format="json", headers=headers)
    retry = api.post(consent(), {"double_opt_in": "sms"}, format="json", headers=headers)
    assert (first.status_code, retry.status_code) == (202, 202)
    assert retry["Idempotent-Replayed"] == "true"
    assert len(outbox) == 1


def test_another_companys_suppression_is_a_404(outsider_api, company, suppressed, outbox):
    pk = str(ConsentEvent.objects.get().suppressions.get().pk)
    for ref in (NUMBER, pk):
        assert outsider_api.post(consent(ref), proof(), format="json").status_code == 404
        answer = outsider_api.post(consent(ref), {"double_opt_in": "sms"}, format="json")
        assert answer.status_code == 404
    assert is_suppressed(company=company, address=NUMBER)
    assert outbox == []


def test_the_schema_describes_the_endpoint(client):
    schema = client.get("/api/v1/schema?format=json").json()
    operation = schema["paths"]["/api/v1/suppressions/{ref}/consent"]["post"]
    assert {"201", "202", "400", "404", "409", "503"} <= set(operation["responses"])
