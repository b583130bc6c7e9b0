"""The contacts of the API: found however a number is written, written by the dashboard's
rules, and invisible to every other company."""

import pytest

from addressbook.models import Contact, CustomField, Group
from optout.selectors import is_suppressed
from optout.services import record_optout
from tests.factories import ContactFactory

LIST = "/api/v1/contacts/"
FIVE_WAYS = ["+31 6 12345678", "0612345678", "0031612345678", "+31-6-1234-5678", "(06) 12 34 56 78"]


def detail(contact) -> str:
    return f"/api/v1/contacts/{contact if isinstance(contact, int) else contact.pk}/"


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


@pytest.fixture
def anna(company):
    return ContactFactory(
        company=company, phone="+31612345678", email="anna@example.com", first_name="Anna"
    )


@pytest.fixture
def city(company):
    return CustomField.objects.create(company=company, name="City", key="city")


# --- create, read, update, delete ---------------------------------------------------------
def test_create_reads_a_national_number_and_shows_the_contact(api, company, city):
    group = Group.objects.create(company=company, name="Newsletter")
    response = api.post(
        LIST,
        {
            "first_name": "Anna",
            "last_name": "de Vries",
            "phone": "06 12345678",
            "email": "Anna@Example.COM",
            "custom": {"city": "Utrecht"},
            "groups": [group.pk],
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert response["Location"] == detail(body["id"])
    assert body["phone"] == "+31612345678" and body["country"] == "NL"
    assert body["email"] == "Anna@example.com"
    assert body["custom"] == {"city": "Utrecht"}
    assert body["groups"] == [group.pk]
    assert body["opted_out"] is False
    assert api.get(detail(body["id"])).json() == body


def test_create_with_a_taken_number_is_a_conflict_naming_the_lookup(api, anna):
    response = api.post(LIST, {"phone": "+31 6 1234 5678"}, format="json")
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "contact_exists" and "/api/v1/contacts/lookup" in error["message"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "phone"),
        ({"phone": "12"}, "phone"),
        ({"email": "not an email"}, "email"),
        ({"phone": 31612345678}, "phone"),
        ({"phone": "+31612345678", "custom": {"nope": "x"}}, "custom"),
        ({"phone": "+31612345678", "custom": ["x"]}, "custom"),
        ({"phone": "+31612345678", "groups": [2**70]}, "groups"),
        ({"phone": "+31612345678", "groups": [999999]}, "groups"),
        ({"phone": "+31612345678", "first_name": "x" * 101}, "first_name"),
        ({"phone": "+31612345678", "first_name": "nul\x00byte"}, None),
    ],
)
def test_bad_contacts_are_400s_saying_which_field(api, payload, field):
    response = api.post(LIST, payload, format="json")
    assert response.status_code == 400
    error = error_of(response)
    if field:  # a list's items are named groups[0] and so on
        assert any(name.split("[")[0] == field for name in error["fields"]), error
    assert not Contact.objects.exists()


