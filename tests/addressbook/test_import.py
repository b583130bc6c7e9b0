"""Imports of messy files: every row accounted for, nobody resubscribed, nothing twice."""

import codecs
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from addressbook.csvfiles import FileProblem, sniff
from addressbook.models import Contact, CustomField, Group, ImportJob
from addressbook.services.imports import (
    ImportProblem,
    configure_import,
    create_import,
    preview_import,
    run_import,
)
from optout.selectors import suppressed_among
from optout.services import record_optout
from tests.factories import ContactFactory

FILES = Path(__file__).parent / "files"


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


@pytest.fixture(autouse=True)
def _import_dir(settings, tmp_path):
    settings.IMPORT_DIR = tmp_path


@pytest.fixture
def messy(company):
    CustomField.objects.create(company=company, name="Ville", key="city")
    ContactFactory(company=company, phone="+27711234567", first_name="Old", country="ZA")
    record_optout(company=company, address="+12015550123", source="api")
    job = create_import(
        company=company, upload=upload("messy.csv", (FILES / "messy.csv").read_bytes())
    )
    return job


def test_messy_file_is_read_and_mapped(messy):
    assert (messy.encoding, messy.delimiter) == ("utf-8-sig", ";")
    assert messy.mapping == {
        "0": "first_name",
        "1": "last_name",
        "2": "phone",
        "3": "email",
        "4": "country",
        "5": "custom:city",
    }


def test_every_row_of_a_messy_file_has_its_outcome(messy, company):
    job = run_import(job_id=messy.pk, suppressed_of=suppressed_among)

    assert job.status == ImportJob.Status.DONE
    assert job.counts == {
        "created": 6,
        "updated": 1,
        "duplicate": 1,
        "invalid": 3,
        "opted_out": 1,
    }
    contacts = {c.phone or c.email: c for c in company.contacts.all()}
    assert contacts["+31612345678"].custom == {"city": "Utrecht"}
    assert contacts["+33612345678"].country == "FR"  # national format read with its column
    assert contacts["+4915123456789"].email == "LEON@example.de"
    assert contacts["+4915123456789"].last_name == "Müller 🎉"
    assert contacts["+32470123456"].first_name == "Multi\nLine"
    assert contacts["+27711234567"].first_name == "Existing"
    rejected = {r.row: r.reason for r in job.rejections.all()}
    assert set(rejected) == {6, 7, 9}
    assert "not a valid NL phone number" in rejected[6]
    assert rejected[7] == "No phone number or email address"
    assert "not a valid email address" in rejected[9]


def test_opted_out_rows_stay_opted_out(messy, company):
    run_import(job_id=messy.pk, suppressed_of=suppressed_among)
    assert suppressed_among(company, {"+12015550123"}) == {"+12015550123"}


def test_preview_tells_what_each_row_will_become(messy):
    outcomes = preview_import(job=messy, suppressed_of=suppressed_among)
    assert [(o.row, o.outcome, o.opted_out) for o in outcomes] == [
        (1, "created", False),
        (2, "created", False),
        (3, "created", False),
        (4, "created", False),
        (5, "duplicate", False),
        (6, "invalid", False),
        (7, "invalid", False),
        (8, "created", False),
        (9, "invalid", False),
        (10, "updated", False),
        (11, "created", True),
    ]
    assert not Contact.objects.filter(last_import=messy).exists()


def test_importing_again_changes_nothing_twice(messy, company):
    run_import(job_id=messy.pk, suppressed_of=suppressed_among)
    before = company.contacts.count()
    again = create_import(
        company=company, upload=upload("again.csv", (FILES / "messy.csv").read_bytes())
    )
    job = run_import(job_id=again.pk, suppressed_of=suppressed_among)
    assert company.contacts.count() == before
    assert job.counts["updated"] == 7 and "created" not in job.counts


def test_skip_mode_leaves_existing_contacts_alone(messy, company):
    configure_import(
        job=messy,
        encoding=messy.encoding,
        delimiter=messy.delimiter,
        mapping=messy.mapping,
        default_country="NL",
        group=None,
        mode="skip",
    )
    job = run_import(job_id=messy.pk)
    assert job.counts["skipped"] == 1
    assert company.contacts.get(phone="+27711234567").first_name == "Old"


