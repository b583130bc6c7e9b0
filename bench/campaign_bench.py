"""A marketing SMS campaign through the real task path, against one task per contact.

Part of ``make bench`` (bench.run sets Django up). Two ``celery worker -P solo`` processes
on the configured broker and database send a campaign to a fresh company's contacts
(mixed countries, 10% opted out) through a gateway that takes everything
(bench.noop_backend). Environment:

- BENCH_CAMPAIGN_CONTACTS (default 200000): the audience of the measured campaign;
- BENCH_CAMPAIGN_CONTACTS_SMALL (default 20000): a smaller campaign first, on fresh
  workers, to compare their memory (0: none);
- BENCH_CAMPAIGN_CONTACTS_LARGE (default none; 1000000 with BENCH_SCALE=million or huge):
  a campaign at this size too, for ``campaign_<size>_seconds`` and its workers' memory;
- BENCH_CAMPAIGN_ONE_WORKER (default 1; 0: not): after the measured campaign, a second one
  to the same audience on one worker alone, ``campaign_msgs_per_s_1_worker``, to set
  beside ``campaign_msgs_per_s`` (two workers);
- BENCH_NAIVE_SAMPLE (default 5000): contacts sent one task each, for comparison;
- BENCH_CAMPAIGN_TIMEOUT (seconds per campaign, default 1200);
- BENCH_CAMPAIGN_STALL (seconds without progress before giving up, default 120);
- BENCH_SEND_HOURS_AT: the moment the workers judge sending hours at (default SEND_HOURS_AT
  below, when every destination is open; ``now``: the clock's, and the campaign may wait);
- SEND_CHUNK_SIZE, SEND_BATCH_SIZE, SEND_CHUNKS_IN_FLIGHT: the workers' (defaults here:
  CHUNK_SIZE and BATCH_SIZE below, and the project's); DEBUG: the workers' (default false,
  as in production: with DEBUG Django keeps each connection's last 9000 SQL statements).

``BENCH_ONLY=campaign-profile python -m bench.run`` instead sends a campaign in this
process, the tasks' functions called one after the other (BENCH_PROFILE_CONTACTS, default
20000): timed stage by stage and SQL statement by statement, then again under cProfile.
"""

import os
import random
import sys
import time
import unicodedata
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import phonenumbers
from django.conf import settings
from django.db import connection
from django.db.models import Count, Exists, Max, OuterRef
from django.utils import timezone

from addressbook.models import Company, Contact
from campaigns.models import Campaign, CampaignChunk, Message
from campaigns.selectors import campaign_audience
from campaigns.services import create_campaign, send_campaign
from config.celery import app
from optout.models import ConsentEvent, ReplyRoute, Suppression
from optout.selectors import reachable_for_marketing

from . import import_bench as ib
from .data import FIRST, LAST, _pool
from .naive import naive_send_one
from .run import label, scale
from .worker import ROOT, CpuMeter, Worker, running

QUEUE = "bench-campaign"
WORKERS = 2
POLL = 0.1
# A Wednesday, 16:00 in Paris and Johannesburg, 10:00 in New York: no holiday, all open.
SEND_HOURS_AT = "2026-06-10T14:00:00+00:00"
# Tried with 200 (the project's default) and 1000 messages per hand-off: 1000 was faster
# (200k contacts on PostgreSQL + Redis, 2 cores: about 4800 msgs/s against 3900).
CHUNK_SIZE, BATCH_SIZE = "1000", "1000"
# Destination countries, by share of the audience. FR, BE, NL, DE and GB end with a
# reply keyword ("STOP au 36111"), the others with a short opt-out link.
MIX = {"NL": 30, "FR": 20, "DE": 15, "BE": 10, "GB": 10, "ZA": 5, "US": 5, "ES": 5}
OPTED_OUT_SHARE = 0.10
BODY = "Hi {{ first_name }}, the spring sale at {{ company }} starts today: 20% off all weekend."
GOALS = (
    "goals (not asserted): >= 5000 msgs/s on PostgreSQL + Redis with 2 workers on 2 cores; "
    ">= 20x the naive version; worker memory that does not grow with the audience"
)


def bench(name: str, value: float, unit: str) -> None:
    print(f"BENCH {name} {value:.1f} {unit}", flush=True)


