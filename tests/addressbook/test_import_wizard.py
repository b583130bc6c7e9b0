"""The wizard a marketer goes through, with a real worker doing the import."""

import re
from pathlib import Path

import pytest

from addressbook.models import Contact, CustomField, ImportJob

FILES = Path(__file__).parent / "files"


@pytest.fixture(autouse=True)
def _import_dir(settings, tmp_path):
    settings.IMPORT_DIR = tmp_path


def test_upload_map_preview(marketer_client, company):
    CustomField.objects.create(company=company, name="Ville", key="city")
    with open(FILES / "messy.csv", "rb") as f:
        response = marketer_client.post("/imports/new/", {"file": f})
    assert response.status_code == 302
    job = ImportJob.objects.get()
    page = marketer_client.get(response["Location"]).content.decode()
    assert re.search(r'<option value="phone" selected>Phone</option>', page)
    assert re.search(r'<option value="custom:city" selected>Ville</option>', page)

    form = {f"col-{i}": v for i, v in job.mapping.items()}
    preview = marketer_client.post(
        response["Location"],
        {**form, "action": "preview", "encoding": "utf-8-sig", "delimiter": ";", "mode": "update"},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert preview.lstrip().startswith('<section id="preview"')
    assert "New contact" in preview and "Duplicate in the file" in preview
    assert "Rejected: “12345” is not a valid NL phone number" in preview
    assert not Contact.objects.exists()


def test_wrong_encoding_is_visible_in_the_preview(marketer_client, company):
    content = "phone;name\n0612345678;Zoë Ångström\n".encode("cp1252")
    response = marketer_client.post("/imports/new/", {"file": _file("w.csv", content)})
    job = ImportJob.objects.get()
    assert job.encoding == "cp1252"
    url = response["Location"]
    good = marketer_client.post(
        url,
        {
            "col-0": "phone",
            "col-1": "first_name",
            "action": "preview",
            "encoding": "cp1252",
            "delimiter": ";",
        },
    )
    assert "Zoë Ångström" in good.content.decode()
    wrong = marketer_client.post(
        url,
        {
            "col-0": "phone",
            "col-1": "first_name",
            "action": "preview",
            "encoding": "utf-8-sig",
            "delimiter": ";",
        },
    )
    assert "Zo� �ngstr�m" in wrong.content.decode()


def test_without_phone_or_email_column_nothing_starts(marketer_client, company):
    response = marketer_client.post("/imports/new/", {"file": _file("n.csv", b"name\nAda\n")})
    page = marketer_client.post(response["Location"], {"col-0": "first_name", "action": "start"})
    assert page.status_code == 400
    assert "Map a column to Phone or to Email" in page.content.decode()
    assert ImportJob.objects.get().status == ImportJob.Status.UPLOADED


@pytest.mark.parametrize(
    "content, message",
    [(b"", "The file is empty."), (b"\x00\x01\x02binary", "not a text file")],
)
def test_broken_files_are_refused_on_upload(marketer_client, content, message):
    response = marketer_client.post("/imports/new/", {"file": _file("b.csv", content)})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_import_runs_on_a_worker_with_progress_and_a_summary(
    celery_worker, client, marketer, company, wait_for
):
    client.force_login(marketer)
    with open(FILES / "messy.csv", "rb") as f:
        url = client.post("/imports/new/", {"file": f})["Location"]
    job = ImportJob.objects.get()
    form = {f"col-{i}": v for i, v in job.mapping.items()}
    started = client.post(
        url,
        {
            **form,
            "action": "start",
            "encoding": "utf-8-sig",
            "delimiter": ";",
            "mode": "update",
            "new_group": "Fair",
        },
    )
    assert started.status_code == 302
    wait_for(lambda: ImportJob.objects.filter(pk=job.pk, status="done").exists(), what="the import")
    page = client.get(url).content.decode()
    assert 'data-status="done"' in page
    assert '<dd data-count="created">7</dd>' in page
    assert '<dd data-count="invalid">3</dd>' in page
    rejected = client.get(f"/imports/{job.pk}/rejected.csv")
    text = b"".join(rejected.streaming_content).decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Row,Reason,Prénom")
    assert len(text.strip().splitlines()) == 4
    assert company.groups.get(name="Fair").contacts.count() == 7


def test_preview_with_a_new_group_creates_none_and_the_start_does(marketer_client, company):
    with open(FILES / "messy.csv", "rb") as f:
        url = marketer_client.post("/imports/new/", {"file": f})["Location"]
    job = ImportJob.objects.get()
    form = {
        **{f"col-{i}": v for i, v in job.mapping.items()},
        "encoding": "utf-8-sig",
        "delimiter": ";",
        "mode": "update",
        "new_group": "Fair",
    }

    preview = marketer_client.post(url, {**form, "action": "preview"})

    assert preview.status_code == 200
    assert 'name="new_group" maxlength="100" value="Fair"' in preview.content.decode()
    assert not company.groups.exists()
    started = marketer_client.post(url, {**form, "action": "start"})
    assert started.status_code == 302
    assert list(company.groups.values_list("name", flat=True)) == ["Fair"]
    assert ImportJob.objects.get().group.name == "Fair"


def test_a_refused_start_leaves_no_new_group(marketer_client, company):
    response = marketer_client.post("/imports/new/", {"file": _file("n.csv", b"name\nAda\n")})
    page = marketer_client.post(
        response["Location"], {"col-0": "first_name", "action": "start", "new_group": "Fair"}
    )
    assert page.status_code == 400
    assert not company.groups.exists()


def test_a_new_group_that_exists_is_said_at_the_preview(marketer_client, company):
    company.groups.create(name="Fair")
    with open(FILES / "messy.csv", "rb") as f:
        url = marketer_client.post("/imports/new/", {"file": f})["Location"]
    job = ImportJob.objects.get()
    form = {f"col-{i}": v for i, v in job.mapping.items()}
    page = marketer_client.post(url, {**form, "action": "preview", "new_group": "Fair"})
    assert page.status_code == 400
    assert "There is already a group called “Fair”." in page.content.decode()


def test_other_company_cannot_see_an_import(client, marketer, outsider, company):
    client.force_login(marketer)
    with open(FILES / "messy.csv", "rb") as f:
        client.post("/imports/new/", {"file": f})
    job = ImportJob.objects.get(company=company)
    outsider_client = client
    outsider_client.force_login(outsider)
    assert outsider_client.get(f"/imports/{job.pk}/").status_code == 404
    assert outsider_client.get(f"/imports/{job.pk}/rejected.csv").status_code == 404
    assert outsider_client.post(f"/imports/{job.pk}/resume/").status_code == 404


def _file(name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_a_bad_custom_value_is_a_warning_in_preview_summary_and_file(marketer_client, company):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from addressbook.services.imports import run_import

    CustomField.objects.create(company=company, name="Visites", key="visits", type="number")
    content = b"phone,visites\n+31612345678,abc\n+31612345679,4\n"
    file = SimpleUploadedFile("v.csv", content, content_type="text/csv")
    url = marketer_client.post("/imports/new/", {"file": file})["Location"]
    job = ImportJob.objects.get()
    form = {f"col-{i}": v for i, v in job.mapping.items()}
    settings = {"encoding": job.encoding, "delimiter": job.delimiter, "mode": "update"}
    preview = marketer_client.post(url, {**form, **settings, "action": "preview"}).content
    preview = preview.decode()
    warning = "Imported without Visites: “abc” is not a number"
    assert f'New contact <span class="warning" data-warning>— {warning}</span>' in preview

    assert marketer_client.post(url, {**form, **settings, "action": "start"}).status_code == 302
    run_import(job_id=job.pk)  # as the worker does
    page = marketer_client.get(url).content.decode()
    assert '<dd data-count="created">2</dd>' in page
    assert '<dd data-count="invalid">0</dd>' in page
    assert '<dd data-count="warned">1</dd>' in page
    assert "Download the rows imported with a value left out" in page
    issues = marketer_client.get(f"/imports/{job.pk}/rejected.csv")
    lines = b"".join(issues.streaming_content).decode("utf-8-sig").strip().splitlines()
    assert lines == [
        "Row,Reason,phone,visites",
        "1,Imported without Visites: “abc” is not a number,'+31612345678,abc",  # not a formula
    ]
    assert Contact.objects.get(phone="+31612345678").custom == {}
