"""The export: everything the company holds about the person, nothing of anyone else."""

import json

from addressbook.models import AuditEvent
from campaigns.models import Message
from optout.models import Source
from optout.services import record_optout
from privacy.services import export_person

from .conftest import EMAIL, PHONE, REASON, REPLY


def test_the_export_holds_everything_of_the_person(anna, company, marketer):
    record_optout(company=company, address=EMAIL, source=Source.ONE_CLICK)

    data = export_person(contact=anna, user=marketer)

    assert data["format"] == "person-export/1"
    assert data["company"] == {"id": company.pk, "name": "Acme Coffee"}
    assert data["contact"] | {"created_at": None, "updated_at": None} == {
        "id": anna.pk,
        "first_name": "Anna",
        "last_name": "de Vries",
        "phone": PHONE,
        "country": "NL",
        "email": EMAIL,
        "created_at": None,
        "updated_at": None,
    }
    assert data["custom_values"] == [{"key": "city", "name": "City", "value": "Utrecht"}]
    assert [g["name"] for g in data["groups"]] == ["VIP"]
    [message] = data["messages"]
    assert message["campaign_name"] == "Spring sale"
    assert message["to"] == PHONE
    assert message["body"].startswith("Hi Anna, 20% off today.")
    assert message["status"] == Message.Status.SENT
    [reply] = data["replies"]
    assert (reply["sender"], reply["text"], reply["recipient"]) == (PHONE, REPLY, "3010")
    landing = next(e for e in data["consent_events"] if e["source"] == "landing_page")
    assert landing["kind"] == "opt_out"
    assert landing["campaign_name"] == "Spring sale"
    assert (landing["reason_text"], landing["ip_address"], landing["user_agent"]) == (
        REASON,
        "203.0.113.9",
        "AnnaPhone/1.0",
    )
    assert landing["wording_version"] == "v3"
    ins = [e for e in data["consent_events"] if e["kind"] == "opt_in" and e["address"] == PHONE]
    undo = ins[0]
    assert undo["consent_method"] == "landing_undo"
    assert [e["address"] for e in data["consent_events"]].count(EMAIL) >= 3  # linked, and own
    # The email's opt-out covers the phone too (PRODUCT.md, rule 2).
    assert {s["address"] for s in data["suppressions"]} == {EMAIL, PHONE}
    assert data["exported_at"].endswith("Z")
    json.dumps(data)  # plain JSON all through


def test_the_export_holds_nothing_of_another_company(anna, namesake, company):
    data = export_person(contact=anna)

    text = json.dumps(data)
    assert "Globex" not in text and "Elsewhere" not in text and "198.51.100.7" not in text
    assert {m["id"] for m in data["messages"]} == set(
        Message.objects.filter(company=company).values_list("pk", flat=True)
    )
    assert data["suppressions"] == []  # only the other company opted the number out


def test_who_took_the_export_is_on_the_audit_log(anna, company, marketer):
    export_person(contact=anna, user=marketer, ip="192.0.2.1")

    event = AuditEvent.objects.get(company=company, action=AuditEvent.Action.PERSON_EXPORTED)
    assert (event.actor, event.target, event.ip) == (marketer, f"Contact #{anna.pk}", "192.0.2.1")