def test_malformed_json_is_a_400(api):
    response = api.post(LIST, b'{"phone": ', content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"


def test_a_custom_number_field_stores_numbers(api, company):
    CustomField.objects.create(company=company, name="Visits", key="visits", type="number")
    response = api.post(LIST, {"phone": "0612345678", "custom": {"visits": "12"}}, format="json")
    assert response.json()["custom"] == {"visits": 12}
    bad = api.post(LIST, {"phone": "0612345679", "custom": {"visits": "lots"}}, format="json")
    assert bad.status_code == 400 and "custom" in error_of(bad)["fields"]


def test_patch_changes_only_what_is_sent_and_merges_custom(api, anna, city, company):
    CustomField.objects.create(company=company, name="Tier", key="tier")
    api.patch(detail(anna), {"custom": {"city": "Delft", "tier": "gold"}}, format="json")

    response = api.patch(
        detail(anna), {"last_name": "Jansen", "custom": {"tier": None}}, format="json"
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["first_name"], body["last_name"]) == ("Anna", "Jansen")
    assert (body["phone"], body["email"]) == ("+31612345678", "anna@example.com")
    assert body["custom"] == {"city": "Delft"}


def test_put_replaces_the_whole_contact(api, anna, company):
    group = Group.objects.create(company=company, name="Fair")
    anna.groups.add(group)
    response = api.put(detail(anna), {"email": "anna@example.com"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["phone"], body["first_name"], body["groups"]) == ("", "", [])


def test_an_opted_out_number_cannot_be_edited_away(api, anna, company):
    record_optout(company=company, address="+31612345678", source="api")
    response = api.patch(detail(anna), {"phone": "+31687654321"}, format="json")
    assert response.status_code == 409
    assert error_of(response)["code"] == "address_opted_out"
    assert api.get(detail(anna)).json()["phone"] == "+31612345678"


def test_delete_keeps_the_opt_out(api, anna, company):
    record_optout(company=company, address="+31612345678", source="api")
    assert api.delete(detail(anna)).status_code == 204
    assert api.get(detail(anna)).status_code == 404
    assert is_suppressed(company=company, address="+31612345678")
    again = api.post(LIST, {"phone": "0612345678"}, format="json").json()
    assert again["opted_out"] is True


def test_create_is_idempotent_with_a_key(api):
    headers = {"HTTP_IDEMPOTENCY_KEY": "crm-42"}
    first = api.post(LIST, {"phone": "0612345678"}, format="json", **headers)
    second = api.post(LIST, {"phone": "0612345678"}, format="json", **headers)
    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert first.json() == second.json()
    assert Contact.objects.count() == 1


# --- lookup -------------------------------------------------------------------------------
@pytest.mark.parametrize("written", FIVE_WAYS)
def test_lookup_finds_a_number_written_five_ways(api, anna, written):
    response = api.get("/api/v1/contacts/lookup", {"phone": written})
    assert response.status_code == 200, response.json()
    assert response.json()["id"] == anna.pk


def test_lookup_by_email_and_the_misses(api, anna):
    assert api.get("/api/v1/contacts/lookup", {"email": "anna@EXAMPLE.com"}).json()["id"] == anna.pk
    missing = api.get("/api/v1/contacts/lookup", {"phone": "+31612345679"})
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    for query in ({}, {"phone": "banana"}, {"phone": "0612345678", "email": "a@b.nl"}):
        response = api.get("/api/v1/contacts/lookup", query)
        assert response.status_code == 400, query
        error_of(response)


# --- the list and its filters -------------------------------------------------------------
def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [c["id"] for c in response.json()["results"]]


def test_list_filters(api, company, anna):
    group = Group.objects.create(company=company, name="Fair")
    ben = ContactFactory(company=company, first_name="Ben", email="ben@example.org")
    cleo = ContactFactory(company=company, first_name="Cleo", phone="+33612345678", country="FR")
    ben.groups.add(group)
    record_optout(company=company, address="ben@example.org", source="api")

    assert ids(api.get(LIST)) == [cleo.pk, ben.pk, anna.pk]
    assert ids(api.get(LIST, {"q": "ann"})) == [anna.pk]
    assert ids(api.get(LIST, {"q": "06 12345678"})) == [anna.pk]
    assert ids(api.get(LIST, {"group": group.pk})) == [ben.pk]
    assert ids(api.get(LIST, {"phone": "(06) 12 34 56 78"})) == [anna.pk]
    assert ids(api.get(LIST, {"email": "ben@example.org"})) == [ben.pk]
    assert ids(api.get(LIST, {"country": "fr"})) == [cleo.pk]
    assert ids(api.get(LIST, {"opted_out": "true"})) == [ben.pk]
    assert ids(api.get(LIST, {"opted_out": "false"})) == [cleo.pk, anna.pk]
    assert ids(api.get(LIST, {"ordering": "id"})) == [anna.pk, ben.pk, cleo.pk]
    shown = {c["id"]: c for c in api.get(LIST).json()["results"]}
    assert shown[ben.pk]["opted_out"] is True and shown[ben.pk]["groups"] == [group.pk]


def test_updated_after_walks_the_changes(api, company, time_machine):
    time_machine.move_to("2026-03-01T10:00Z")
    old = ContactFactory(company=company)
    time_machine.move_to("2026-03-02T10:00Z")
    new = ContactFactory(company=company)
    query = {"updated_after": "2026-03-01T12:00:00Z", "ordering": "updated_at"}
    assert ids(api.get(LIST, query)) == [new.pk]
    time_machine.move_to("2026-03-03T10:00Z")
    api.patch(detail(old), {"first_name": "Changed"}, format="json")
    assert ids(api.get(LIST, query)) == [new.pk, old.pk]
    assert ids(api.get(LIST, {"updated_after": "2026-03-02"})) == [new.pk, old.pk]


def test_pages_follow_the_cursor(api, company):
    made = [ContactFactory(company=company).pk for _ in range(5)]
    first = api.get(LIST, {"limit": 2}).json()
    second = api.get(first["next"]).json()
    third = api.get(second["next"]).json()
    walked = [c["id"] for page in (first, second, third) for c in page["results"]]
    assert walked == made[::-1] and third["next"] is None


@pytest.mark.parametrize(
    "query",
    [
        {"group": "x"},
        {"group": str(2**70)},
        {"phone": "12"},
        {"email": "nope"},
        {"opted_out": "maybe"},
        {"updated_after": "yesterday"},
        {"updated_after": "2026-02-31"},
        {"ordering": "phone"},
    ],
)
def test_bad_filters_are_400s(api, query):
    response = api.get(LIST, query)
    assert response.status_code == 400
    assert set(query) & set(error_of(response)["fields"])


# --- another company ----------------------------------------------------------------------
def test_another_company_sees_none_of_the_contacts(outsider_api, anna, city):
    assert outsider_api.get(LIST).json()["results"] == []
    assert outsider_api.get(LIST, {"phone": "+31612345678"}).json()["results"] == []
    for method in ("get", "patch", "put", "delete"):
        response = getattr(outsider_api, method)(detail(anna), {"first_name": "X"}, format="json")
        assert response.status_code == 404, method
        error_of(response)
    lookup = outsider_api.get("/api/v1/contacts/lookup", {"phone": "+31612345678"})
    assert lookup.status_code == 404
    anna.refresh_from_db()
    assert anna.first_name == "Anna"


def test_another_companys_group_cannot_be_given(api, other_company):
    theirs = Group.objects.create(company=other_company, name="Theirs")
    response = api.post(LIST, {"phone": "0612345678", "groups": [theirs.pk]}, format="json")
    assert response.status_code == 400 and "groups" in error_of(response)["fields"]
    assert not theirs.contacts.exists()


@pytest.mark.parametrize("pk", ["0", "99999999", "123456789012345678901234567890"])
def test_unknown_and_huge_ids_are_404s(api, pk):
    response = api.get(f"/api/v1/contacts/{pk}/")
    assert response.status_code == 404
    error_of(response)


def test_without_a_key_nothing_is_shown(anonymous_api, anna):
    assert anonymous_api.get(LIST).status_code == 401
    assert anonymous_api.get(detail(anna)).status_code == 401
