"""Bulk upsert: 10,000 contacts a request, by the import's rules, nobody resubscribed."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections

from addressbook.models import Contact, CustomField, Group
from addressbook.services.imports import create_import, preview_import
from optout.selectors import reachable_for_marketing, suppressed_among
from optout.services import record_optout
from tests.api.conftest import client_for
from tests.factories import ContactFactory

BULK = "/api/v1/contacts/bulk"


def post(api, body, **headers):
    return api.post(BULK, body, format="json", **headers)


def number(n: int) -> str:
    """Distinct valid Dutch mobile numbers, written the way a CRM might: nationally."""
    return f"06{20000000 + n}"


def e164(n: int) -> str:
    return f"+316{20000000 + n}"


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


def test_ten_thousand_rows_with_invalid_duplicate_and_opted_out_ones(api, company):
    kept = ContactFactory(company=company, phone=e164(1), first_name="Kept", email="")
    same = ContactFactory(company=company, phone=e164(2), first_name="Same", last_name="As")
    guarded = ContactFactory(company=company, phone="", country="", email="out@example.com")
    record_optout(company=company, address="out@example.com", source="email_link")
    record_optout(company=company, address=e164(3), source="sms_keyword")  # no contact yet
    rows = [{"phone": number(n), "first_name": f"Row {n}"} for n in range(10, 10_000)]
    special = [
        {"phone": number(1), "first_name": "Renamed"},  # 1 updated
        {"phone": number(2), "first_name": "Same", "last_name": "As"},  # 2 unchanged
        {"phone": "+31 6 1", "first_name": "Short"},  # 3 rejected: not a number
        {"first_name": "Nobody"},  # 4 rejected: no address
        {"phone": number(10), "first_name": "Again"},  # 5 created; row 11 repeats it
        {"phone": number(3), "first_name": "Left us"},  # 6 created, opted out
        # 7: the opted-out email's contact, reached by email, gets a phone added; the row
        # cannot take the email away
        {"phone": number(4), "email": "out@example.com"},
        {"email": "fresh@Example.COM", "custom": {}},  # 8 created by email
        ["not", "an", "object"],  # 9 rejected: shape
        {"phone": 612345678, "first_name": "Numeric"},  # 10 rejected: a number, not text
    ]
    body = {"contacts": special + rows}
    assert len(body["contacts"]) == 10_000

    response = post(api, body)

    assert response.status_code == 200, response.json()
    answer = response.json()
    results = answer["results"]
    assert [r["row"] for r in results] == list(range(1, 10_001))
    assert [r["status"] for r in results[:10]] == [
        "updated",
        "unchanged",
        "rejected",
        "rejected",
        "created",
        "created",
        "updated",
        "created",
        "rejected",
        "rejected",
    ]
    assert results[0]["id"] == kept.pk and results[1]["id"] == same.pk
    assert results[6]["id"] == guarded.pk
    assert "not a valid NL phone number" in results[2]["error"]
    assert results[3]["error"] == "No phone number or email address"
    assert "JSON object" in results[8]["error"]
    assert "phone: a string" in results[9]["error"]
    # Row 11 is number(10) again, after row 5 took it: the import's duplicate rule.
    assert results[10] == {
        "row": 11,
        "status": "rejected",
        "id": None,
        "error": "Same contact as an earlier row",
        "opted_out": False,
    }
    assert [r["opted_out"] for r in results[:8]] == [False] * 5 + [True, True, False]
    assert all(r["error"] is None and r["id"] for r in results if r["status"] != "rejected")
    assert answer["totals"] == {
        "created": 3 + 9_989,
        "updated": 2,
        "unchanged": 1,
        "rejected": 5,
        "opted_out": 2,
    }

    # What the company's address book now holds, as the API shows it.
    assert Contact.objects.filter(company=company).count() == 3 + 9_992
    shown = api.get(f"/api/v1/contacts/{results[6]['id']}/").json()
    assert (shown["phone"], shown["email"], shown["opted_out"]) == (
        e164(4),
        "out@example.com",
        True,
    )
    assert api.get(f"/api/v1/contacts/{kept.pk}/").json()["first_name"] == "Renamed"
    created = api.get(f"/api/v1/contacts/{results[4]['id']}/").json()
    assert (created["phone"], created["first_name"]) == (e164(10), "Again")
    by_email = api.get("/api/v1/contacts/lookup", {"email": "fresh@example.com"}).json()
    assert by_email["id"] == results[7]["id"]

    # Nobody became reachable: both suppressions hold, and their contacts get no marketing.
    assert suppressed_among(company, {e164(3), "out@example.com"}) == {e164(3), "out@example.com"}
    reachable = reachable_for_marketing(
        company=company, contacts=Contact.objects.filter(company=company)
    )
    assert not reachable.filter(pk__in=[results[5]["id"], guarded.pk]).exists()
    listed = api.get("/api/v1/contacts/", {"opted_out": "true", "ordering": "id"}).json()
    assert [c["id"] for c in listed["results"]] == sorted([guarded.pk, results[5]["id"]])


def test_an_unchanged_row_leaves_updated_at_alone(api, company, time_machine):
    time_machine.move_to("2026-03-01T10:00Z")
    contact = ContactFactory(company=company, phone=e164(1), first_name="Ada", last_name="L")
    time_machine.move_to("2026-03-05T10:00Z")
    response = post(api, {"contacts": [{"phone": number(1), "first_name": "Ada"}]})
    assert response.json()["results"][0]["status"] == "unchanged"
    shown = api.get(f"/api/v1/contacts/{contact.pk}/").json()
    assert shown["updated_at"].startswith("2026-03-01")


def test_skip_mode_and_a_group_for_every_row(api, company):
    existing = ContactFactory(company=company, phone=e164(1), first_name="Old")
    group = Group.objects.create(company=company, name="Fair")
    response = post(
        api,
        {
            "contacts": [{"phone": number(1), "first_name": "New"}, {"phone": number(2)}],
            "mode": "skip",
            "group": group.pk,
        },
    )
    assert [r["status"] for r in response.json()["results"]] == ["unchanged", "created"]
    assert api.get(f"/api/v1/contacts/{existing.pk}/").json()["first_name"] == "Old"
    members = api.get("/api/v1/contacts/", {"group": group.pk, "ordering": "id"}).json()
    assert [c["id"] for c in members["results"]] == [r["id"] for r in response.json()["results"]]


def test_custom_values_follow_the_fields_types(api, company):
    CustomField.objects.create(company=company, name="Visits", key="visits", type="number")
    response = post(
        api,
        {
            "contacts": [
                {"phone": number(1), "custom": {"visits": 3}},
                {"phone": number(2), "custom": {"visits": "many"}},
                {"phone": number(3), "custom": {"unknown": "x"}},
                {"phone": number(4), "custom": {"visits": True}},
            ]
        },
    )
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["created", "rejected", "rejected", "rejected"]
    assert "is not a number" in results[1]["error"]
    assert "no custom field" in results[2]["error"]
    assert api.get(f"/api/v1/contacts/{results[0]['id']}/").json()["custom"] == {"visits": 3}


def test_the_same_number_in_another_company_is_left_alone(api, company, other_company):
    theirs = ContactFactory(company=other_company, phone=e164(1), first_name="Theirs")
    response = post(api, {"contacts": [{"phone": number(1), "first_name": "Ours"}]})
    ours = response.json()["results"][0]
    assert ours["status"] == "created" and ours["id"] != theirs.pk
    theirs.refresh_from_db()
    assert theirs.first_name == "Theirs"


def test_another_companys_group_is_refused(api, other_company):
    theirs = Group.objects.create(company=other_company, name="Theirs")
    response = post(api, {"contacts": [{"phone": number(1)}], "group": theirs.pk})
    assert response.status_code == 400 and "group" in error_of(response)["fields"]
    assert not Contact.objects.exists()


def test_more_than_ten_thousand_rows_is_refused_whole(api):
    response = post(api, {"contacts": [{"phone": number(n)} for n in range(10_001)]})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "too_many_rows" and "10,000" in error["message"]
    assert not Contact.objects.exists()


def test_a_body_above_the_limit_is_a_413(api):
    body = json.dumps({"contacts": [{"first_name": "x" * 21 * 1024 * 1024}]})
    response = api.post(BULK, body, content_type="application/json")
    assert response.status_code == 413
    assert "10,000" in error_of(response)["message"]


def test_a_body_above_the_usual_upload_limit_is_taken(api, settings):
    # Long names and custom-free rows: well above Django's 2.5 MB default for one request.
    rows = [
        {
            "phone": number(n),
            "email": f"person{n}@example.com",
            "first_name": "N" * 100,
            "last_name": "L" * 100,
        }
        for n in range(10_000)
    ]
    body = json.dumps({"contacts": rows})
    assert len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = api.post(BULK, body, content_type="application/json")
    assert response.status_code == 200, response.json()
    assert response.json()["totals"]["created"] == 10_000


@pytest.mark.parametrize(
    "body",
    [
        [],
        {},
        {"contacts": []},
        {"contacts": "+31612345678"},
        {"contacts": [{"phone": number(1)}], "mode": "merge"},
        {"contacts": [{"phone": number(1)}], "group": 2**70},
        {"contacts": [{"phone": number(1)}], "extra": True},
    ],
)
def test_a_malformed_request_is_a_400(api, body):
    response = post(api, body)
    assert response.status_code == 400
    error_of(response)
    assert not Contact.objects.exists()


def test_bad_rows_are_rejected_one_by_one(api):
    response = post(
        api,
        {
            "contacts": [
                {"phone": number(1), "nickname": "x"},
                {"phone": number(2), "custom": "x"},
                {"email": "a@example.com", "first_name": ["A"]},
                {"phone": "0" * 100_000},
                {"email": "b@example.com"},
            ]
        },
    )
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["rejected"] * 4 + ["created"]
    assert "Unknown field: nickname" in results[0]["error"]


def test_nul_characters_are_refused(api):
    response = post(api, {"contacts": [{"phone": number(1), "first_name": "a\x00b"}]})
    assert response.status_code == 400
    error_of(response)
    assert not Contact.objects.exists()


def test_a_retry_with_the_same_key_writes_nothing_twice(api, company):
    body = {"contacts": [{"phone": number(1), "first_name": "Once"}]}
    first = post(api, body, HTTP_IDEMPOTENCY_KEY="sync-2026-03-01")
    second = post(api, body, HTTP_IDEMPOTENCY_KEY="sync-2026-03-01")
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert first.json()["results"][0]["status"] == "created"
    assert Contact.objects.filter(company=company).count() == 1


def test_without_a_key_nothing_is_written(db, anonymous_api):
    response = anonymous_api.post(BULK, {"contacts": [{"phone": number(1)}]}, format="json")
    assert response.status_code == 401
    assert not Contact.objects.exists()


def test_rows_are_rejected_for_the_reasons_a_file_import_gives(api, company, settings, tmp_path):
    settings.IMPORT_DIR = tmp_path
    csv = (
        "phone,email,first_name\n"
        "0612345678,,Ada\n"
        "+31 6 1,,Short\n"
        ",not-an-email,Bad\n"
        ",,Nobody\n"
        "+31612345678,,Again\n"
    )
    job = create_import(
        company=company, upload=SimpleUploadedFile("c.csv", csv.encode(), "text/csv")
    )
    imported = [(o.outcome, o.reason) for o in preview_import(job=job)]

    rows = [
        dict(zip(("phone", "email", "first_name"), line.split(","), strict=True))
        for line in csv.splitlines()[1:]
    ]
    results = post(api, {"contacts": rows}).json()["results"]

    assert [r["status"] for r in results] == ["created"] + ["rejected"] * 4
    assert [r["error"] or "" for r in results] == [reason for _, reason in imported]
    assert [o for o, _ in imported] == ["created", "invalid", "invalid", "invalid", "duplicate"]


def test_updated_rows_are_read_back_whole(api, company):
    CustomField.objects.create(company=company, name="City", key="city")
    CustomField.objects.create(company=company, name="Visits", key="visits", type="number")
    contacts = [
        ContactFactory(company=company, phone=e164(n), email="", custom={"city": "Delft"})
        for n in range(3)
    ]
    rows = [
        {"phone": number(n), "email": f"p{n}@example.com", "custom": {"visits": n}}
        for n in range(3)
    ]
    results = post(api, {"contacts": rows}).json()["results"]
    assert [r["status"] for r in results] == ["updated"] * 3
    for n, contact in enumerate(contacts):
        shown = api.get(f"/api/v1/contacts/{contact.pk}/").json()
        assert shown["email"] == f"p{n}@example.com"
        assert shown["custom"] == {"city": "Delft", "visits": n}
        assert shown["updated_at"] > shown["created_at"]


def test_two_requests_upserting_the_same_new_contacts_at_once_both_succeed(
    transactional_db, company, issued_key
):
    body = {"contacts": [{"phone": number(n), "first_name": f"N{n}"} for n in range(2000)]}

    def send(_):
        try:
            return post(client_for(issued_key.secret), body).json()
        finally:
            connections.close_all()  # this thread's own connection

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(send, range(2)))

    statuses = sorted(answer["totals"]["created"] for answer in answers)
    assert statuses == [0, 2000], answers
    first, second = sorted(answers, key=lambda a: a["totals"]["created"], reverse=True)
    assert second["totals"]["unchanged"] == 2000
    assert [r["id"] for r in first["results"]] == [r["id"] for r in second["results"]]
    assert Contact.objects.filter(company=company).count() == 2000
