"""A marketing email campaign through the real task path.

Part of ``make bench`` (bench.run sets Django up). Two ``celery worker -P solo`` processes
on the configured broker and database, the SMS campaign's (bench.campaign_bench), send an
email campaign (a subject, a text body and an HTML body, each with placeholders) to a fresh
company's contacts, every one with an email address and 10% of them opted out, through an
email backend that builds each message's bytes as Django's SMTP backend would and sends
nothing (bench.noop_backend.NoopEmailBackend, set for the workers only). Prints
``email_campaign_msgs_per_s``: messages handed to the backend per second, from the send to
the last hand-off. Then checks that every reachable contact got exactly one message, each
with RFC 8058's List-Unsubscribe and List-Unsubscribe-Post headers and the same personal
link in List-Unsubscribe as in its body. Environment:

- BENCH_EMAIL_CONTACTS (default 100000): the audience;
- BENCH_CAMPAIGN_TIMEOUT, BENCH_CAMPAIGN_STALL, BENCH_SEND_HOURS_AT, SEND_CHUNK_SIZE,
  SEND_BATCH_SIZE, SEND_CHUNKS_IN_FLIGHT, DEBUG: as for bench.campaign_bench.

``BENCH_ONLY=email-profile python -m bench.run`` instead sends an email campaign in this
process, the tasks' functions called one after the other (BENCH_PROFILE_CONTACTS, default
20000), under cProfile.
"""

import os
import random
import tempfile
import time
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from addressbook.models import Company
from campaigns.models import Message
from campaigns.services import create_campaign

from . import campaign_bench as cb
from . import import_bench as ib
from .data import FIRST, LAST

# Accents in the company's name (the From), and in the contacts' names (the subject).
COMPANY = "Brûlerie Bench"
SUBJECT = "{{ first_name }}, 20% off all weekend at {{ company }}"
BODY = (
    "Hi {{ first_name }} {{ last_name }},\n\n"
    "The spring sale at {{ company }} starts today: 20% off all our beans, all weekend.\n"
    "See you soon!"
)
HTML_BODY = (
    "<h1>Spring sale at {{ company }}</h1>\n"
    "<p>Hi <b>{{ first_name }} {{ last_name }}</b>,</p>\n"
    "<p>The spring sale starts today: <strong>20% off</strong> all our beans, "
    "all weekend.</p>\n<p>See you soon!</p>"
)
GOAL = "goal (not asserted): >= 8000 msgs/s to 100,000 recipients, 2 workers on 2 cores"


def make_email_audience(size: int, *, seed: int = 20260402) -> cb.Audience:
    """A fresh company with ``size`` contacts, each with an email address, 10% opted out."""
    started = time.perf_counter()
    rng = random.Random(seed + size)
    now = timezone.now()
    rows = []
    for i in range(size):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{cb._ascii(first)}.{cb._ascii(last)}.{i}@example.com"
        rows.append(("", "NL", email, first, last))
    opted_out = [rows[i][2] for i in rng.sample(range(size), int(size * cb.OPTED_OUT_SHARE))]
    company = ib.create_company(ib.stamp())
    Company.objects.filter(pk=company.pk).update(name=COMPANY)
    company.name = COMPANY
    try:
        cb._insert_contacts(company, rows, now)
        ib.opt_out(company, opted_out)
        cb.vacuum()
    except BaseException:
        cb.delete_company(company)
        raise
    cb.note(
        f"{size} contacts with an email address, {len(opted_out)} opted out, company "
        f"{company.slug}: {time.perf_counter() - started:.1f} s to generate and load"
    )
    return cb.Audience(company, size, len(opted_out))


def create_email_campaign(audience: cb.Audience, name: str = "Bench email"):
    return create_campaign(
        company=audience.company,
        name=name,
        channel="email",
        subject=SUBJECT,
        body=BODY,
        html_body=HTML_BODY,
    )


def worker_env(log: Path) -> dict[str, str]:
    return {
        **cb.worker_env(),
        "EMAIL_BACKEND": "bench.noop_backend.NoopEmailBackend",
        "BENCH_EMAIL_LOG": str(log),
    }


