"""Imports: the same path for the wizard, its Celery task and the management command.

Rows go in batches: each batch is read, decided and written by the rules of
``upserts`` (the API's bulk upsert follows the same ones) in one transaction together
with the job's row counter, so a killed worker resumes exactly where the last committed
batch ended.
"""

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from itertools import islice
from pathlib import Path

import phonenumbers
from django.conf import settings
from django.db import reset_queries, transaction
from django.db.models import Q
from django.utils import timezone

from ..csvfiles import TOO_LONG, FileProblem, Format, read_rows, sniff, suggest_mapping
from ..models import Company, Group, ImportJob, ImportRejection
from .upserts import (
    RowOutcome,
    SuppressedOf,
    UpsertRules,
    decide_rows,
    lock_contacts,
    mark_opted_out,
    read_row,
    write_rows,
)

BATCH_SIZE = 2000
# A running import whose heartbeat is older than this has lost its worker.
STALLED_AFTER = timedelta(minutes=2)
PREVIEW_ROWS = 20
BASE_FIELDS = ("phone", "email", "first_name", "last_name", "country")
# Outcomes that write the row's values to a contact: a warning about a value left out
# matters only for these.
TAKEN = ("created", "updated", "unchanged")


class ImportProblem(ValueError):
    pass


def create_import(*, company: Company, upload, user=None) -> ImportJob:
    """Keep the uploaded file and guess how to read it."""
    folder = Path(settings.IMPORT_DIR) / str(company.pk)
    folder.mkdir(parents=True, exist_ok=True)
    job = ImportJob.objects.create(
        company=company, created_by=user, filename=Path(upload.name).name[:255], path=""
    )
    path = folder / f"{job.pk}.csv"
    size = 0
    with open(path, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
            size += len(chunk)
    job.path, job.size = str(path), size
    try:
        fmt = sniff(path)
        headers = next(read_rows(path, fmt), [])
    except FileProblem:
        job.delete()
        path.unlink(missing_ok=True)
        raise
    job.encoding, job.delimiter = fmt.encoding, fmt.delimiter
    job.default_country = company.default_country
    job.mapping = suggest_mapping(headers, _custom_names(company))
    job.save()
    return job


def _custom_names(company: Company) -> dict[str, str]:
    return dict(company.custom_fields.values_list("key", "name"))


def headers_of(job: ImportJob) -> list[str]:
    return next(read_rows(job.path, _format(job)), [])


def _format(job: ImportJob) -> Format:
    return Format(encoding=job.encoding, delimiter=job.delimiter)


def configure_import(
    *,
    job: ImportJob,
    encoding: str,
    delimiter: str,
    mapping: dict[str, str],
    default_country: str,
    group: Group | None,
    mode: str,
) -> ImportJob:
    columns = len(headers_of(job))
    if any(not index.isdecimal() or int(index) >= columns for index in mapping):
        raise ImportProblem("The mapping names a column the file does not have.")
    default_country = default_country.upper()
    if default_country not in phonenumbers.SUPPORTED_REGIONS:
        raise ImportProblem(f"“{default_country}” is not a country code such as NL or FR.")
    fields = set(mapping.values())
    if not fields & {"phone", "email"}:
        raise ImportProblem("Map a column to Phone or to Email: contacts are found by those.")
    if len(fields) != len(mapping):
        raise ImportProblem("Two columns are mapped to the same field.")
    job.encoding, job.delimiter, job.mapping = encoding, delimiter, mapping
    job.default_country, job.group, job.mode = default_country, group, mode
    job.save()
    return job


def preview_import(
    *, job: ImportJob, suppressed_of: SuppressedOf | None = None
) -> list[RowOutcome]:
    """What the first rows would become, without writing anything."""
    rows = islice(_data_rows(job), PREVIEW_ROWS)
    outcomes = _decide(job, list(rows), _rules(job))
    mark_opted_out(job.company, outcomes, suppressed_of)
    return outcomes


def start_import(*, job: ImportJob) -> bool:
    from ..tasks import run_import_task

    started = ImportJob.objects.filter(
        company_id=job.company_id,
        pk=job.pk,
        status__in=[ImportJob.Status.UPLOADED, ImportJob.Status.FAILED],
    ).update(status=ImportJob.Status.QUEUED, error="")
    if started:
        transaction.on_commit(lambda: run_import_task.delay(job.pk))
    return bool(started)


def resume_import(*, job: ImportJob) -> bool:
    """Go on with an import whose worker stopped: from the last committed batch."""
    from ..tasks import run_import_task

    stale = timezone.now() - STALLED_AFTER
    resumed = (
        ImportJob.objects.filter(company_id=job.company_id, pk=job.pk)
        .filter(
            Q(status=ImportJob.Status.FAILED)
            | Q(status=ImportJob.Status.RUNNING, heartbeat_at__lt=stale)
        )
        .update(status=ImportJob.Status.QUEUED, error="")
    )
    if resumed:
        transaction.on_commit(lambda: run_import_task.delay(job.pk))
    return bool(resumed)


def run_import(
    *,
    job_id: int,
    suppressed_of: SuppressedOf | None = None,
    progress: Callable[[ImportJob], None] | None = None,
) -> ImportJob:
    job = ImportJob.objects.select_related("company", "group").get(pk=job_id)
    if job.status == ImportJob.Status.DONE:
        return job
    now = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, started_at=job.started_at or now, heartbeat_at=now
    )
    rules = _rules(job)
    try:
        if job.rows_total is None:  # a long count: the heartbeat above says we are alive
            job.rows_total = sum(1 for _ in read_rows(job.path, _format(job))) - 1
            job.save(update_fields=["rows_total"])
        done = job.rows_done  # a file row number: blank rows count too
        remaining = (row for row in _data_rows(job) if row[0] > done)
        for batch in _batches(remaining, BATCH_SIZE):
            _import_batch(job, batch, rules, suppressed_of)
            reset_queries()  # with DEBUG on, Django would keep every statement in memory
            if progress:
                progress(job)
    except FileProblem as exc:
        _fail(job, str(exc))
        return job
    except Exception as exc:
        # Marked failed with the rows done counted; "Resume" goes on from there.
        _fail(job, f"Stopped by an unexpected error after row {job.rows_done}: {exc}")
        raise
    job.status, job.finished_at = ImportJob.Status.DONE, timezone.now()
    job.save(update_fields=["status", "finished_at"])
    return job