def note(text: str) -> None:
    print(f"# {text}", flush=True)


# --- Data ---------------------------------------------------------------------------


@dataclass
class Audience:
    company: Company
    contacts: int
    opted_out: int


def _ascii(text: str) -> str:
    bare = unicodedata.normalize("NFKD", text)
    return "".join(c for c in bare if c.isascii() and c.isalnum()).lower()


def make_audience(size: int, *, seed: int = 20260301) -> Audience:
    """A fresh company with ``size`` contacts of valid mobile numbers, 10% opted out."""
    started = time.perf_counter()
    rng = random.Random(seed + size)
    regions = rng.choices(list(MIX), weights=list(MIX.values()), k=size)
    pools = {region: _pool(region, n, rng) for region, n in Counter(regions).items()}
    e164 = phonenumbers.PhoneNumberFormat.E164
    now = timezone.now()
    rows = []
    for i, region in enumerate(regions):
        phone = phonenumbers.format_number(pools[region].pop(), e164)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{_ascii(first)}.{_ascii(last)}.{i}@example.com" if i % 2 else ""
        rows.append((phone, region, email, first, last))
    opted_out = [rows[i][0] for i in rng.sample(range(size), int(size * OPTED_OUT_SHARE))]
    company = ib.create_company(ib.stamp())
    try:
        _insert_contacts(company, rows, now)
        ib.opt_out(company, opted_out)
        vacuum()
    except BaseException:
        delete_company(company)
        raise
    note(
        f"{size} contacts ({', '.join(f'{r} {n}' for r, n in Counter(regions).most_common())}), "
        f"{len(opted_out)} opted out, company {company.slug}: "
        f"{time.perf_counter() - started:.1f} s to generate and load"
    )
    return Audience(company, size, len(opted_out))


def vacuum() -> None:
    """What autovacuum does after a load this size (if it is on: it is off on some
    servers): planner statistics, the visibility map the suppression anti-join's
    index-only scans need, and no dead rows of earlier runs in the tables sending writes."""
    if connection.vendor != "postgresql":
        return
    models = (Contact, Suppression, ConsentEvent, Message, ReplyRoute, CampaignChunk, Campaign)
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")


def _autovacuum() -> str:
    if connection.vendor != "postgresql":
        return f"{connection.vendor}: nothing to vacuum"
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        (setting,) = cursor.fetchone()
    return f"autovacuum {setting}: the bench runs VACUUM ANALYZE after loading the contacts"


def _insert_contacts(company: Company, rows: list[tuple], now: datetime) -> None:
    if connection.vendor == "postgresql":
        columns = "company_id, phone, country, email, first_name, last_name, custom, "
        columns += "created_at, updated_at"
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY {Contact._meta.db_table} ({columns}) FROM STDIN") as copy,
        ):
            for phone, region, email, first, last in rows:
                copy.write_row((company.pk, phone, region, email, first, last, "{}", now, now))
        return
    Contact.objects.bulk_create(
        (
            Contact(company=company, phone=phone, country=region, email=email, first_name=first,
                    last_name=last)
            for phone, region, email, first, last in rows
        ),
        batch_size=2000,
    )  # fmt: skip


def delete_company(company: Company) -> None:
    """The campaigns' rows first, in bulk, then the rest as the import bench deletes it."""
    for model in (Message, ReplyRoute):
        rows = model.objects.filter(company=company)
        rows._raw_delete(rows.db)
    CampaignChunk.objects.filter(campaign__company=company).delete()
    Campaign.groups.through.objects.filter(campaign__company=company).delete()
    Campaign.objects.filter(company=company).delete()
    ib.delete_company(company)


# --- Workers ------------------------------------------------------------------------


