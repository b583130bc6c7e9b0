"""``/api/v1/contacts/{id}/export`` and ``/erase``, with the company's key."""

import pytest
from rest_framework.test import APIClient

from addressbook.models import AuditEvent, Contact
from api.keys import create_api_key
from optout.models import ActorType, ConsentEvent, Source
from privacy.hashing import erasure_hash
from tests.factories import ContactFactory

from .conftest import EMAIL, PHONE


def client_for(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def key(company, owner):
    return create_api_key(company=company, name="CRM sync", created_by=owner)


@pytest.fixture
def api(key) -> APIClient:
    return client_for(key.secret)


@pytest.fixture
def outsider_api(other_company) -> APIClient:
    return client_for(create_api_key(company=other_company, name="Globex CRM").secret)


def test_export_through_the_api(api, anna, namesake, company):
    response = api.get(f"/api/v1/contacts/{anna.pk}/export")

    assert response.status_code == 200
    data = response.json()
    assert data["contact"]["email"] == EMAIL
    assert [m["campaign_name"] for m in data["messages"]] == ["Spring sale"]
    assert "Globex" not in response.content.decode()
    event = AuditEvent.objects.get(action=AuditEvent.Action.PERSON_EXPORTED)
    assert event.details == {"api_key": "CRM sync"}


def test_erase_through_the_api(api, key, company):
    contact = ContactFactory(company=company, phone=PHONE, email=EMAIL)

    response = api.post(f"/api/v1/contacts/{contact.pk}/erase")

    assert response.status_code == 200
    assert response.json() == {
        "contact_id": contact.pk,
        "addresses": [erasure_hash(PHONE), erasure_hash(EMAIL)],
        "messages": 0,
        "replies": 0,
        "consent_events": 2,
        "suppressed": 1,
    }
    assert not Contact.objects.filter(pk=contact.pk).exists()
    event = ConsentEvent.objects.get(company=company, address=PHONE)
    assert (event.source, event.actor_type, event.actor_id) == (
        Source.API,
        ActorType.API_KEY,
        key.key.pk,
    )
    assert api.post(f"/api/v1/contacts/{contact.pk}/erase").status_code == 404


def test_an_erased_address_sent_again_stays_opted_out(api, company):
    contact = ContactFactory(company=company, phone=PHONE, email=EMAIL)
    api.post(f"/api/v1/contacts/{contact.pk}/erase")

    response = api.post(
        "/api/v1/contacts/bulk", {"contacts": [{"phone": "06 12345678"}]}, format="json"
    )
    assert response.json()["results"][0]["status"] == "created"
    assert response.json()["results"][0]["opted_out"] is True
    created = api.post("/api/v1/contacts", {"email": EMAIL}, format="json")
    assert created.status_code == 201 and created.json()["opted_out"] is True


def test_a_stored_answer_replays_without_the_person(api, company):
    body = {"phone": PHONE, "first_name": "Anna", "last_name": "de Vries"}
    headers = {"HTTP_IDEMPOTENCY_KEY": "crm-42"}
    created = api.post("/api/v1/contacts", body, format="json", **headers)
    assert created.status_code == 201

    api.post(f"/api/v1/contacts/{created.json()['id']}/erase")

    replay = api.post("/api/v1/contacts", body, format="json", **headers)
    assert replay["Idempotent-Replayed"] == "true"
    shown = replay.json()
    assert (shown["phone"], shown["first_name"], shown["last_name"]) == (
        erasure_hash(PHONE),
        "",
        "",
    )
    assert not Contact.objects.filter(company=company).exists()


def test_other_company_gets_404(outsider_api, company):
    contact = ContactFactory(company=company, phone=PHONE)

    assert outsider_api.get(f"/api/v1/contacts/{contact.pk}/export").status_code == 404
    assert outsider_api.post(f"/api/v1/contacts/{contact.pk}/erase").status_code == 404
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert not AuditEvent.objects.filter(action__startswith="person.").exists()


def test_an_unknown_id_is_a_404_not_an_error(api, db):
    assert api.get("/api/v1/contacts/999999999999999999/export").status_code == 404
    assert api.post("/api/v1/contacts/0/erase").status_code == 404
