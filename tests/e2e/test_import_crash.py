"""A worker killed in the middle of an import: nothing half-written, and a re-run adds no
duplicates. With a real worker process on the real broker, killed with SIGKILL."""

import os
import signal
from datetime import timedelta

import phonenumbers
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from addressbook.models import Contact, ImportJob
from addressbook.services.imports import (
    BATCH_SIZE,
    STALLED_AFTER,
    configure_import,
    create_import,
    resume_import,
    start_import,
)

from .conftest import worker_logs

ROWS = 30_000


def _phone(i: int) -> str:
    return f"+316{10_000_000 + i}"  # Dutch mobiles: +31 6 1000 0000 and up


def _job(pk: int) -> ImportJob:
    return ImportJob.objects.get(pk=pk)


@pytest.mark.django_db(transaction=True)
def test_killed_import_resumes_without_duplicates(
    settings, tmp_path, company, start_worker_process, wait_for
):
    settings.IMPORT_DIR = tmp_path
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(_phone(i))) for i in (0, ROWS))
    lines = ["phone,first_name", *(f"{_phone(i)},Person {i}" for i in range(ROWS))]
    upload = SimpleUploadedFile("big.csv", ("\n".join(lines) + "\n").encode(), "text/csv")
    job = create_import(company=company, upload=upload)
    configure_import(
        job=job,
        encoding=job.encoding,
        delimiter=job.delimiter,
        mapping={"0": "phone", "1": "first_name"},
        default_country="NL",
        group=None,
        mode=ImportJob.Mode.UPDATE,
    )

    # a. A worker takes the job; once a batch or more is in, it is killed outright.
    assert start_import(job=job)  # on_commit: queued right away outside a transaction
    worker = start_worker_process()
    wait_for(
        lambda: _job(job.pk).rows_done > 0 or worker.poll() is not None,
        timeout=45,
        what="the worker to commit a first batch",
    )
    assert worker.poll() is None, (tmp_path / "worker-0.log").read_text()
    os.kill(worker.pid, signal.SIGKILL)
    assert worker.wait(timeout=10) == -signal.SIGKILL

    # b. The job is left resumable, counting exactly the rows whose batches committed.
    job = _job(job.pk)
    assert job.status == ImportJob.Status.RUNNING
    assert job.rows_done % BATCH_SIZE == 0
    assert 0 < job.rows_done < ROWS, "the import ended before the worker could be killed"
    assert Contact.objects.count() == job.rows_done == job.counts["created"]

    # c. Resumed on a new worker, it goes on from there: every row once, none twice.
    # While its heartbeat is fresh the job could still be alive: no second worker yet.
    assert not resume_import(job=job)
    # Once the heartbeat is older than the stall limit, as the dashboard shows it:
    ImportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - STALLED_AFTER - timedelta(seconds=1)
    )
    assert resume_import(job=job)
    start_worker_process()
    wait_for(
        lambda: _job(job.pk).status == ImportJob.Status.DONE,
        timeout=45,
        what="the resumed import to finish",
    )
    job = _job(job.pk)
    assert job.rows_done == ROWS
    assert job.counts == {"created": ROWS}
    assert Contact.objects.count() == ROWS
    assert Contact.objects.values("phone").distinct().count() == ROWS
    assert set(Contact.objects.values_list("phone", flat=True)) == {
        phonenumbers.format_number(
            phonenumbers.parse(_phone(i)), phonenumbers.PhoneNumberFormat.E164
        )
        for i in range(ROWS)
    }


@pytest.mark.django_db(transaction=True)
def test_two_workers_killed_amid_ranges_resume_without_duplicates(
    settings, tmp_path, company, start_worker_process, wait_for
):
    """The file in ranges shared by two workers, both killed while their ranges run."""
    settings.IMPORT_DIR = tmp_path
    lines = ["phone,first_name", *(f"{_phone(i)},Person {i}" for i in range(ROWS))]
    upload = SimpleUploadedFile("big.csv", ("\n".join(lines) + "\n").encode(), "text/csv")
    job = create_import(company=company, upload=upload)
    assert start_import(job=job)
    env = {"IMPORT_RANGE_ROWS": "6000"}
    workers = [start_worker_process(env), start_worker_process(env)]
    wait_for(
        lambda: (
            _job(job.pk).rows_done >= 2 * BATCH_SIZE or any(w.poll() is not None for w in workers)
        ),
        timeout=45,
        what="the workers to commit batches",
    )
    for worker in workers:
        assert worker.poll() is None, worker_logs(tmp_path)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)

    job = _job(job.pk)
    assert job.ranges.count() == ROWS // 6000
    assert 0 < job.rows_done < ROWS, "the import ended before the workers could be killed"
    assert Contact.objects.count() == job.rows_done == job.counts["created"]

    ImportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - STALLED_AFTER - timedelta(seconds=1)
    )
    assert resume_import(job=job)
    start_worker_process(env)
    start_worker_process(env)
    wait_for(
        lambda: _job(job.pk).status == ImportJob.Status.DONE,
        timeout=60,
        what="the resumed import to finish",
    )
    job = _job(job.pk)
    assert job.rows_done == job.rows_total == ROWS
    assert job.counts == {"created": ROWS}
    assert Contact.objects.count() == ROWS
    assert Contact.objects.values("phone").distinct().count() == ROWS
    assert not job.ranges.filter(done_at=None).exists()
