"""One import of a generated file through the real path: upload, configure, Celery workers.

Needs Django set up (bench.run does it).
"""

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pgtrigger
import phonenumbers
from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from addressbook.models import Company, Contact, ImportJob, ImportRejection
from addressbook.services.imports import configure_import, create_import, start_import
from campaigns.models import Message
from config.celery import app
from optout.models import ConsentEvent, Source, Suppression

from .data import DEFAULT_REGION, Generated
from .worker import CpuMeter, Worker, running

POLL = 0.05
QUEUE = "bench-import"
# Solo workers on the import's queue: one process per core of the bench's machine.
WORKERS = int(os.environ.get("BENCH_IMPORT_WORKERS", "2"))


@dataclass
class ImportResult:
    rows: int
    seconds: float
    worker_seconds: float
    peak_rss_mb: float
    idle_rss_mb: float
    counts: dict
    workers: int = 1
    cpu: str = ""


def create_company(stamp: str) -> Company:
    return Company.objects.create(
        name=f"Bench {stamp}", slug=f"bench-{stamp}", default_country=DEFAULT_REGION
    )


def opt_out(company: Company, addresses: list[str]) -> None:
    """What record_optout leaves behind, in bulk: one event and one suppression each."""
    with transaction.atomic():
        events = ConsentEvent.objects.bulk_create(
            [
                ConsentEvent(
                    company=company, address=a, kind=ConsentEvent.Kind.OPT_OUT, source=Source.API
                )
                for a in addresses
            ],
            batch_size=1000,
        )
        if any(e.pk is None for e in events):  # backends without RETURNING ids
            ids = dict(ConsentEvent.objects.filter(company=company).values_list("address", "pk"))
            for e in events:
                e.pk = ids[e.address]
        Suppression.objects.bulk_create(
            [Suppression(company=company, address=e.address, event_id=e.pk) for e in events],
            batch_size=1000,
        )


def delete_company(company: Company) -> None:
    """Everything the bench wrote, in an order the PROTECT foreign keys allow."""
    assert company.slug.startswith("bench-"), company.slug
    folder = Path(settings.IMPORT_DIR) / str(company.pk)
    # A fresh company has sent nothing, so no Message points at its contacts: delete the
    # rows without loading hundreds of thousands of them to run on_delete handlers.
    if Message.objects.filter(company=company).exists():
        raise RuntimeError(f"{company.slug} has messages; not deleting it in bulk")
    Contact.groups.through.objects.filter(contact__company=company).delete()
    contacts = Contact.objects.filter(company=company)
    contacts._raw_delete(contacts.db)
    rejections = ImportRejection.objects.filter(job__company=company)
    rejections._raw_delete(rejections.db)
    Suppression.objects.filter(company=company).delete()
    # The bench's own throwaway company: the one place its ledger may go.
    with pgtrigger.ignore("optout.ConsentEvent:consent_event_no_delete"):
        events = ConsentEvent.objects.filter(company=company)
        events._raw_delete(events.db)
    company.delete()
    shutil.rmtree(folder, ignore_errors=True)


def upload(company: Company, path: Path) -> ImportJob:
    with open(path, "rb") as f:
        job = create_import(company=company, upload=File(f, name=path.name))
    # As the wizard suggests: the columns it recognised, the company's country, update mode.
    return configure_import(
        job=job,
        encoding=job.encoding,
        delimiter=job.delimiter,
        mapping=job.mapping,
        default_country=job.default_country,
        group=None,
        mode=ImportJob.Mode.UPDATE,
    )


def run_through_worker(
    job: ImportJob, *, log: Path, timeout: float, count: int = WORKERS
) -> ImportResult:
    # start_import's task goes to a queue only the bench's own workers read: a worker of
    # `make run` or of the tests on the same broker cannot take it. The workers queue the
    # range tasks there too (bench.ready).
    app.conf.task_default_queue = QUEUE
    with app.connection_for_write() as conn:
        # Range tasks a stopped run left behind would be taken first, for a job now gone.
        conn.default_channel.queue_purge(QUEUE)
    workers = [
        Worker(
            queue=QUEUE,
            hostname=f"{QUEUE}-{i}@%h",
            log=log.with_name(f"{log.stem}-{i}{log.suffix}"),
            env={"BENCH_WORKER_QUEUE": QUEUE},
        )
        for i in range(count)
    ]
    with running(workers):
        idle_kb = max(worker.rss_kb for worker in workers)
        for worker in workers:
            worker.start_sampling()
        cpu = CpuMeter(workers)
        cpu.start()
        started = time.perf_counter()
        if not start_import(job=job):
            raise RuntimeError(f"Import {job.pk} could not be queued")
        status = ""
        while status != ImportJob.Status.DONE:
            time.sleep(POLL)
            status = ImportJob.objects.filter(pk=job.pk).values_list("status", flat=True)[0]
            if status == ImportJob.Status.FAILED:
                job.refresh_from_db()
                raise RuntimeError(f"Import {job.pk} failed: {job.error}")
            if time.perf_counter() - started > timeout:
                raise RuntimeError(f"Import {job.pk} not done in {timeout} s (status {status})")
            for worker in workers:
                worker.check_alive()
        seconds = time.perf_counter() - started
        cpu_note = cpu.stop()
        peak_kb = max(worker.stop_sampling() for worker in workers)  # per process
    job.refresh_from_db()
    return ImportResult(
        rows=job.rows_done,
        seconds=seconds,
        worker_seconds=(job.finished_at - job.started_at).total_seconds(),
        peak_rss_mb=peak_kb / 1024,
        idle_rss_mb=idle_kb / 1024,
        counts=job.counts,
        workers=count,
        cpu=cpu_note,
    )


def floor(generated: Generated) -> tuple[float, int]:
    """phonenumbers alone on the same phone cells: parse, is_valid_number, format E.164.

    The one string rewrite parse_phone does first ("00" → "+", which US numbers need) is
    kept, so both count the same rows valid. Returns (seconds, valid rows).
    """
    parse, is_valid = phonenumbers.parse, phonenumbers.is_valid_number
    fmt, e164 = phonenumbers.format_number, phonenumbers.PhoneNumberFormat.E164
    supported = phonenumbers.SUPPORTED_REGIONS
    valid = 0
    started = time.perf_counter()
    for raw, country in generated.phones:
        text = raw.strip()
        if text.startswith("00"):
            text = "+" + text[2:]
        region = country.upper() if country.upper() in supported else DEFAULT_REGION
        try:
            number = parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if is_valid(number):
            fmt(number, e164)
            valid += 1
    return time.perf_counter() - started, valid


def stamp() -> str:
    return timezone.now().strftime("%Y%m%d%H%M%S%f")
