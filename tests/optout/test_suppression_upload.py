"""A company moving from another provider uploads its old opt-out list."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from addressbook.models import AuditEvent
from optout import imports
from optout.imports import create_suppression_import, run_suppression_import
from optout.models import ConsentEvent, Source, Suppression, SuppressionImport
from optout.services import record_optout

OLD_LIST = """Téléphone;Email;Reason;Opted out on
06 12 34 56 78;;Too many texts;2024-01-02
+31 6 1234 5678;;;2024-01-03
+31611111111;;;
12345;;;
;ann@example.com;moved away;
;not-an-email;;
;;;2024-01-05

=HYPERLINK("x");;;
""".encode()
# Row 8 is blank: it is counted in the rows read, never as a row.
COUNTS = {"added": 2, "duplicate": 1, "already_suppressed": 1, "invalid": 4}
REJECTED = [
    "Row,Reason,Téléphone,Email,Reason,Opted out on",
    "4,“12345” is not a valid NL phone number: no number in that country has these digits; "
    "check for a missing or extra one.,12345,,,",
    "6,“not-an-email” is not a valid email address.,,not-an-email,,",
    "7,No phone number or email address,,,,2024-01-05",
    '9,"“=HYPERLINK(""x"")” is not a phone number.","\'=HYPERLINK(""x"")",,,',
]


@pytest.fixture(autouse=True)
def _import_dir(settings, tmp_path):
    settings.IMPORT_DIR = tmp_path


def upload(content: bytes = OLD_LIST, name: str = "old-provider.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


@pytest.fixture
def before(company):
    """Opted out here already, through the landing page."""
    return record_optout(company=company, address="+31611111111", source=Source.LANDING_PAGE)


def imported(company) -> list[tuple[str, str, str]]:
    events = ConsentEvent.objects.filter(company=company, source=Source.IMPORT).order_by("id")
    return list(events.values_list("address", "reason_text", "raw_text"))


EXPECTED_EVENTS = [
    ("+31612345678", "Too many texts", "06 12 34 56 78;;Too many texts;2024-01-02"),
    ("ann@example.com", "moved away", ";ann@example.com;moved away;"),
]


def test_each_row_is_recorded_with_its_outcome(company, before):
    job = create_suppression_import(company=company, upload=upload(), start=False)
    job = run_suppression_import(upload_id=job.pk)
    assert job.status == SuppressionImport.Status.DONE
    assert job.counts == COUNTS and job.rows_done == 9
    assert imported(company) == EXPECTED_EVENTS
    assert Suppression.objects.get(company=company, address="+31611111111").event == before
    assert list(job.rejections.values_list("row", flat=True)) == [4, 6, 7, 9]


def test_running_again_adds_nothing(company, before):
    job = create_suppression_import(company=company, upload=upload(), start=False)
    run_suppression_import(upload_id=job.pk)
    assert run_suppression_import(upload_id=job.pk).counts == COUNTS
    # A second delivery that lost the row counter reads every row again: all are there.
    SuppressionImport.objects.filter(pk=job.pk).update(status="running", rows_done=0, counts={})
    again = run_suppression_import(upload_id=job.pk)
    assert again.counts == {"duplicate": 3, "already_suppressed": 1, "invalid": 4}
    assert imported(company) == EXPECTED_EVENTS


def test_a_stopped_upload_goes_on_after_its_last_committed_batch(company, before, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_SIZE", 3)
    job = create_suppression_import(company=company, upload=upload(), start=False)

    def die_after_first_batch(job):
        raise KeyboardInterrupt  # the worker is killed right after a committed batch

    with pytest.raises(KeyboardInterrupt):
        run_suppression_import(upload_id=job.pk, progress=die_after_first_batch)
    job.refresh_from_db()
    assert job.rows_done == 3 and imported(company) == EXPECTED_EVENTS[:1]

    job = run_suppression_import(upload_id=job.pk)
    assert job.status == SuppressionImport.Status.DONE and job.counts == COUNTS
    assert imported(company) == EXPECTED_EVENTS


def test_a_list_of_one_unnamed_column(company):
    job = create_suppression_import(
        company=company, upload=upload(b"+31612345678\r\n0612345679\r\n"), start=False
    )
    assert run_suppression_import(upload_id=job.pk).counts == {"added": 2}
    assert [a for a, _, _ in imported(company)] == ["+31612345678", "+31612345679"]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "The submitted file is empty."),
        (b"\n\n", "The file is empty."),
        (b"PK\x03\x04rest-of-a-zip", "This is a spreadsheet (XLSX) file. Save it as CSV"),
        (b"name,city\nAnn,Paris\n", "No column of phone numbers or email addresses was found."),
    ],
)
def test_unreadable_lists_are_refused_with_the_reason(marketer_client, company, content, message):
    response = marketer_client.post("/opt-outs/upload/", {"file": upload(content)})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not SuppressionImport.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_upload_runs_on_a_worker_with_a_summary(celery_worker, client, marketer, company, wait_for):
    record_optout(company=company, address="+31611111111", source=Source.LANDING_PAGE)
    client.force_login(marketer)
    response = client.post("/opt-outs/upload/", {"file": upload()})
    assert response.status_code == 302
    job = SuppressionImport.objects.get()
    wait_for(
        lambda: SuppressionImport.objects.filter(pk=job.pk, status="done").exists(),
        what="the upload",
    )
    page = client.get(response["Location"]).content.decode()
    assert 'data-status="done"' in page
    assert dict(re.findall(r'<dd data-count="(\w+)">(\d+)</dd>', page)) == {
        key: str(n) for key, n in COUNTS.items()
    }
    rejected = client.get(f"/opt-outs/upload/{job.pk}/rejected.csv")
    assert b"".join(rejected.streaming_content).decode("utf-8-sig").splitlines() == REJECTED
    assert imported(company) == EXPECTED_EVENTS
    audit = AuditEvent.objects.get(company=company, action=AuditEvent.Action.SUPPRESSIONS_IMPORTED)
    assert (audit.actor, audit.target) == (marketer, "old-provider.csv")


def test_another_company_cannot_see_an_upload(marketer_client, client, outsider, company):
    marketer_client.post("/opt-outs/upload/", {"file": upload()})
    job = SuppressionImport.objects.get(company=company)
    client.force_login(outsider)
    assert client.get(f"/opt-outs/upload/{job.pk}/").status_code == 404
    assert client.get(f"/opt-outs/upload/{job.pk}/rejected.csv").status_code == 404
    assert client.post(f"/opt-outs/upload/{job.pk}/resume/").status_code == 404
    assert "old-provider.csv" not in client.get("/opt-outs/upload/").content.decode()


def test_only_a_failed_upload_can_go_on(marketer_client, company):
    marketer_client.post("/opt-outs/upload/", {"file": upload()})
    job = SuppressionImport.objects.get()
    assert marketer_client.post(f"/opt-outs/upload/{job.pk}/resume/").status_code == 302
    assert SuppressionImport.objects.get().status == "queued"  # still waiting: not queued twice
    SuppressionImport.objects.filter(pk=job.pk).update(status="failed", error="Worker lost")
    page = marketer_client.get(f"/opt-outs/upload/{job.pk}/").content.decode()
    assert "Worker lost" in page and "Go on" in page
    marketer_client.post(f"/opt-outs/upload/{job.pk}/resume/")
    assert SuppressionImport.objects.values_list("status", "error").get() == ("queued", "")