def test_import_into_a_group(messy, company):
    group = Group.objects.create(company=company, name="Fair 2026")
    configure_import(
        job=messy,
        encoding=messy.encoding,
        delimiter=messy.delimiter,
        mapping=messy.mapping,
        default_country="NL",
        group=group,
        mode="update",
    )
    run_import(job_id=messy.pk)
    assert group.contacts.count() == 7


@pytest.mark.parametrize(
    "content, encoding, delimiter",
    [
        ("phone,name\n+31612345678,Zoë\n".encode(), "utf-8-sig", ","),
        (codecs.BOM_UTF8 + "phone;name\n+31612345678;Zoë\n".encode(), "utf-8-sig", ";"),
        ("phone\tname\n+31612345678\tZoë\n".encode("utf-16"), "utf-16", "\t"),
        ("phone;name\n+31612345678;Zoë\n".encode("cp1252"), "cp1252", ";"),
    ],
)
def test_encodings_and_delimiters_are_detected(tmp_path, content, encoding, delimiter):
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    fmt = sniff(path)
    assert (fmt.encoding, fmt.delimiter) == (encoding, delimiter)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "The file is empty."),
        (b"   \n\n", "The file is empty."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text file"),
        (b"PK\x03\x04\x14\x00\x06\x00", "is a spreadsheet"),
    ],
)
def test_unreadable_files_are_refused_with_the_reason(company, content, message):
    with pytest.raises(FileProblem, match=message):
        create_import(company=company, upload=upload("x.csv", content))
    assert not ImportJob.objects.exists()


def test_a_file_without_phone_or_email_column_cannot_start(company):
    job = create_import(company=company, upload=upload("x.csv", b"name,city\nAda,Delft\n"))
    with pytest.raises(ImportProblem, match="Map a column to Phone or to Email"):
        configure_import(
            job=job,
            encoding=job.encoding,
            delimiter=job.delimiter,
            mapping={"0": "first_name"},
            default_country="NL",
            group=None,
            mode="update",
        )


def test_a_50_mb_line_is_rejected_and_the_rest_imported(company, tmp_path):
    content = (
        b"phone,name\n+31612345678,Ada\n+31612345679,"
        + b"x" * (50 * 1024 * 1024)
        + b"\n+31612345670,Bo\n"
    )
    job = create_import(company=company, upload=upload("big.csv", content))
    job = run_import(job_id=job.pk)
    assert job.counts == {"created": 2, "invalid": 1}
    assert job.rejections.get().reason == "The line is longer than 1 MB"


def test_imports_are_isolated_per_company(messy, company, other_company):
    run_import(job_id=messy.pk)
    assert not other_company.contacts.exists()


def test_resume_goes_on_after_the_last_committed_row_blank_lines_included(company, monkeypatch):
    from addressbook.services import imports

    lines = ["phone"] + [
        "" if i % 10 == 0 else f"+3161{i:07d}" for i in range(1, 401)
    ]  # every tenth line blank
    job = create_import(company=company, upload=upload("gaps.csv", "\n".join(lines).encode()))
    monkeypatch.setattr(imports, "BATCH_SIZE", 100)
    calls = []

    def stop_after_first_batch(job):
        calls.append(job.rows_done)
        if len(calls) == 1:
            raise KeyboardInterrupt  # the worker dies right after a committed batch

    with pytest.raises(KeyboardInterrupt):
        run_import(job_id=job.pk, progress=stop_after_first_batch)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.RUNNING and company.contacts.count() == 100

    job = run_import(job_id=job.pk)

    assert job.status == ImportJob.Status.DONE
    assert company.contacts.count() == 360 == job.counts["created"]