def worker_env() -> dict[str, str]:
    """What the bench's workers run with, on top of this process's environment."""
    env = {
        "SMS_BACKEND": "bench.noop_backend.NoopBackend",
        "BENCH_WORKER_QUEUE": QUEUE,
        "SEND_CHUNK_SIZE": os.environ.get("SEND_CHUNK_SIZE", CHUNK_SIZE),
        "SEND_BATCH_SIZE": os.environ.get("SEND_BATCH_SIZE", BATCH_SIZE),
        "SEND_RATE_PER_SECOND": "0",  # the engine is measured, not a company's rate limit
        "DEBUG": os.environ.get("DEBUG", "false"),
    }
    at = os.environ.get("BENCH_SEND_HOURS_AT", SEND_HOURS_AT)
    if at != "now":
        env["SEND_HOURS_AT"] = datetime.fromisoformat(at).isoformat()
    if env["DEBUG"].lower() not in ("1", "true", "yes", "on"):
        for key in ("SECRET_KEY", "SMS_WEBHOOK_SECRET"):
            env[key] = os.environ.get(key) or "bench-only-not-secret-0123456789abcdef"
    return env


class CampaignWorker(Worker):
    """bench.worker's solo worker, with the naive task loaded and the bench's settings."""

    def __init__(self, **kwargs):
        super().__init__(include="bench.ready,bench.naive", **kwargs)
        self._read = 0

    def new_errors(self) -> list[str]:
        """Lines Celery logged at ERROR or worse since the last call (a task that raised)."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self._read)
                text = f.read()
        except FileNotFoundError:
            return []
        text = text[: text.rfind(b"\n") + 1]  # whole lines only
        self._read += len(text)
        lines = text.decode(errors="replace").splitlines()
        return [x for x in lines if "ERROR/" in x or "CRITICAL/" in x]


def purge_queue() -> None:
    """Tasks a stopped or failed run left in the bench's queue, for companies now gone."""
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(QUEUE)


@contextmanager
def running_workers(*, out: Path, env: dict[str, str], count: int = WORKERS):
    stamp = ib.stamp()
    workers = [
        CampaignWorker(
            env=env,
            queue=QUEUE,
            hostname=f"{QUEUE}-{i}@%h",
            log=out / f"campaign-worker-{stamp}-{i}.log",
        )
        for i in range(count)
    ]
    with running(workers):
        yield workers


def _wait(done, *, workers: list[CampaignWorker], timeout: float, what: str, progress, state):
    """Until done(); fails fast on a worker that exited or a task that raised, and when
    state() (something that changes as the work goes on) has not changed for a while."""
    stall = float(os.environ.get("BENCH_CAMPAIGN_STALL", "120"))
    deadline = time.monotonic() + timeout
    last, changed, look = None, time.monotonic(), 0.0
    while not done():
        now = time.monotonic()
        if now > deadline:
            raise RuntimeError(f"Timed out: {what} not done in {timeout:.0f} s ({progress()})")
        for worker in workers:
            worker.check_alive()
            if errors := worker.new_errors():
                raise RuntimeError(f"A task failed ({what}); {worker.log_path}: {errors[0]}")
        if now >= look:
            look, current = now + 5, state()
            if current != last:
                last, changed = current, now
            elif now - changed > stall:
                raise RuntimeError(f"Stalled: {what}, no progress in {stall:.0f} s ({progress()})")
        time.sleep(POLL)


def _pace(campaign: Campaign, started: datetime) -> str:
    """Contacts per second over the first and the last tenth of the chunks."""
    done = sorted(campaign.chunks.values_list("done_at", flat=True))
    size = int(worker_env()["SEND_CHUNK_SIZE"])
    k = len(done) // 10
    if k < 2:
        return ""
    first = k * size / (done[k - 1] - started).total_seconds()
    last = k * size / (done[-1] - done[-k - 1]).total_seconds()
    return (
        f"pace: {first:.0f} contacts/s over the first tenth of the {len(done)} chunks, "
        f"{last:.0f} over the last"
    )


# --- Runs ---------------------------------------------------------------------------


@dataclass
class Run:
    campaign: Campaign
    recipients: int  # contacts the campaign (or the sample) is for
    opted_out: int  # of those, how many are suppressed
    counts: dict[str, int]
    seconds: float  # from the send to the last hand-off (max Message.sent_at)
    wall: float  # from the send to the bench seeing it finished
    peak_rss_mb: list[float] = field(default_factory=list)
    idle_rss_mb: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return self.counts.get(Message.Status.SENT, 0)

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0


