import csv
import io

import pytest
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
    # The apostrophe keeps a spreadsheet from reading "+31…" as a formula.
    assert rows[1] == ["Ada", "Tester", f"'{ada.phone}", "", "NL", "Fair", "Delft", "reachable"]
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
    ContactFactory(
        company=company,
        first_name="=1+1",
        last_name="'t Hooft",
        custom={"city": "'=quoted already"},
        email="eve@example.nl",
    )
    ContactFactory(company=company, first_name="@Bo", last_name="-Dash", custom={"city": "+1"})
    record_optout(company=company, address="ada@example.nl", source="api")
    exported = _export(marketer_client).encode("utf-8")

    job = create_import(company=other_company, upload=SimpleUploadedFile("x.csv", exported))
    job = run_import(job_id=job.pk, suppressed_of=suppressed_among)

    assert job.counts == {"created": 4}
    fields = ("first_name", "last_name", "phone", "email", "country", "custom")
    assert list(other_company.contacts.order_by("id").values_list(*fields)) == list(
        company.contacts.order_by("id").values_list(*fields)
    )


FORMULAS = ['=HYPERLINK("http://x.test")', "+1+2", "-2+3", "@SUM(A1)", "\tTab", "\rReturn"]


@pytest.mark.parametrize("value", FORMULAS)
def test_export_escapes_cells_a_spreadsheet_would_run(marketer_client, company, value):
    CustomField.objects.create(company=company, name="Note", key="note")
    ContactFactory(company=company, first_name=value, last_name=value, custom={"note": value})
    row = list(csv.reader(io.StringIO(_export(marketer_client).lstrip("\ufeff"))))[1]
    assert row[0] == row[1] == row[6] == "'" + value


def test_export_leaves_an_apostrophe_before_plain_text_alone(marketer_client, company):
    ContactFactory(company=company, first_name="Gerard", last_name="'t Hooft")
    row = list(csv.reader(io.StringIO(_export(marketer_client).lstrip("\ufeff"))))[1]
    assert row[1] == "'t Hooft"


def test_rejected_rows_csv_escapes_formulas(marketer_client, company, outsider, settings, tmp_path):
    settings.IMPORT_DIR = tmp_path
    upload = SimpleUploadedFile("x.csv", b"Phone,First name\n\"=cmd|' /C calc'!A0\",Eve\n")
    job = create_import(company=company, upload=upload)
    job = run_import(job_id=job.pk, suppressed_of=suppressed_among)
    response = marketer_client.get(f"/imports/{job.pk}/rejected.csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][2:] == ["'=cmd|' /C calc'!A0", "Eve"]
    marketer_client.force_login(outsider)
    assert marketer_client.get(f"/imports/{job.pk}/rejected.csv").status_code == 404
