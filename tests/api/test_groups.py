"""Groups, their members and custom fields through the API, each company's alone."""

import pytest

from addressbook.models import CustomField, Group
from tests.factories import ContactFactory

GROUPS = "/api/v1/groups/"
FIELDS = "/api/v1/custom-fields/"


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


@pytest.fixture
def fair(company):
    return Group.objects.create(company=company, name="Fair")


def members(api, group) -> list[int]:
    page = api.get("/api/v1/contacts/", {"group": group.pk, "ordering": "id"}).json()
    return [c["id"] for c in page["results"]]


# --- groups -------------------------------------------------------------------------------
def test_create_list_rename_delete(api, company):
    created = api.post(GROUPS, {"name": " Newsletter "}, format="json")
    assert created.status_code == 201
    group = created.json()
    assert (group["name"], group["size"]) == ("Newsletter", 0)
    assert created["Location"] == f"{GROUPS}{group['id']}/"
    assert [g["id"] for g in api.get(GROUPS).json()["results"]] == [group["id"]]

    renamed = api.patch(f"{GROUPS}{group['id']}/", {"name": "Weekly"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Weekly"
    assert api.get(f"{GROUPS}{group['id']}/").json()["name"] == "Weekly"

    contact = ContactFactory(company=company)
    contact.groups.add(Group.objects.get(pk=group["id"]))
    assert api.delete(f"{GROUPS}{group['id']}/").status_code == 204
    assert api.get(f"{GROUPS}{group['id']}/").status_code == 404
    assert api.get(f"/api/v1/contacts/{contact.pk}/").json()["groups"] == []


def test_a_taken_name_is_a_conflict(api, fair):
    response = api.post(GROUPS, {"name": "Fair"}, format="json")
    assert response.status_code == 409 and error_of(response)["code"] == "group_exists"
    other = api.post(GROUPS, {"name": "Other"}, format="json").json()
    rename = api.put(f"{GROUPS}{other['id']}/", {"name": "Fair"}, format="json")
    assert rename.status_code == 409 and error_of(rename)["code"] == "group_exists"


@pytest.mark.parametrize("payload", [{}, {"name": ""}, {"name": "   "}, {"name": "x" * 101}])
def test_a_group_needs_a_name(api, payload):
    response = api.post(GROUPS, payload, format="json")
    assert response.status_code == 400 and "name" in error_of(response)["fields"]
    assert not Group.objects.exists()


def test_members_are_added_and_removed_in_bulk(api, company, other_company, fair):
    mine = [ContactFactory(company=company).pk for _ in range(3)]
    theirs = ContactFactory(company=other_company)
    fair.contacts.add(mine[0])

    added = api.post(
        f"{GROUPS}{fair.pk}/members",
        {"contacts": [*mine, theirs.pk, 999_999_999]},
        format="json",
    )

    assert added.status_code == 200, added.json()
    assert added.json() == {
        "added": 2,
        "already_members": 1,
        "not_found": [theirs.pk, 999_999_999],
    }
    assert members(api, fair) == mine
    assert api.get(f"{GROUPS}{fair.pk}/").json()["size"] == 3
    assert not theirs.groups.exists()

    removed = api.delete(
        f"{GROUPS}{fair.pk}/members", {"contacts": [mine[0], mine[0], theirs.pk]}, format="json"
    )
    assert removed.json() == {"removed": 1, "not_members": 0, "not_found": [theirs.pk]}
    assert members(api, fair) == mine[1:]


@pytest.mark.parametrize(
    "payload",
    [{}, {"contacts": []}, {"contacts": "1"}, {"contacts": ["x"]}, {"contacts": [2**70]}],
)
def test_bad_member_lists_are_400s(api, fair, payload):
    response = api.post(f"{GROUPS}{fair.pk}/members", payload, format="json")
    assert response.status_code == 400
    error_of(response)


def test_at_most_ten_thousand_members_a_request(api, fair):
    response = api.post(
        f"{GROUPS}{fair.pk}/members", {"contacts": list(range(1, 10_002))}, format="json"
    )
    assert response.status_code == 400
    assert "contacts" in error_of(response)["fields"]


def test_another_company_cannot_reach_a_group(outsider_api, api, fair, company):
    contact = ContactFactory(company=company)
    url = f"{GROUPS}{fair.pk}/"
    assert outsider_api.get(GROUPS).json()["results"] == []
    for method in ("get", "patch", "put", "delete"):
        response = getattr(outsider_api, method)(url, {"name": "Taken"}, format="json")
        assert response.status_code == 404, method
        error_of(response)
    for method in ("post", "delete"):
        response = getattr(outsider_api, method)(
            f"{url}members", {"contacts": [contact.pk]}, format="json"
        )
        assert response.status_code == 404, method
    fair.refresh_from_db()
    assert fair.name == "Fair" and not fair.contacts.exists()


@pytest.mark.parametrize("pk", ["0", "123456789012345678901234567890"])
def test_unknown_and_huge_group_ids_are_404s(api, pk):
    assert api.get(f"{GROUPS}{pk}/").status_code == 404
    assert api.post(f"{GROUPS}{pk}/members", {"contacts": [1]}, format="json").status_code == 404


# --- custom fields ------------------------------------------------------------------------
def test_custom_fields_are_created_listed_and_deleted(api, company):
    created = api.post(
        FIELDS, {"name": "Tier", "type": "choice", "choices": ["Gold", "Silver"]}, format="json"
    )
    assert created.status_code == 201, created.json()
    field = created.json()
    assert (field["key"], field["type"], field["choices"]) == ("tier", "choice", ["Gold", "Silver"])
    assert api.get(f"{FIELDS}{field['id']}/").json() == field
    assert [f["id"] for f in api.get(FIELDS).json()["results"]] == [field["id"]]

    contact = api.post(
        "/api/v1/contacts/", {"phone": "0612345678", "custom": {"tier": "gold"}}, format="json"
    )
    assert contact.json()["custom"] == {"tier": "Gold"}

    assert api.delete(f"{FIELDS}{field['id']}/").status_code == 204
    assert api.get(f"{FIELDS}{field['id']}/").status_code == 404
    refused = api.post(
        "/api/v1/contacts/", {"phone": "0612345679", "custom": {"tier": "Gold"}}, format="json"
    )
    assert refused.status_code == 400


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"name": "Phone"}, 400),  # a built-in field
        ({"name": "Tier", "type": "choice"}, 400),  # no options
        ({"name": "Tier", "key": "9lives"}, 400),
        ({"name": "Tier", "type": "colour"}, 400),
        ({"name": "Tier", "type": "choice", "choices": ["a,b"]}, 400),
        ({"name": "x" * 61}, 400),
        ({"name": "City"}, 409),
        ({"name": "Town", "key": "city"}, 409),
    ],
)
def test_bad_or_taken_fields_are_refused(api, company, payload, status):
    CustomField.objects.create(company=company, name="City", key="city")
    response = api.post(FIELDS, payload, format="json")
    assert response.status_code == status, response.json()
    if status == 409:
        assert error_of(response)["code"] == "field_exists"
    assert CustomField.objects.filter(company=company).count() == 1


def test_another_company_cannot_reach_a_field(outsider_api, company):
    field = CustomField.objects.create(company=company, name="City", key="city")
    assert outsider_api.get(FIELDS).json()["results"] == []
    assert outsider_api.get(f"{FIELDS}{field.pk}/").status_code == 404
    assert outsider_api.delete(f"{FIELDS}{field.pk}/").status_code == 404
    assert CustomField.objects.filter(pk=field.pk).exists()


def test_group_creation_is_idempotent_with_a_key(api):
    headers = {"HTTP_IDEMPOTENCY_KEY": "group-1"}
    first = api.post(GROUPS, {"name": "Fair"}, format="json", **headers)
    second = api.post(GROUPS, {"name": "Fair"}, format="json", **headers)
    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert Group.objects.count() == 1