def _chunk_state(campaign: Campaign) -> list[tuple]:
    """The chunks' leases (renewed before every batch) and ends: they change as it sends.

    Raises at once when what is left waits for sending hours.
    """
    chunks = list(campaign.chunks.values_list("leased_until", "not_before", "done_at"))
    now = timezone.now()
    held = [n for leased, n, done in chunks if not done and n and n > now]
    if held and not any(leased and leased > now for leased, _, done in chunks if not done):
        raise RuntimeError(
            f"Campaign {campaign.pk} waits for its recipients' sending hours until "
            f"{min(held):%Y-%m-%d %H:%M} UTC (BENCH_SEND_HOURS_AT="
            f"{os.environ.get('BENCH_SEND_HOURS_AT', SEND_HOURS_AT)})"
        )
    return chunks


def _counts(campaign: Campaign) -> dict[str, int]:
    rows = Message.objects.filter(campaign=campaign).values_list("status").annotate(n=Count("id"))
    return dict(rows.order_by())


def _seconds_to_last_hand_off(campaign: Campaign, since: datetime) -> float:
    last = Message.objects.filter(campaign=campaign).aggregate(last=Max("sent_at"))["last"]
    return (last - since).total_seconds() if last else 0.0


def _sms_campaign(audience: Audience, name: str = "Bench campaign") -> Campaign:
    return create_campaign(company=audience.company, name=name, body=BODY)


def send_through_workers(
    audience: Audience, *, workers: list[Worker], timeout: float, create=_sms_campaign
) -> Run:
    """A new campaign to the audience (``create(audience)`` makes it), sent by the workers."""
    campaign = create(audience)
    contacts = campaign_audience(campaign=campaign)
    recipients = contacts.count()
    opted_out = (
        recipients - reachable_for_marketing(company=audience.company, contacts=contacts).count()
    )
    idle = [w.rss_kb / 1024 for w in workers]
    for worker in workers:
        worker.start_sampling()
    cpu = CpuMeter(workers)
    cpu.start()
    started, wall_started = timezone.now(), time.perf_counter()
    if not send_campaign(campaign=campaign):
        raise RuntimeError(f"Campaign {campaign.pk} could not be started")
    status = Campaign.objects.filter(pk=campaign.pk).values_list("status", flat=True)
    _wait(
        lambda: status[0] == Campaign.Status.SENT,
        workers=workers,
        timeout=timeout,
        what=f"campaign {campaign.pk} to {recipients} contacts",
        progress=lambda: f"status {status[0]}, messages {_counts(campaign)}",
        state=lambda: _chunk_state(campaign),
    )
    wall = time.perf_counter() - wall_started
    cpu_note = cpu.stop()
    peaks = [w.stop_sampling() / 1024 for w in workers]
    run = Run(
        campaign=campaign,
        recipients=recipients,
        opted_out=opted_out,
        counts=_counts(campaign),
        seconds=_seconds_to_last_hand_off(campaign, started),
        wall=wall,
        peak_rss_mb=peaks,
        idle_rss_mb=idle,
        notes=[n for n in (cpu_note, _pace(campaign, started)) if n],
    )
    run.problems = _check(run, contacts)
    return run


def send_naive(audience: Audience, *, sample: int, workers: list[Worker], timeout: float) -> Run:
    """The first ``sample`` contacts of the same audience, one naive task each, on a
    campaign row of its own."""
    campaign = create_campaign(company=audience.company, name="Bench naive", body=BODY)
    Campaign.objects.filter(pk=campaign.pk).update(
        status=Campaign.Status.SENDING, started_at=timezone.now()
    )
    contacts = campaign_audience(campaign=campaign)
    ids = list(contacts.order_by("id").values_list("id", flat=True)[:sample])
    chosen = contacts.filter(id__lte=ids[-1]) if ids else contacts.none()
    opted_out = (
        len(ids) - reachable_for_marketing(company=audience.company, contacts=chosen).count()
    )
    messages = Message.objects.filter(campaign=campaign)
    started, wall_started = timezone.now(), time.perf_counter()
    for contact_id in ids:
        naive_send_one.delay(campaign.pk, contact_id)
    _wait(
        lambda: messages.count() >= len(ids),
        workers=workers,
        timeout=timeout,
        what=f"naive sending to {len(ids)} contacts",
        progress=lambda: f"messages {_counts(campaign)}",
        state=messages.count,
    )
    wall = time.perf_counter() - wall_started
    Campaign.objects.filter(pk=campaign.pk).update(
        status=Campaign.Status.SENT, finished_at=timezone.now()
    )
    run = Run(
        campaign=campaign,
        recipients=len(ids),
        opted_out=opted_out,
        counts=_counts(campaign),
        seconds=_seconds_to_last_hand_off(campaign, started),
        wall=wall,
    )
    run.problems = _check(run, chosen)
    return run


