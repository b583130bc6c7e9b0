"""Opt-outs a company brings itself: typed or pasted by hand, or an old provider's list.

Every address goes through ``record_optout``, one consent event each. An address already
on the list is left as it is: its own opt-out stays the one on record, and running the same
list again (a retried task, a second upload) adds no event.
"""

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from addressbook.addresses import InvalidAddress, normalize_email, parse_phone
from addressbook.csvfiles import TOO_LONG, FileProblem, Format, read_rows, sniff, suggest_mapping
from addressbook.exports import line_writer
from addressbook.models import Company
from addressbook.services.audit import Action, record_audit

from .consent import Actor
from .models import Source, Suppression, SuppressionImport, SuppressionImportRejection
from .selectors import parse_address
from .services import record_optout

ADDED, ALREADY, DUPLICATE, INVALID = "added", "already_suppressed", "duplicate", "invalid"
OUTCOMES = {
    ADDED: "Added",
    ALREADY: "Already on the list",
    DUPLICATE: "Duplicate of an earlier line",
    INVALID: "Rejected",
}
# Row outcomes rank: a row counts once, as the best thing that happened to it.
RANK = [ADDED, INVALID, DUPLICATE, ALREADY]
# How each kind of column is read: a column named for one kind holds only that kind.
PARSERS = {
    "phone": lambda raw, company: parse_phone(raw, company.default_country).e164,
    "email": lambda raw, company: normalize_email(raw),
    "address": lambda raw, company: parse_address(raw, company=company),
}
MAX_LINES = 1000
BATCH_SIZE = 500
# What a column of an old list may hold. Beside the names the contact import knows for
# phone and email: {field: another header name for it}.
FIELDS = ("phone", "email", "address", "reason")
EXTRA_COLUMNS = {"address": "recipient", "reason": "opt-out reason"}


class UploadProblem(ValueError):
    """The upload cannot be taken; the message says why and what to do."""


@dataclass
class LineOutcome:
    row: int
    text: str
    outcome: str
    reason: str = ""
    addresses: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return OUTCOMES[self.outcome]


def _actor(user, source: str) -> Actor | None:
    if user is None:
        return None
    return Actor.staff(user) if source == Source.ADMIN else Actor.user(user)


def suppress_address(
    *,
    company: Company,
    address: str,
    source: str,
    since: datetime,
    actor: Actor | None = None,
    **details: str,
) -> str:
    """Opt ``address`` out unless it already is: ``duplicate`` when the same run (same
    source, from ``since`` on) already put it there, ``already_suppressed`` otherwise."""
    current = (
        Suppression.objects.filter(company=company, address=address).select_related("event").first()
    )
    if current is None:
        record_optout(company=company, address=address, source=source, actor=actor, **details)
        return ADDED
    event = current.event
    same_run = event.address == address and event.source == source and event.created_at >= since
    return DUPLICATE if same_run else ALREADY


def add_optouts(
    *, company: Company, text: str, source: str, actor=None, ip: str | None = None
) -> list[LineOutcome]:
    """One address per line, each opted out and audited; blank lines are left out."""
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1)]
    lines = [(n, line) for n, line in lines if line]
    if len(lines) > MAX_LINES:
        raise UploadProblem(
            f"That is {len(lines)} lines; up to {MAX_LINES} go at once. Upload a longer list "
            "as a CSV file."
        )
    since = timezone.now()
    outcomes = []
    for number, line in lines:
        try:
            address = parse_address(line, company=company)
        except InvalidAddress as exc:
            outcomes.append(LineOutcome(number, line, INVALID, str(exc)))
            continue
        outcome = suppress_address(
            company=company,
            address=address,
            source=source,
            since=since,
            actor=_actor(actor, source),
        )
        outcomes.append(LineOutcome(number, line, outcome, addresses=[address]))
        if outcome == ADDED:
            record_audit(
                company=company,
                action=Action.OPTOUT_RECORDED,
                actor=actor,
                target=address,
                details={"source": source},
                ip=ip,
            )
    return outcomes


def summary(outcomes: list[LineOutcome]) -> dict[str, int]:
    counts = Counter(o.outcome for o in outcomes)
    return {name: counts[name] for name in OUTCOMES}


# --- an uploaded list ---------------------------------------------------------------


