"""Imports: the same path for the wizard, its Celery tasks and the management command.

The file is cut into ranges of ``IMPORT_RANGE_ROWS`` rows, each imported by a task of its
own, so that several workers share one file. A range's rows go in batches: each batch is
read without any lock, then decided and written by the rules of ``upserts`` (the API's
bulk upsert follows the same ones) in one transaction together with the range's row
counter, so a killed worker resumes exactly where the range's last committed batch ended.
"""

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from itertools import islice
from pathlib import Path

import phonenumbers
from django.conf import settings
from django.db import connection, reset_queries, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from ..csvfiles import (
    SEEKABLE,
    TOO_LONG,
    FileProblem,
    Format,
    read_rows,
    read_rows_at,
    row_starts,
    sniff,
    suggest_mapping,
)
from ..models import Company, Contact, Group, ImportJob, ImportRange, ImportRejection
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
    """Go on with an import whose worker stopped: each range from its last committed batch."""
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
    """The whole import in this process, one range after the other (the command's way)."""
    for number in plan_import(job_id=job_id):
        run_import_range(
            job_id=job_id, number=number, suppressed_of=suppressed_of, progress=progress
        )
    return ImportJob.objects.select_related("company", "group").get(pk=job_id)


def plan_import(*, job_id: int) -> list[int]:
    """Mark the job running and cut its file into ranges (once): the numbers of the ranges
    left to import, for a task each (the worker's way) or one after the other."""
    job = ImportJob.objects.get(pk=job_id)
    if job.status == ImportJob.Status.DONE:
        return []
    now = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, started_at=job.started_at or now, heartbeat_at=now
    )
    try:
        if not job.ranges.exists():  # a long read: the heartbeat above says we are alive
            _cut(job)
    except FileProblem as exc:
        _fail(job, str(exc))
        return []
    except Exception as exc:
        _fail(job, f"Stopped by an unexpected error before the first row: {exc}")
        raise
    left = list(job.ranges.filter(done_at=None).values_list("number", flat=True))
    if not left:
        _finish(job)
    return left


def _cut(job: ImportJob) -> None:
    """The job's ranges of ``IMPORT_RANGE_ROWS`` rows, written with its row count at once.

    Rows up to ``rows_done`` were written before (by an import begun without ranges).
    """
    total, starts = row_starts(job.path, _format(job), settings.IMPORT_RANGE_ROWS)
    seekable = job.encoding in SEEKABLE
    size = Path(job.path).stat().st_size
    # Where each range ends: before the next one starts, or with the file.
    ends = [first - 1 for first, _ in starts[1:]] + [total] * bool(starts)
    offsets = [offset for _, offset in starts[1:]] + [size] * bool(starts)
    now = timezone.now()
    ranges = []
    for number, ((first, start), last, end) in enumerate(zip(starts, ends, offsets, strict=True)):
        done = min(max(job.rows_done - first + 1, 0), last - first + 1)
        ranges.append(
            ImportRange(
                job=job,
                number=number,
                first_row=first,
                last_row=last,
                start_offset=start if seekable else None,
                end_offset=end if seekable else None,
                rows_done=done,
                done_at=now if done == last - first + 1 else None,
            )
        )
    with transaction.atomic():
        # Two tasks cutting the same file (a resume beside a slow first one) cut it alike.
        ImportRange.objects.bulk_create(ranges, ignore_conflicts=True)
        ImportJob.objects.filter(pk=job.pk).update(rows_total=total)


def run_import_range(
    *,
    job_id: int,
    number: int,
    suppressed_of: SuppressedOf | None = None,
    progress: Callable[[ImportJob], None] | None = None,
) -> None:
    """Import one range's rows not yet written, batch by batch; the last range to end
    marks the job done.

    Each batch is read (numbers parsed, addresses checked) before any lock is taken, then
    decided and written by the rules of ``upserts`` in one transaction together with the
    range's progress and the job's counts, so a killed worker resumes exactly where the
    range's last committed batch ended. A second task given the same range (a redelivered
    message, a resume beside a live worker) finds its progress moved and stops.
    """
    job = ImportJob.objects.select_related("company", "group").get(pk=job_id)
    part = ImportRange.objects.get(job=job, number=number)
    if part.done_at is None:
        rules, mapping = _rules(job), _mapping(job)
        try:
            for batch in _batches(_range_rows(job, part), BATCH_SIZE):
                outcomes = [_read_row(n, values, mapping, rules) for n, values in batch]
                before = job.rows_done
                if not _write_batch(job, part, batch[-1][0], outcomes, rules, suppressed_of):
                    return
                _keep_statistics(before, job.rows_done)
                reset_queries()  # with DEBUG on, Django would keep every statement in memory
                if progress:
                    progress(job)
            _close(job, part)
        except FileProblem as exc:
            _fail(job, str(exc))
            return
        except Exception as exc:
            # Marked failed with the rows done counted; "Resume" goes on from there.
            row = part.first_row + part.rows_done
            _fail(job, f"Stopped by an unexpected error at row {row}: {exc}")
            raise
    _finish(job)