def test_an_import_never_replaces_an_opted_out_address(company):
    contact = ContactFactory(company=company, phone="", country="", email="old@example.nl")
    record_optout(company=company, address="old@example.nl", source="email_link")
    job = create_import(
        company=company,
        upload=upload(
            "x.csv", b"phone,email\n+31612345678,old@example.nl\n+31612345678,new@example.nl\n"
        ),
    )
    run_import(job_id=job.pk)
    again = create_import(
        company=company, upload=upload("y.csv", b"phone,email\n+31612345678,new@example.nl\n")
    )
    run_import(job_id=again.pk)
    contact.refresh_from_db()
    assert (contact.phone, contact.email) == ("+31612345678", "old@example.nl")
    from optout.selectors import reachable_for_marketing

    assert not reachable_for_marketing(company=company, contacts=company.contacts.all()).exists()


@pytest.mark.parametrize(
    "value", ["Infinity", "-inf", "NaN", "sNaN", "1e5000000", "10000000000000000"]
)
def test_unreasonable_numbers_are_left_out_not_crashes(company, value):
    CustomField.objects.create(company=company, name="Visits", key="visits", type="number")
    job = create_import(
        company=company, upload=upload("n.csv", f"phone,visits\n+31612345678,{value}\n".encode())
    )
    job = run_import(job_id=job.pk)
    assert job.status == ImportJob.Status.DONE
    assert job.counts == {"created": 1, "warned": 1}
    assert "is not a number" in job.rejections.get().reason
    assert company.contacts.get().custom == {}


def test_a_bad_custom_value_leaves_the_field_empty_and_names_it(company):
    CustomField.objects.create(company=company, name="Visites", key="visits", type="number")
    CustomField.objects.create(company=company, name="Ville", key="city")
    job = create_import(
        company=company,
        upload=upload("n.csv", b"phone,visites,ville\n+31612345678,abc,Gouda\n+31612345679,3,\n"),
    )
    job = run_import(job_id=job.pk)
    assert job.counts == {"created": 2, "warned": 1}
    contacts = {c.phone: c.custom for c in company.contacts.all()}
    assert contacts == {"+31612345678": {"city": "Gouda"}, "+31612345679": {"visits": 3}}
    warning = job.rejections.get()
    assert warning.row == 1
    assert warning.reason == "Imported without Visites: “abc” is not a number"


def test_on_update_a_bad_custom_value_leaves_the_field_as_it_was(company):
    CustomField.objects.create(company=company, name="Visites", key="visits", type="number")
    CustomField.objects.create(company=company, name="Né le", key="born", type="date")
    contact = ContactFactory(company=company, phone="+31612345678", custom={"visits": 7})
    job = create_import(
        company=company,
        upload=upload(
            "u.csv", "phone,first_name,visites,né le\n+31612345678,Ada,abc,31-02-1990\n".encode()
        ),
    )
    job = run_import(job_id=job.pk)
    contact.refresh_from_db()
    assert (contact.first_name, contact.custom) == ("Ada", {"visits": 7})
    assert job.counts == {"updated": 1, "warned": 1}
    assert job.rejections.get().reason == (
        "Imported without Visites: “abc” is not a number; "
        "Né le: “31-02-1990” is not a date (use YYYY-MM-DD or DD-MM-YYYY)"
    )


def test_a_warned_row_that_is_not_written_has_no_warning(company):
    CustomField.objects.create(company=company, name="Visites", key="visits", type="number")
    job = create_import(
        company=company,
        upload=upload("d.csv", b"phone,visites\n+31612345678,1\n+31612345678,abc\n"),
    )
    job = run_import(job_id=job.pk)
    assert job.counts == {"created": 1, "duplicate": 1}
    assert not job.rejections.exists()


def test_a_bad_value_never_brings_an_opted_out_person_back(company):
    from optout.selectors import reachable_for_marketing

    CustomField.objects.create(company=company, name="Visites", key="visits", type="number")
    record_optout(company=company, address="+31612345678", source="api")
    job = create_import(
        company=company, upload=upload("o.csv", b"phone,visites\n+31612345678,abc\n")
    )
    job = run_import(job_id=job.pk, suppressed_of=suppressed_among)
    assert job.counts == {"created": 1, "warned": 1, "opted_out": 1}
    assert not reachable_for_marketing(company=company, contacts=company.contacts.all()).exists()