def create_suppression_import(
    *, company: Company, upload, user=None, ip: str | None = None, start: bool = True
) -> SuppressionImport:
    """Keep the file, find its address columns, audit, and queue it for a worker."""
    folder = Path(settings.IMPORT_DIR) / str(company.pk)
    folder.mkdir(parents=True, exist_ok=True)
    job = SuppressionImport.objects.create(
        company=company, created_by=user, filename=Path(upload.name).name[:255], path=""
    )
    path = folder / f"optouts-{job.pk}.csv"
    with open(path, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    job.path = str(path)
    try:
        fmt = sniff(path)
        headers = next(read_rows(path, fmt), [])
        job.columns, has_header = _columns(headers, company=company)
    except (FileProblem, UploadProblem):
        job.delete()
        path.unlink(missing_ok=True)
        raise
    job.encoding, job.delimiter = fmt.encoding, fmt.delimiter
    job.headers = [h[:100] for h in headers[:50]] if has_header else []
    job.save()
    record_audit(
        company=company,
        action=Action.SUPPRESSIONS_IMPORTED,
        actor=user,
        obj=job,
        target=job.filename,
        ip=ip,
    )
    if start:
        _enqueue(job)
    return job


def _columns(headers: list[str], *, company: Company) -> tuple[dict[str, str], bool]:
    """Column index → phone, email, address or reason; and whether the first
    line is a header. A file of one unnamed column is a list of addresses."""
    found = suggest_mapping(headers, EXTRA_COLUMNS)
    columns = {i: name.removeprefix("custom:") for i, name in found.items()}
    columns = {i: name for i, name in columns.items() if name in FIELDS}
    if set(columns.values()) & {"phone", "email", "address"}:
        return columns, True
    if len(headers) == 1:
        try:
            parse_address(headers[0], company=company)
        except InvalidAddress:
            return {"0": "address"}, True
        return {"0": "address"}, False
    raise UploadProblem(
        "No column of phone numbers or email addresses was found. Name it “phone”, "
        "“email” or “address” in the first line, or upload a file of one column."
    )


def _enqueue(job: SuppressionImport) -> None:
    from .tasks import run_suppression_import_task

    transaction.on_commit(lambda: run_suppression_import_task.delay(job.pk))


def resume_suppression_import(*, job: SuppressionImport) -> bool:
    """Queue a failed upload again: it goes on after its last committed row."""
    resumed = SuppressionImport.objects.filter(
        company_id=job.company_id, pk=job.pk, status=SuppressionImport.Status.FAILED
    ).update(status=SuppressionImport.Status.QUEUED, error="")
    if resumed:
        _enqueue(job)
    return bool(resumed)


def run_suppression_import(*, upload_id: int, progress=None) -> SuppressionImport:
    """Read the file from the row after the last committed batch to its end."""
    # Conditional, so a late second delivery of the task never reopens a finished upload.
    SuppressionImport.objects.filter(pk=upload_id).exclude(
        status=SuppressionImport.Status.DONE
    ).update(
        status=SuppressionImport.Status.RUNNING,
        started_at=Coalesce("started_at", Value(timezone.now())),
    )
    job = SuppressionImport.objects.select_related("company").get(pk=upload_id)
    if job.status == SuppressionImport.Status.DONE:
        return job
    try:
        remaining = (row for row in _data_rows(job) if row[0] > job.rows_done)
        while batch := list(islice(remaining, BATCH_SIZE)):
            if not _import_batch(job, batch):
                return job  # a second delivery of the task got there first
            if progress:
                progress(job)
    except FileProblem as exc:
        _fail(job, str(exc))
        return job
    except Exception as exc:
        _fail(job, f"Stopped by an unexpected error after row {job.rows_done}: {exc}")
        raise
    job.status, job.finished_at = SuppressionImport.Status.DONE, timezone.now()
    job.save(update_fields=["status", "finished_at"])
    return job


def _fail(job: SuppressionImport, error: str) -> None:
    SuppressionImport.objects.filter(pk=job.pk).update(
        status=SuppressionImport.Status.FAILED, error=error[:2000]
    )
    job.status, job.error = SuppressionImport.Status.FAILED, error


def rejected_rows_csv(job: SuppressionImport) -> Iterator[str]:
    """The rows that could not be read, with the reason on each, as CSV lines."""
    writer = line_writer()
    yield "\ufeff"
    yield writer.writerow(["Row", "Reason", *job.headers])
    for rejection in job.rejections.order_by("row").iterator(chunk_size=2000):
        yield writer.writerow([rejection.row, rejection.reason, *rejection.values])


def _data_rows(job: SuppressionImport) -> Iterator[tuple[int, list[str]]]:
    rows = read_rows(job.path, Format(encoding=job.encoding, delimiter=job.delimiter))
    if job.headers:
        next(rows, None)
    for number, values in enumerate(rows, start=1):
        if any(v.strip() for v in values):
            yield number, values


@transaction.atomic
def _import_batch(job: SuppressionImport, batch: list[tuple[int, list[str]]]) -> bool:
    """One batch with its counters, or nothing: False when another run already did it."""
    locked = SuppressionImport.objects.select_for_update().get(pk=job.pk)
    if locked.rows_done != job.rows_done or locked.status != SuppressionImport.Status.RUNNING:
        return False
    outcomes = [_import_row(job, number, values) for number, values in batch]
    SuppressionImportRejection.objects.bulk_create(
        [
            SuppressionImportRejection(
                upload=job, row=o.row, reason=o.reason[:255], values=batch_values[:50]
            )
            for o, (_, batch_values) in zip(outcomes, batch, strict=True)
            if o.reason
        ],
        ignore_conflicts=True,
    )
    counts = Counter(job.counts)
    counts.update(o.outcome for o in outcomes)
    job.counts = {name: n for name, n in counts.items() if n}
    job.rows_done = batch[-1][0]
    job.save(update_fields=["counts", "rows_done"])
    return True


def _import_row(job: SuppressionImport, number: int, values: list[str]) -> LineOutcome:
    if values == [TOO_LONG]:
        return LineOutcome(number, "", INVALID, "The line is longer than 1 MB")
    cells = {
        name: values[int(i)].strip() for i, name in job.columns.items() if int(i) < len(values)
    }
    outcomes, problems = [], []
    for name in PARSERS:
        if not cells.get(name):
            continue
        try:
            address = PARSERS[name](cells[name], job.company)
        except InvalidAddress as exc:
            problems.append(str(exc))
            continue
        outcomes.append(
            suppress_address(
                company=job.company,
                address=address,
                source=Source.IMPORT,
                since=job.started_at,
                actor=_actor(job.created_by, Source.IMPORT),
                reason_text=cells.get("reason", "")[:1000],
                raw_text=job.delimiter.join(values)[:1000],
            )
        )
    if not outcomes and not problems:
        problems.append("No phone number or email address")
    if problems:
        outcomes.append(INVALID)
    reason = "; ".join(problems)
    if problems and ADDED in outcomes:
        reason += " (the row's other address was added)"
    return LineOutcome(number, "", min(outcomes, key=RANK.index), reason)