def _range_rows(job: ImportJob, part: ImportRange) -> Iterator[tuple[int, list[str]]]:
    """The range's rows not yet written, numbered, blank ones left out."""
    first = part.first_row + part.rows_done
    if part.start_offset is not None:
        rows = read_rows_at(job.path, _format(job), part.start_offset, part.end_offset)
        numbered = enumerate(rows, start=part.first_row)
    else:
        rows = read_rows(job.path, _format(job))
        next(rows, None)  # the header
        numbered = enumerate(rows, start=1)
    for number, values in numbered:
        if number > part.last_row:
            return
        if number >= first and any(v.strip() for v in values):
            yield number, values


def _keep_statistics(before: int, after: int) -> None:
    """Refresh the contacts table's statistics each time the import's rows written double.

    Each batch looks its rows' addresses up on the company's unique indexes; while the
    statistics still say the company has next to no contacts (a new one, growing by this
    import), the database would rather walk all of its contacts for every batch, and an
    import of a million rows slows to a crawl. Autovacuum refreshes them too, but later,
    and not at all where it is turned off. A handful of ANALYZEs in all (about ten for a
    million rows), each a sample of the table.
    """
    if connection.vendor != "postgresql":
        return
    if (after // BATCH_SIZE).bit_length() > (before // BATCH_SIZE).bit_length():
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Contact._meta.db_table}")


def _finish(job: ImportJob) -> None:
    """Done once every range is: whichever task ends last (or comes after it) says so."""
    unfinished = ImportRange.objects.filter(job=OuterRef("pk"), done_at=None)
    finished = (
        ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING)
        .exclude(rows_total=None)
        .filter(~Exists(unfinished))
        .update(status=ImportJob.Status.DONE, finished_at=timezone.now())
    )
    if finished:
        job.status = ImportJob.Status.DONE


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
def _write_batch(
    job: ImportJob,
    part: ImportRange,
    last: int,
    outcomes: list[RowOutcome],
    rules: UpsertRules,
    suppressed_of,
) -> bool:
    """Decide and write one batch of read rows, through file row ``last`` of the range.

    False, with nothing written, when the range is no longer where this task left it.
    """
    if connection.vendor == "postgresql":
        # A batch lost with the database's last moments goes with its range's progress:
        # resumed, it is imported again. No need to wait for the disk.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
    lock_contacts(job.company)
    done = last - part.first_row + 1
    claimed = ImportRange.objects.filter(pk=part.pk, rows_done=part.rows_done, done_at=None).update(
        rows_done=done
    )
    if not claimed:
        return False
    decide_rows(rules=rules, outcomes=outcomes)
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
    # Other ranges' batches write the same counters: read them under the row's lock.
    locked = ImportJob.objects.select_for_update().only("counts", "rows_done").get(pk=job.pk)
    counts = Counter(locked.counts)
    counts.update(o.outcome for o in outcomes)
    counts["opted_out"] += sum(o.opted_out for o in outcomes)
    counts["warned"] += len(warned)  # also counted in their outcome: not another row
    locked.counts = {name: n for name, n in counts.items() if n}
    locked.rows_done += done - part.rows_done
    locked.heartbeat_at = timezone.now()
    locked.save(update_fields=["counts", "rows_done", "heartbeat_at"])
    job.counts, job.rows_done = locked.counts, locked.rows_done
    part.rows_done = done
    return True


def _close(job: ImportJob, part: ImportRange) -> None:
    """The range done, blank rows after its last batch counted too."""
    with transaction.atomic():
        closed = ImportRange.objects.filter(
            pk=part.pk, rows_done=part.rows_done, done_at=None
        ).update(rows_done=part.size, done_at=timezone.now())
        if closed and part.size > part.rows_done:
            ImportJob.objects.filter(pk=job.pk).update(
                rows_done=F("rows_done") + part.size - part.rows_done
            )
            job.rows_done += part.size - part.rows_done
    part.rows_done = part.size


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
