"""The suppression check under load, as a company's senders call it before each message:
gunicorn as production runs it (the landing bench's server: sync workers, DEBUG off,
persistent database connections) on PostgreSQL, wrk on 127.0.0.1.

The company has 1,000,000 contacts and 100,000 suppressions, loaded once with SQL and
reused by later runs (the slug ``bench-api``; a load cut short is loaded again). Two
measures of BENCH_API_SECONDS each (default 15) after a short warm-up, with
BENCH_API_CONNECTIONS (default 32) connections on BENCH_API_WORKERS gunicorn workers
(default 2): a bare DRF view (the floor, bench.api_urls), then the check of
BENCH_API_NUMBERS distinct numbers (default 20000; about one in ten suppressed, written
in E.164, nationally and with 00). The bench's key has a rate limit too high to reach, so
each check pays for its counting as a customer's does. Needs DATABASE_URL on PostgreSQL
and wrk.
"""

import json
import os
import random
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

from django.db import connection, transaction

from addressbook.models import Company, Contact
from api.keys import create_api_key
from api.models import ApiKey
from optout.models import ConsentEvent, Suppression

from . import import_bench as ib
from .landing_bench import WARM_UP_SECONDS, _free_port, _wrk, run_wrk, start_gunicorn

SLUG = "bench-api"
CONTACTS, SUPPRESSED = 1_000_000, 100_000
# Set last: a company with this name has all its rows.
LOADED = f"Bench API ({CONTACTS} contacts, {SUPPRESSED} suppressions)"
UNREACHABLE = 2_000_000_000  # requests per minute
GOALS = "goals (not asserted): check >= 50% of the floor, p99 < 50 ms, no errors"


def bench(name: str, value: float, unit: str) -> None:
    print(f"BENCH {name} {value:.1f} {unit}", flush=True)


def note(text: str) -> None:
    print(f"# {text}", flush=True)


def phone(i: int) -> str:
    """The i-th contact's number: Dutch mobiles +31 6 10000000 onwards."""
    return f"+316{10_000_000 + i}"


def company_with_data() -> Company:
    """The bench's company, loaded now unless a complete earlier load is there."""
    company = Company.objects.filter(slug=SLUG).first()
    if company is not None and company.name == LOADED:
        note(f"reusing {SLUG}: {CONTACTS} contacts, {SUPPRESSED} suppressions")
        return company
    if company is not None:
        note(f"{SLUG} was not loaded whole: loading it again")
        ApiKey.objects.filter(company=company).delete()
        ib.delete_company(company)
    started = time.perf_counter()
    company = Company.objects.create(name=f"{LOADED} (loading)", slug=SLUG, default_country="NL")
    _load(company)
    Company.objects.filter(pk=company.pk).update(name=LOADED)
    note(f"loaded {SLUG} in {time.perf_counter() - started:.0f} s")
    return company


def _load(company: Company) -> None:
    """In SQL, set-based: every contact has a number, every other one an email; every
    tenth number opted out, through each source in turn, a few with a reason."""
    contact = Contact._meta.db_table
    event = ConsentEvent._meta.db_table
    suppression = Suppression._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {contact} (company_id, phone, country, email, first_name, last_name, "
            "custom, created_at, updated_at) "
            "SELECT %s, '+316' || (10000000 + i), 'NL', "
            "CASE WHEN i %% 2 = 0 THEN 'person' || i || '@example.com' ELSE '' END, "
            "'Anna', 'Jansen', '{}', now(), now() FROM generate_series(0, %s) AS i",
            [company.pk, CONTACTS - 1],
        )
        step = CONTACTS // SUPPRESSED
        cursor.execute(
            f"INSERT INTO {event} (company_id, address, country, kind, source, campaign_id, "
            "reason, reason_text, raw_text, created_at) "
            "SELECT %s, '+316' || (10000000 + i * %s), 'NL', 'opt_out', "
            "(ARRAY['landing_page', 'sms_keyword', 'one_click', 'api', 'import'])[i %% 5 + 1], "
            "NULL, CASE WHEN i %% 3 = 0 THEN 'too_many' ELSE '' END, '', '', "
            "now() - (i || ' seconds')::interval FROM generate_series(0, %s) AS i",
            [company.pk, step, SUPPRESSED - 1],
        )
        cursor.execute(
            f"INSERT INTO {suppression} (company_id, address, country, event_id, created_at) "
            f"SELECT company_id, address, country, id, created_at FROM {event} "
            "WHERE company_id = %s",
            [company.pk],
        )
    with connection.cursor() as cursor:
        for table in (contact, event, suppression):
            cursor.execute(f"VACUUM ANALYZE {table}")