def test_warnings_are_counted_once_when_an_import_resumes(company, monkeypatch):
    from addressbook.services import imports

    CustomField.objects.create(company=company, name="Visites", key="visits", type="number")
    lines = ["phone,visites"] + [f"+3161{i:07d},{'abc' if i % 2 else i}" for i in range(1, 11)]
    job = create_import(company=company, upload=upload("w.csv", "\n".join(lines).encode()))
    monkeypatch.setattr(imports, "BATCH_SIZE", 4)

    def stop_after_first_batch(job):
        raise KeyboardInterrupt  # the worker dies right after a committed batch

    with pytest.raises(KeyboardInterrupt):
        run_import(job_id=job.pk, progress=stop_after_first_batch)
    job = run_import(job_id=job.pk)

    assert job.counts == {"created": 10, "warned": 5}
    assert list(job.rejections.values_list("row", flat=True)) == [1, 3, 5, 7, 9]
    assert company.contacts.count() == 10


def test_the_preview_says_which_value_is_left_out(company):
    CustomField.objects.create(company=company, name="Visites", key="visits", type="number")
    job = create_import(
        company=company, upload=upload("p.csv", b"phone,visites\n+31612345678,abc\n")
    )
    (outcome,) = preview_import(job=job)
    assert outcome.outcome == "created"
    assert outcome.warning == "Imported without Visites: “abc” is not a number"
    assert not company.contacts.exists()


def test_two_rows_reaching_one_contact_by_phone_and_email_count_once(company):
    ContactFactory(company=company, phone="+31612345678", email="ada@example.nl")
    job = create_import(
        company=company, upload=upload("d.csv", b"phone,email\n+31612345678,\n,ada@example.nl\n")
    )
    job = run_import(job_id=job.pk)
    assert job.counts == {"updated": 1, "duplicate": 1}


def test_skipped_contacts_still_join_the_group(company):
    existing = ContactFactory(company=company, phone="+31612345678")
    group = Group.objects.create(company=company, name="Fair")
    job = create_import(
        company=company, upload=upload("s.csv", b"phone\n+31612345678\n+31612345679\n")
    )
    configure_import(
        job=job,
        encoding=job.encoding,
        delimiter=job.delimiter,
        mapping=job.mapping,
        default_country="NL",
        group=group,
        mode="skip",
    )
    run_import(job_id=job.pk)
    assert existing in group.contacts.all() and group.contacts.count() == 2


def test_progress_counts_blank_lines_like_the_row_counter(company):
    job = create_import(
        company=company, upload=upload("b.csv", b"phone\n+31612345678\n\n\n+31612345679\n")
    )
    job = run_import(job_id=job.pk)
    assert job.rows_total == job.rows_done == 4 and job.percent == 100


@pytest.mark.parametrize(
    "mapping, country, message",
    [
        ({"x": "phone"}, "NL", "a column the file does not have"),
        ({"7": "phone"}, "NL", "a column the file does not have"),
        ({"0": "phone"}, "QQ", "is not a country code"),
    ],
)
def test_bad_settings_are_refused(company, mapping, country, message):
    job = create_import(company=company, upload=upload("m.csv", b"phone\n+31612345678\n"))
    with pytest.raises(ImportProblem, match=message):
        configure_import(
            job=job,
            encoding=job.encoding,
            delimiter=job.delimiter,
            mapping=mapping,
            default_country=country,
            group=None,
            mode="update",
        )


def test_a_running_import_cannot_be_resumed_beside_its_worker(company):
    from django.utils import timezone

    from addressbook.services.imports import resume_import

    job = create_import(company=company, upload=upload("r.csv", b"phone\n+31612345678\n"))
    ImportJob.objects.filter(pk=job.pk).update(status="running", heartbeat_at=timezone.now())
    assert resume_import(job=job) is False
    ImportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timezone.timedelta(minutes=5)
    )
    assert resume_import(job=job) is True