def _check_emails(run: cb.Run, log: Path) -> list[str]:
    """Every message sent was built once, with its one-click headers and its link."""
    seen: Counter = Counter()
    wrong: Counter = Counter()
    for path in log.glob("*.log"):
        with open(path) as f:
            for line in f:
                pk, verdict = line.split()
                seen[int(pk)] += 1
                if verdict != "ok":
                    wrong[verdict] += 1
    sent = set(
        Message.objects.filter(campaign=run.campaign, status=Message.Status.SENT).values_list(
            "pk", flat=True
        )
    )
    problems = []
    twice = sum(1 for n in seen.values() if n > 1)
    if twice:
        problems.append(f"{twice} messages built more than once")
    if missing := len(sent - set(seen)):
        problems.append(f"{missing} messages marked sent that the backend never got")
    if extra := len(set(seen) - sent):
        problems.append(f"{extra} messages the backend got that are not marked sent")
    if wrong:
        problems.append(f"without the one-click headers or the link: {dict(wrong)}")
    if len(sent) != run.recipients - run.opted_out:
        problems.append(f"{len(sent)} sent, {run.recipients - run.opted_out} reachable")
    return problems


def email_part(*, out: Path) -> None:
    size = int(os.environ.get("BENCH_EMAIL_CONTACTS", "100000"))
    timeout = float(os.environ.get("BENCH_CAMPAIGN_TIMEOUT", "1200"))
    out.mkdir(parents=True, exist_ok=True)
    log = Path(tempfile.mkdtemp(prefix="email-log-", dir=out))
    env = worker_env(log)
    cb.app.conf.task_default_queue = cb.QUEUE
    cb.note(
        f"email campaign: {cb.WORKERS} workers (celery -P solo), broker "
        f"{cb.app.conf.broker_url.split('://')[0]}, database {connection.vendor}; "
        f"SEND_CHUNK_SIZE={env['SEND_CHUNK_SIZE']} SEND_BATCH_SIZE={env['SEND_BATCH_SIZE']} "
        f"SEND_CHUNKS_IN_FLIGHT={settings.SEND_CHUNKS_IN_FLIGHT}, no rate limit, "
        f"EMAIL_BACKEND={env['EMAIL_BACKEND']}, workers' DEBUG={env['DEBUG']}"
    )
    cb.note(GOAL)
    cb.purge_queue()
    audience = make_email_audience(size)
    try:
        with cb.running_workers(out=out, env=env) as workers:
            run = cb.send_through_workers(
                audience, workers=workers, timeout=timeout, create=create_email_campaign
            )
        run.problems += _check_emails(run, log)
    finally:
        cb.delete_company(audience.company)
        cb.purge_queue()
        for path in log.glob("*.log"):
            path.unlink()
        log.rmdir()
    cb._report(size, run, " (email)")
    cb.bench("email_campaign_msgs_per_s", run.rate, "msgs/s")


def profile_email_in_process() -> None:
    """One email campaign's tasks run here, one after the other, under cProfile."""
    import cProfile
    import pstats

    size = int(os.environ.get("BENCH_PROFILE_CONTACTS", "20000"))
    settings.SEND_CHUNK_SIZE = int(os.environ.get("SEND_CHUNK_SIZE", cb.CHUNK_SIZE))
    settings.SEND_BATCH_SIZE = int(os.environ.get("SEND_BATCH_SIZE", cb.BATCH_SIZE))
    settings.SEND_RATE_PER_SECOND = 0
    settings.EMAIL_BACKEND = "bench.noop_backend.NoopEmailBackend"
    settings.DEBUG = False
    at = os.environ.get("BENCH_SEND_HOURS_AT", cb.SEND_HOURS_AT)
    if at != "now":
        settings.SEND_HOURS_AT = cb.datetime.fromisoformat(at).isoformat()
    audience = make_email_audience(size)
    try:
        seconds = cb._send_here(audience, create=create_email_campaign)
        sent = size - audience.opted_out
        cb.note(f"{sent} emails sent in this process, no profiler: {sent / seconds:.0f} msgs/s")
        profile = cProfile.Profile()
        seconds = cb._send_here(audience, profile=profile, create=create_email_campaign)
    finally:
        cb.delete_company(audience.company)
    cb.note(f"again under cProfile: {seconds:.1f} s")
    stats = pstats.Stats(profile).strip_dirs()
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(30)