def _check(run: Run, contacts) -> list[str]:
    """What must hold after sending; an empty list when it all does."""
    counts, problems = run.counts, []
    failed = counts.get(Message.Status.FAILED, 0)
    skipped = counts.get(Message.Status.SKIPPED, 0)
    left = {k: v for k, v in counts.items() if k not in ("sent", "skipped", "failed")}
    if failed:
        problems.append(f"{failed} failed")
    if skipped != run.opted_out:
        problems.append(f"{skipped} skipped, {run.opted_out} opted out")
    if left:
        problems.append(f"left in {left}")
    messages = Message.objects.filter(campaign=run.campaign)
    total = sum(counts.values())
    distinct = messages.values("contact_id").distinct().count()
    missing = contacts.exclude(
        Exists(messages.filter(contact_id=OuterRef("pk")))
    ).count()  # fmt: skip
    if not (total == distinct == run.recipients) or missing:
        problems.append(
            f"{total} messages for {distinct} contacts, {run.recipients} expected, "
            f"{missing} contacts without one"
        )
    sent = messages.filter(status=Message.Status.SENT)
    fr = sent.filter(country="FR")
    fr_ok = fr.filter(body__endswith="\nSTOP au 36111", short_code__isnull=True).count()
    if fr_ok != fr.count():
        problems.append(f"{fr.count() - fr_ok} FR messages without 'STOP au 36111' or with a link")
    return problems


def _summary(run: Run) -> str:
    c = run.counts
    line = (
        f"sent {c.get('sent', 0)} / skipped {c.get('skipped', 0)} / failed "
        f"{c.get('failed', 0)} of {run.recipients} ({run.opted_out} opted out): "
        f"{'ok' if not run.problems else 'MISMATCH: ' + '; '.join(run.problems)}"
    )
    return line


def _label(size: int) -> str:
    return label(size)


def _report(n: int, run: Run, workers: str = "") -> None:
    tag = f"{_label(n)} campaign{workers}"
    note(f"{tag}: {_summary(run)}")
    note(
        f"{tag}: {run.seconds:.1f} s from send_campaign to the last "
        f"hand-off ({run.rate:.0f} msgs/s), {run.wall:.1f} s wall to status sent; "
        "worker RSS idle "
        + ", ".join(f"{i:.0f}" for i in run.idle_rss_mb)
        + " MB, peak "
        + ", ".join(f"{p:.0f}" for p in run.peak_rss_mb)
        + " MB"
    )
    for line in run.notes:
        note(f"{tag}: {line}")