def write_queries(path: Path, count: int, *, seed: int = 20260310) -> Path:
    """Query strings of ``count`` distinct contacts' numbers, in the ways senders write them."""
    rng = random.Random(seed)
    lines = []
    for n, i in enumerate(rng.sample(range(CONTACTS), count)):
        e164 = phone(i)
        written = (e164, "0" + e164[3:], "00" + e164[1:])[n % 3]
        lines.append(urlencode({"phone": written}))
    path.write_text("\n".join(lines) + "\n")
    return path


def _answers_right(base: str, secret: str) -> str:
    """One suppressed and one free number, asked once: the bench measures real answers."""
    answers = []
    for i in (0, 1):
        request = urllib.request.Request(
            f"{base}/api/v1/suppressions/check?{urlencode({'phone': phone(i)})}",
            headers={"Authorization": f"Bearer {secret}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            answers.append(json.load(response)["may_send_marketing"])
    if answers != [False, True]:
        raise RuntimeError(f"the check answered {answers} for a suppressed and a free number")
    return "a suppressed number answers false, a free one true"


def api_part(*, out: Path) -> None:
    if connection.vendor != "postgresql":
        note("api: skipped; it measures PostgreSQL, as production runs: set DATABASE_URL")
        return
    wrk = _wrk()
    if wrk is None:
        note("api: skipped; it needs wrk (apt-get install wrk)")
        return
    seconds = int(os.environ.get("BENCH_API_SECONDS", "15"))
    connections = int(os.environ.get("BENCH_API_CONNECTIONS", "32"))
    workers = int(os.environ.get("BENCH_API_WORKERS", "2"))
    numbers = int(os.environ.get("BENCH_API_NUMBERS", "20000"))
    out.mkdir(parents=True, exist_ok=True)
    company = company_with_data()
    queries = write_queries(out / "api-check-queries.txt", numbers)
    issued = create_api_key(company=company, name=f"Bench {ib.stamp()}")
    ApiKey.objects.filter(company=company, pk=issued.key.pk).update(rate_limit=UNREACHABLE)
    server = None
    try:
        port = _free_port()
        server = start_gunicorn(
            port=port,
            workers=workers,
            log=out / f"gunicorn-api-{ib.stamp()}.log",
            settings="bench.api_settings",
        )
        base = f"http://127.0.0.1:{port}"
        note(_answers_right(base, issued.secret))
        env = {"API_CHECK_QUERIES": str(queries), "API_KEY": issued.secret}
        results = {}
        for name, path, method in (
            ("floor", "/bench/api-floor", "FLOOR"),
            ("check", "/api/v1/suppressions/check", "CHECK"),
        ):
            kw = {"connections": connections, "script": "api_check.lua"}
            kw["env"] = {**env, "API_METHOD": method}
            run_wrk(wrk, base + path, seconds=WARM_UP_SECONDS, **kw)
            results[name] = run_wrk(wrk, base + path, seconds=seconds, **kw)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        ApiKey.objects.filter(company=company, pk=issued.key.pk).delete()
    floor, check = results["floor"], results["check"]
    note(
        f"gunicorn {workers} sync workers, wrk {connections} connections, {seconds} s each; "
        f"{numbers} distinct numbers of {CONTACTS} contacts, {SUPPRESSED} suppressed"
    )
    for name, result in results.items():
        note(f"{name}: {result['requests']} requests, socket errors {result['socket_errors']}")
    note(GOALS)
    bench("api_floor_rps", floor["rps"], "req/s")
    bench("api_suppression_check_rps", check["rps"], "req/s")
    bench("api_suppression_check_p99_ms", check["p99_ms"], "ms")
    bench("api_check_vs_floor", 100 * check["rps"] / max(floor["rps"], 0.1), "%")
    bench("api_errors", floor["errors"] + check["errors"], "non-2xx/3xx answers")


if __name__ == "__main__":
    sys.exit("run through bench.run: BENCH_ONLY=api make bench")
