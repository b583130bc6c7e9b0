"""Paths of the API have no trailing slash, and a client that adds one is not punished."""

from django.urls import reverse

from optout.models import Suppression


def test_paths_are_written_without_a_trailing_slash():
    assert reverse("api:contact-list") == "/api/v1/contacts"
    assert reverse("api:contact-detail", kwargs={"pk": 12}) == "/api/v1/contacts/12"


def test_a_trailing_slash_reaches_the_same_endpoint_for_reads_and_writes(api, company):
    created = api.post("/api/v1/suppressions/", {"address": "+31612345678"}, format="json")
    assert created.status_code == 201, created.json()

    listed = api.get("/api/v1/suppressions/").json()["results"]
    assert [row["address"] for row in listed] == ["+31612345678"]
    assert Suppression.objects.filter(company=company, address="+31612345678").exists()


def test_an_id_too_large_for_any_column_is_the_apis_404(api):
    answer = api.get(f"/api/v1/contacts/{10**30}")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