def campaign_part(*, out: Path) -> None:
    size = int(os.environ.get("BENCH_CAMPAIGN_CONTACTS", "200000"))
    small = int(os.environ.get("BENCH_CAMPAIGN_CONTACTS_SMALL", "20000") or 0)
    million = "1000000" if scale() != "default" else "0"
    large = int(os.environ.get("BENCH_CAMPAIGN_CONTACTS_LARGE", million) or 0)
    one_worker = os.environ.get("BENCH_CAMPAIGN_ONE_WORKER", "1") not in ("0", "false", "no")
    sample = int(os.environ.get("BENCH_NAIVE_SAMPLE", "5000"))
    timeout = float(os.environ.get("BENCH_CAMPAIGN_TIMEOUT", "1200"))
    env = worker_env()
    # What the bench process queues (the plan task, the naive tasks) goes to the bench's
    # workers only; bench.ready does the same in the workers for the chunk tasks.
    app.conf.task_default_queue = QUEUE
    note(
        f"campaign: {WORKERS} workers (celery -P solo), broker "
        f"{app.conf.broker_url.split('://')[0]}, database {connection.vendor}; "
        f"SEND_CHUNK_SIZE={env['SEND_CHUNK_SIZE']} SEND_BATCH_SIZE={env['SEND_BATCH_SIZE']} "
        f"SEND_CHUNKS_IN_FLIGHT={settings.SEND_CHUNKS_IN_FLIGHT}, "
        f"no rate limit, SMS_BACKEND={env['SMS_BACKEND']}, workers' DEBUG={env['DEBUG']}"
    )
    hours_at = env.get("SEND_HOURS_AT", "the clock's time (BENCH_SEND_HOURS_AT=now)")
    note(f"sending hours judged at {hours_at}; {_autovacuum()}")
    note(GOALS)
    purge_queue()
    sizes = [*([small] if 0 < small < size else []), size, *([large] if large > size else [])]
    for n in sizes:
        audience = make_audience(n)
        naive = single = None
        try:
            with running_workers(out=out, env=env) as workers:
                run = send_through_workers(audience, workers=workers, timeout=timeout)
                if n == size and sample:
                    naive = send_naive(audience, sample=sample, workers=workers, timeout=timeout)
            if n == size and one_worker:
                # The same audience again, one worker alone: how the rate grows with workers.
                vacuum()
                with running_workers(out=out, env=env, count=1) as workers:
                    single = send_through_workers(audience, workers=workers, timeout=timeout)
        finally:
            delete_company(audience.company)
            purge_queue()
        _report(n, run)
        if n == size:
            bench("campaign_msgs_per_s", run.rate, "msgs/s")
        if n == large:
            bench(f"campaign_{_label(n)}_seconds", run.seconds, "s")
        bench(f"campaign_worker_peak_rss_mb_{_label(n)}", max(run.peak_rss_mb), "MB")
        if naive is not None:
            note(
                f"naive (one task per contact), on a sample: the first {naive.recipients} "
                f"contacts of the same audience: {_summary(naive)}; {naive.seconds:.1f} s "
                f"to the last hand-off, {naive.wall:.1f} s wall"
            )
            bench("campaign_naive_msgs_per_s", naive.rate, "msgs/s")
            ratio = run.rate / naive.rate if naive.rate else float("inf")
            note(f"engine / naive: {ratio:.1f}x (goal >= 20x)")
        if single is not None:
            _report(n, single, " on 1 worker")
            note(
                f"1 worker against {WORKERS}, the same {_label(n)} audience, a second campaign "
                f"after the first: {run.rate / single.rate if single.rate else 0:.2f}x with "
                f"{WORKERS} workers (on {os.cpu_count()} cores shared with the database and "
                "the broker, see the CPU lines)"
            )
            bench("campaign_msgs_per_s_1_worker", single.rate, "msgs/s")


# --- Profile ------------------------------------------------------------------------


STAGES = (
    "_take_lease", "Drafts", "_due_now", "_still_sending", "claim_queued",
    "_note_reply_routes", "hand_off", "dispatch",
)  # fmt: skip


