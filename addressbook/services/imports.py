"""Imports: the same path for the wizard, its Celery task and the management command.

Rows go in batches: each batch is read, decided with two set-based lookups (existing
contacts by phone and by email), and written with bulk statements in one transaction
together with the job's row counter, so a killed worker resumes exactly where the
last committed batch ended.
"""

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from itertools import islice
from pathlib import Path

import phonenumbers
from django.conf import settings
from django.db import connection, reset_queries, transaction
from django.db.models import Q
from django.utils import timezone

from ..addresses import InvalidAddress, normalize_email, parse_phone
from ..csvfiles import TOO_LONG, FileProblem, Format, read_rows, sniff, suggest_mapping
from ..models import Company, Contact, CustomField, Group, ImportJob, ImportRejection

BATCH_SIZE = 2000
# A running import whose heartbeat is older than this has lost its worker.
STALLED_AFTER = timedelta(minutes=2)
PREVIEW_ROWS = 20
BASE_FIELDS = ("phone", "email", "first_name", "last_name", "country")

# Addresses among these that the company may not market to: supplied by the opt-out
# app through settings, since the address book knows nothing of opt-outs.
SuppressedOf = Callable[[Company, set[str]], set[str]]


class ImportProblem(ValueError):
    pass


@dataclass
class RowOutcome:
    row: int
    values: list[str]
    outcome: str  # created, updated, skipped, duplicate, invalid
    reason: str = ""
    contact: Contact | None = None
    fields: dict = field(default_factory=dict)
    opted_out: bool = False


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
    outcomes = _decide(job, list(rows), _Context.for_job(job))
    _mark_opted_out(job.company, outcomes, suppressed_of)
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
    context = _Context.for_job(job)
    try:
        if job.rows_total is None:  # a long count: the heartbeat above says we are alive
            job.rows_total = sum(1 for _ in read_rows(job.path, _format(job))) - 1
            job.save(update_fields=["rows_total"])
        done = job.rows_done  # a file row number: blank rows count too
        remaining = (row for row in _data_rows(job) if row[0] > done)
        for batch in _batches(remaining, BATCH_SIZE):
            _import_batch(job, batch, context, suppressed_of)
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


@dataclass
class _Context:
    """What every row of one job is checked against, loaded once."""

    mapping: dict[int, str]
    custom: dict[str, CustomField]

    @classmethod
    def for_job(cls, job: ImportJob) -> "_Context":
        return cls(
            mapping={int(index): name for index, name in job.mapping.items()},
            custom={f.key: f for f in job.company.custom_fields.all()},
        )


@transaction.atomic
def _import_batch(job: ImportJob, batch, context: _Context, suppressed_of) -> None:
    outcomes = _decide(job, batch, context)
    created = [o.fields for o in outcomes if o.outcome == "created"]
    updated = [o.contact for o in outcomes if o.outcome == "updated"]
    _insert_contacts(job, created)
    Contact.objects.bulk_update(
        updated,
        [c.removesuffix("_id") for c in _INSERT_COLUMNS if c not in ("company_id", "created_at")],
        batch_size=1000,
    )
    if job.group_id:
        mine = Contact.objects.filter(company_id=job.company_id).order_by()
        phones = [f["phone"] for f in created if f["phone"]]
        emails = [f["email"] for f in created if not f["phone"]]
        members = {c.pk for c in updated} | {
            o.contact.pk for o in outcomes if o.outcome == "skipped"
        }
        members |= set(
            mine.exclude(phone="").filter(phone__any=phones).values_list("pk", flat=True)
        )
        members |= set(
            mine.exclude(email="").filter(email__any=emails).values_list("pk", flat=True)
        )
        Contact.groups.through.objects.bulk_create(
            [Contact.groups.through(contact_id=pk, group_id=job.group_id) for pk in members],
            ignore_conflicts=True,
        )
    ImportRejection.objects.bulk_create(
        [
            ImportRejection(job=job, row=o.row, reason=o.reason[:255], values=o.values[:50])
            for o in outcomes
            if o.outcome == "invalid"
        ],
        ignore_conflicts=True,
    )
    _mark_opted_out(job.company, outcomes, suppressed_of)
    counts = Counter(job.counts)
    counts.update(o.outcome for o in outcomes)
    counts["opted_out"] += sum(o.opted_out for o in outcomes)
    job.counts = {name: n for name, n in counts.items() if n}
    job.rows_done = batch[-1][0]
    job.heartbeat_at = timezone.now()
    job.save(update_fields=["counts", "rows_done", "heartbeat_at"])


_INSERT_COLUMNS = (
    "company_id",
    "phone",
    "country",
    "email",
    "first_name",
    "last_name",
    "custom",
    "last_import_id",
    "created_at",
    "updated_at",
)


def _insert_contacts(job: ImportJob, contacts: list[dict]) -> None:
    """New contacts in one statement stream: COPY on PostgreSQL, executemany elsewhere.

    Measured: building model instances through bulk_create cost more than reading and
    parsing the rows; the import only needs the rows written.
    """
    if not contacts:
        return
    now = timezone.now()
    rows = [
        (
            job.company_id,
            c["phone"],
            c["country"],
            c["email"],
            c["first_name"],
            c["last_name"],
            json.dumps(c["custom"]),
            job.pk,
            now,
            now,
        )
        for c in contacts
    ]
    table = Contact._meta.db_table
    columns = ", ".join(_INSERT_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(_INSERT_COLUMNS))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


