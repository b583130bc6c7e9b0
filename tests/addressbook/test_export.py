import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile

from addressbook.models import CustomField, Group
from addressbook.services.imports import create_import, run_import
from optout.selectors import suppressed_among
from optout.services import record_optout
from tests.factories import ContactFactory


def _export(client, **params) -> str:
    response = client.get("/contacts/export.csv", params)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return b"".join(response.streaming_content).decode("utf-8")


def test_export_has_custom_fields_groups_and_status(marketer_client, company):
    CustomField.objects.create(company=company, name="City", key="city")
    group = Group.objects.create(company=company, name="Fair")
    ada = ContactFactory(company=company, first_name="Ada", custom={"city": "Delft"})
    ada.groups.add(group)
    gone = ContactFactory(company=company, first_name="Gone")
    record_optout(company=company, address=gone.phone, source="api")
    rows = list(csv.reader(io.StringIO(_export(marketer_client).lstrip("\ufeff"))))
    assert rows[0] == [
        "First name",
        "Last name",
        "Phone",
        "Email",
        "Country",
        "Groups",
        "City",
        "Status",
    ]
    assert rows[1] == ["Ada", "Tester", ada.phone, "", "NL", "Fair", "Delft", "reachable"]
    assert rows[2][0] == "Gone" and rows[2][-1] == "opted out"


def test_export_follows_the_filter_and_the_company(marketer_client, company, other_company):
    ContactFactory(company=company, first_name="Ada")
    ContactFactory(company=company, first_name="Bo", phone="+33612345678", country="FR")
    ContactFactory(company=other_company, first_name="Stranger")
    text = _export(marketer_client, country="FR")
    assert "Bo" in text and "Ada" not in text and "Stranger" not in text


def test_export_then_import_round_trips(
    marketer_client, company, other_company, settings, tmp_path
):
    settings.IMPORT_DIR = tmp_path
    for c in (company, other_company):
        CustomField.objects.create(company=c, name="City", key="city")
    ContactFactory(
        company=company, first_name="Ada", email="ada@example.nl", custom={"city": "Delft"}
    )
    ContactFactory(company=company, first_name="Léa", phone="+33612345678", country="FR")
    record_optout(company=company, address="ada@example.nl", source="api")
    exported = _export(marketer_client).encode("utf-8")

    job = create_import(company=other_company, upload=SimpleUploadedFile("x.csv", exported))
    job = run_import(job_id=job.pk, suppressed_of=suppressed_among)

    assert job.counts == {"created": 2}
    fields = ("first_name", "last_name", "phone", "email", "country", "custom")
    assert list(other_company.contacts.order_by("id").values_list(*fields)) == list(
        company.contacts.order_by("id").values_list(*fields)
    )