def profile_in_process() -> None:
    """One campaign's tasks run here, one after the other: once timed stage by stage and
    statement by statement, once more under cProfile. Same data, settings and backend as
    the workers' (minus Celery: it opens a database connection per task)."""
    import cProfile
    import pstats
    from collections import defaultdict

    size = int(os.environ.get("BENCH_PROFILE_CONTACTS", "20000"))
    settings.SEND_CHUNK_SIZE = int(os.environ.get("SEND_CHUNK_SIZE", CHUNK_SIZE))
    settings.SEND_BATCH_SIZE = int(os.environ.get("SEND_BATCH_SIZE", BATCH_SIZE))
    settings.SEND_RATE_PER_SECOND = 0
    settings.SMS_BACKEND = "bench.noop_backend.NoopBackend"
    settings.DEBUG = False
    at = os.environ.get("BENCH_SEND_HOURS_AT", SEND_HOURS_AT)
    if at != "now":
        settings.SEND_HOURS_AT = datetime.fromisoformat(at).isoformat()
    sql_time: dict[str, float] = defaultdict(float)
    sql_count: Counter = Counter()
    project = str(ROOT) + os.sep

    def timed_sql(execute, sql, params, many, context):
        frame, where = sys._getframe(1), "?"
        while frame:
            name = frame.f_code.co_filename
            if name.startswith(project) and "/.venv/" not in name and "/bench/" not in name:
                where = f"{Path(name).relative_to(ROOT)}:{frame.f_lineno} {frame.f_code.co_name}"
                break
            frame = frame.f_back
        key = f"{where} {sql.split(None, 1)[0].upper()}"
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            sql_time[key] += time.perf_counter() - started
            sql_count[key] += 1

    audience = make_audience(size)
    try:
        stage_time, stage_sql = _stages(audience, timed_sql, sql_time)
        seconds, counts = stage_time.pop("all"), stage_sql.pop("counts")
        sent, total_sql = counts.get("sent", 0), sum(sql_time.values())
        note(
            f"{size} contacts sent in this process, no profiler: {seconds:.2f} s "
            f"({sent / seconds:.0f} msgs/s, {1e6 * seconds / size:.0f} us per contact); "
            f"{counts}; SQL {total_sql:.2f} s ({100 * total_sql / seconds:.0f}%) in "
            f"{sum(sql_count.values())} statements, Python the rest"
        )
        note("by stage (seconds inclusive, SQL within, share of the run):")
        for name, spent in sorted(stage_time.items(), key=lambda kv: -kv[1]):
            note(
                f"  {spent:6.2f} s  SQL {stage_sql[name]:5.2f} s  {100 * spent / seconds:4.1f}%  "
                f"{name}"
            )
        note("SQL statements by the project line that issued them (seconds, count, share):")
        for key, spent in sorted(sql_time.items(), key=lambda kv: -kv[1])[:12]:
            note(f"  {spent:6.2f} s {sql_count[key]:5d}  {100 * spent / seconds:4.1f}%  {key}")
        profile = cProfile.Profile()
        seconds = _send_here(audience, profile=profile)
    finally:
        delete_company(audience.company)
    note(f"again under cProfile: {seconds:.1f} s")
    stats = pstats.Stats(profile).strip_dirs()
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)


def _stages(audience: Audience, timed_sql, sql_time: dict) -> tuple[dict, dict]:
    """One send with each stage of campaigns.services.sending timed (inclusive)."""
    from unittest import mock

    from campaigns.services import sending

    spent: Counter = Counter()
    sql_in: Counter = Counter()

    def timer(name, function):
        def timed(*args, **kwargs):
            sql_before, started = sum(sql_time.values()), time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - started
                sql_in[name] += sum(sql_time.values()) - sql_before

        return timed

    patches = [
        mock.patch.object(sending, name, timer(name, getattr(sending, name))) for name in STAGES
    ]
    for patch in patches:
        patch.start()
    try:
        with connection.execute_wrapper(timed_sql):
            seconds = _send_here(audience)
    finally:
        for patch in patches:
            patch.stop()
    campaign = Campaign.objects.filter(company=audience.company).latest("pk")
    return {**spent, "all": seconds}, {**sql_in, "counts": _counts(campaign)}


def _send_here(audience: Audience, *, profile=None, create=_sms_campaign) -> float:
    """A new campaign to the audience, its tasks' functions called here in turn."""
    from unittest import mock

    from campaigns import tasks
    from campaigns.services import plan_campaign, send_chunk

    queued: list[tuple] = []
    campaign = create(audience, "Bench profile")
    with (
        mock.patch.object(tasks.plan_campaign_task, "delay", lambda *a: queued.append(a)),
        mock.patch.object(tasks.send_chunk_task, "delay", lambda *a: queued.append(a)),
    ):
        started = time.perf_counter()
        if profile:
            profile.enable()
        send_campaign(campaign=campaign)
        while queued:
            args = queued.pop(0)
            if len(args) == 1:
                plan_campaign(campaign_id=args[0])
            else:
                send_chunk(chunk_id=args[0], task_token=args[1])
        if profile:
            profile.disable()
        seconds = time.perf_counter() - started
    status = Campaign.objects.filter(pk=campaign.pk).values_list("status", flat=True)[0]
    if status != Campaign.Status.SENT:
        raise RuntimeError(f"Campaign {campaign.pk} ended {status}, not sent")
    return seconds