def _mark_opted_out(company: Company, outcomes: list[RowOutcome], suppressed_of) -> None:
    """Opted-out people stay opted out (suppression is kept by address); count them."""
    if suppressed_of is None:
        return
    taken = [o for o in outcomes if o.outcome in ("created", "updated", "skipped")]
    addresses = {a for o in taken for a in (o.fields.get("phone"), o.fields.get("email")) if a}
    suppressed = suppressed_of(company, addresses) if addresses else set()
    for o in taken:
        o.opted_out = bool({o.fields.get("phone"), o.fields.get("email")} & suppressed)


def _decide(job: ImportJob, batch, context: _Context) -> list[RowOutcome]:
    outcomes, seen = [], set()
    for number, values in batch:
        outcome = _read_row(job, number, values, context)
        if outcome.outcome != "invalid":
            keys = {outcome.fields.get("phone"), outcome.fields.get("email")} - {"", None}
            if keys & seen:
                outcome.outcome, outcome.reason = "duplicate", "Same contact as an earlier row"
            seen |= keys
        outcomes.append(outcome)
    valid = [o for o in outcomes if o.outcome == "pending"]
    contacts = job.company.contacts
    # No ordering and the partial unique indexes' condition: index lookups, not a scan
    # of the whole company.
    phones = {o.fields["phone"] for o in valid} - {""}
    emails = {o.fields["email"] for o in valid} - {""}
    by_phone = {c.phone: c for c in contacts.exclude(phone="").filter(phone__any=phones).order_by()}
    by_email = {c.email: c for c in contacts.exclude(email="").filter(email__any=emails).order_by()}
    matched = set()
    for o in valid:
        contact = by_phone.get(o.fields["phone"]) or by_email.get(o.fields["email"])
        if contact is None:
            o.outcome = "created"
        elif contact.last_import_id == job.pk or contact.pk in matched:
            o.outcome, o.reason = "duplicate", "Same contact as an earlier row"
        elif job.mode == ImportJob.Mode.SKIP:
            o.outcome, o.contact = "skipped", contact
            matched.add(contact.pk)
        else:
            o.outcome, o.contact = "updated", _merge(job, contact, o.fields, by_phone, by_email)
            matched.add(contact.pk)
    return outcomes


def _read_row(job: ImportJob, number: int, values: list[str], context: _Context) -> RowOutcome:
    def invalid(reason: str) -> RowOutcome:
        return RowOutcome(row=number, values=values, outcome="invalid", reason=reason)

    if values == [TOO_LONG]:
        return RowOutcome(
            row=number, values=[], outcome="invalid", reason="The line is longer than 1 MB"
        )
    raw = {name: values[i].strip() for i, name in context.mapping.items() if i < len(values)}
    fields = {name: raw.get(name, "") for name in ("first_name", "last_name")}
    fields["first_name"], fields["last_name"] = (
        fields["first_name"][:100],
        fields["last_name"][:100],
    )
    region = raw.get("country", "").upper()
    if region and region not in phonenumbers.SUPPORTED_REGIONS:
        region = ""
    fields["phone"] = fields["country"] = fields["email"] = ""
    if raw.get("phone"):
        try:
            phone = parse_phone(raw["phone"], region or job.default_country)
        except InvalidAddress as exc:
            return invalid(str(exc))
        fields["phone"], fields["country"] = phone.e164, phone.region
    if raw.get("email"):
        try:
            fields["email"] = normalize_email(raw["email"])
        except InvalidAddress as exc:
            return invalid(str(exc))
    if not fields["phone"] and not fields["email"]:
        return invalid("No phone number or email address")
    custom = {}
    for name, value in raw.items():
        if name.startswith("custom:") and value:
            key = name.removeprefix("custom:")
            try:
                custom[key] = clean_custom_value(context.custom[key], value)
            except (KeyError, ValueError) as exc:
                return invalid(f"{key}: {exc}")
    fields["custom"] = custom
    return RowOutcome(row=number, values=values, outcome="pending", fields=fields)


MAX_NUMBER = Decimal(10) ** 15
_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y")


def clean_custom_value(custom_field: CustomField, value: str):
    """A custom field's value as stored: numbers as numbers, dates as ISO text."""
    value = value.strip()
    kind = custom_field.type
    if kind == CustomField.Type.NUMBER:
        try:
            number = Decimal(re.sub(r"\s", "", value).replace(",", "."))
            reasonable = number.is_finite() and abs(number) < MAX_NUMBER
        except ArithmeticError as exc:  # InvalidOperation, Overflow
            raise ValueError(f"“{value}” is not a number") from exc
        if not reasonable:
            raise ValueError(f"“{value}” is not a number between -10¹⁵ and 10¹⁵")
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == CustomField.Type.DATE:
        for pattern in _DATE_FORMATS:
            try:
                return dt.datetime.strptime(value, pattern).date().isoformat()
            except ValueError:
                continue
        raise ValueError(f"“{value}” is not a date (use YYYY-MM-DD or DD-MM-YYYY)")
    if kind == CustomField.Type.CHOICE:
        options = {o.casefold(): o for o in custom_field.options}
        if value.casefold() not in options:
            raise ValueError(f"“{value}” is not one of: {', '.join(custom_field.options)}")
        return options[value.casefold()]
    return value[:500]


def _merge(job, contact: Contact, fields: dict, by_phone: dict, by_email: dict) -> Contact:
    """Fill in what the row brings. Addresses are only added, never replaced: replacing
    an opted-out address would make the person reachable again."""
    if fields["phone"] and not contact.phone and fields["phone"] not in by_phone:
        contact.phone, contact.country = fields["phone"], fields["country"]
    if fields["email"] and not contact.email and fields["email"] not in by_email:
        contact.email = fields["email"]
    for name in ("first_name", "last_name"):
        if fields[name]:
            setattr(contact, name, fields[name])
    contact.custom = {**contact.custom, **fields["custom"]}
    contact.last_import = job
    contact.updated_at = timezone.now()
    return contact