def _fail(job: ImportJob, error: str) -> None:
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.FAILED, error=error[:2000])
    job.status, job.error = ImportJob.Status.FAILED, error


def _data_rows(job: ImportJob) -> Iterator[tuple[int, list[str]]]:
    rows = read_rows(job.path, _format(job))
    next(rows, None)  # the header
    for number, values in enumerate(rows, start=1):
        if any(v.strip() for v in values):
            yield number, values


def _batches(rows: Iterable, size: int) -> Iterator[list]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _rules(job: ImportJob) -> UpsertRules:
    return UpsertRules.of(
        job.company,
        default_country=job.default_country,
        mode=job.mode,
        job=job,
        group_id=job.group_id,
        lenient_custom=True,
    )


def _mapping(job: ImportJob) -> dict[int, str]:
    return {int(index): name for index, name in job.mapping.items()}


@transaction.atomic
def _import_batch(job: ImportJob, batch, rules: UpsertRules, suppressed_of) -> None:
    lock_contacts(job.company)
    outcomes = _decide(job, batch, rules)
    write_rows(rules=rules, outcomes=outcomes, suppressed_of=suppressed_of)
    warned = [o for o in outcomes if o.outcome in TAKEN and o.warnings]
    # Rejected rows and rows taken with a warning go to the same issues file, each with
    # what to fix; a warning's reason starts "Imported without".
    ImportRejection.objects.bulk_create(
        [
            ImportRejection(job=job, row=o.row, reason=o.reason[:255], values=o.values[:50])
            for o in outcomes
            if o.outcome == "invalid"
        ]
        + [
            ImportRejection(job=job, row=o.row, reason=o.warning[:255], values=o.values[:50])
            for o in warned
        ],
        ignore_conflicts=True,
    )
    counts = Counter(job.counts)
    counts.update(o.outcome for o in outcomes)
    counts["opted_out"] += sum(o.opted_out for o in outcomes)
    counts["warned"] += len(warned)  # also counted in their outcome: not another row
    job.counts = {name: n for name, n in counts.items() if n}
    job.rows_done = batch[-1][0]
    job.heartbeat_at = timezone.now()
    job.save(update_fields=["counts", "rows_done", "heartbeat_at"])


def _decide(job: ImportJob, batch, rules: UpsertRules) -> list[RowOutcome]:
    mapping = _mapping(job)
    outcomes = [_read_row(number, values, mapping, rules) for number, values in batch]
    return decide_rows(rules=rules, outcomes=outcomes)


def _read_row(
    number: int, values: list[str], mapping: dict[int, str], rules: UpsertRules
) -> RowOutcome:
    if values == [TOO_LONG]:
        return RowOutcome(
            row=number, values=[], outcome="invalid", reason="The line is longer than 1 MB"
        )
    raw = {name: values[i].strip() for i, name in mapping.items() if i < len(values)}
    custom = {
        name.removeprefix("custom:"): value
        for name, value in raw.items()
        if name.startswith("custom:")
    }
    return read_row(rules=rules, number=number, raw=raw, custom=custom, values=values)
