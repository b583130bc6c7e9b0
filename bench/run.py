"""``make bench``: a contact file imported through the real path, against phonenumbers
alone; a marketing campaign sent through the real path, against one task per contact; an
email campaign to 100,000 recipients through the same path, each message's bytes built;
the landing page on gunicorn under wrk, against a bare Django view; the API's suppression
check on gunicorn under wrk, against a bare DRF view; the review pages (insights, a
campaign's report, the suppression list) rendered at a million contacts; with
BENCH_SCALE=huge, a campaign's page, a contact's page and the start of a send at
100,000,000 messages.

Environment: BENCH_SCALE (unset: the sizes below, under 15 minutes on 2 cores;
``million``: the import and a campaign at 1,000,000 too; ``huge``: ``million`` and the
``huge`` part, the pages at 100,000,000 messages, see bench.huge_bench), BENCH_ONLY
(``import``, ``campaign``, ``email``, ``landing``, ``api``, ``review`` or ``huge``, or
several comma-separated; default the first six, and ``huge`` with BENCH_SCALE=huge;
``campaign-profile``: one campaign in this process under cProfile, see
bench.campaign_bench; ``email-profile``: the same for an email campaign, see
bench.email_bench), BENCH_IMPORT_ROWS (default 200000), BENCH_IMPORT_ROWS_LARGE (a
second size, names suffixed with it, e.g. ``import_rows_per_s_1m``; default none, 1000000
with BENCH_SCALE=million or huge), BENCH_IMPORT_TIMEOUT (seconds per import, default
3600), BENCH_IMPORT_WORKERS (solo worker processes importing, default 2), the
BENCH_CAMPAIGN_* variables of bench.campaign_bench, BENCH_EMAIL_CONTACTS (default 100000)
of bench.email_bench, the BENCH_LANDING_* ones of
bench.landing_bench, the BENCH_API_* ones of bench.api_bench, the BENCH_REVIEW_* ones of
bench.review_bench, the BENCH_HUGE_* ones of bench.huge_bench, and the project's own
DATABASE_URL / REDIS_URL. Prints ``BENCH <name> <value> <unit>`` lines; context after '#'.
"""

import os
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "var" / "bench"


def bench(name: str, value: float, unit: str) -> None:
    print(f"BENCH {name} {value:.1f} {unit}", flush=True)


def note(text: str) -> None:
    print(f"# {text}", flush=True)


def one_size(rows: int, *, large: bool, timeout: float) -> None:
    from django.db import connection

    from . import import_bench as ib
    from .data import generate

    started = time.perf_counter()
    generated = generate(OUT / f"contacts-{rows}.csv", rows)
    size_mb = generated.path.stat().st_size / 1e6
    note(
        f"{rows} rows, {size_mb:.1f} MB in {generated.path.relative_to(ROOT)} "
        f"({time.perf_counter() - started:.1f} s to generate); planted: {generated.expected}"
    )
    stamp = ib.stamp()
    company = ib.create_company(stamp)
    try:
        ib.opt_out(company, generated.suppressed)
        job = ib.upload(company, generated.path)
        note(f"company {company.slug}, job {job.pk}, mapping {job.mapping}")
        result = ib.run_through_worker(job, log=OUT / f"worker-{stamp}.log", timeout=timeout)
    finally:
        ib.delete_company(company)
    note(f"counts {result.counts}")
    note(
        f"{result.seconds:.1f} s from enqueue to done ({result.worker_seconds:.1f} s from the "
        f"first task's start to the last's end) on {result.workers} solo worker(s); RSS per "
        f"worker process {result.idle_rss_mb:.0f} MB idle, {result.peak_rss_mb:.0f} MB peak"
    )
    note(result.cpu)
    seconds, valid = ib.floor(generated)
    taken = sum(result.counts.get(k, 0) for k in ("created", "updated", "skipped", "duplicate"))
    note(f"floor: {seconds:.1f} s for the same {rows} phone cells, {valid} valid ({taken} taken)")
    import_rate, floor_rate = result.rows / result.seconds, rows / seconds
    vendor = connection.vendor
    suffix = f"_{label(rows)}" if large else ""
    bench(f"import_rows_per_s{suffix}", import_rate, "rows/s")
    bench(f"import_floor_rows_per_s{suffix}", floor_rate, "rows/s")
    bench(f"import_vs_floor_ratio{suffix}", floor_rate / import_rate, "x")
    bench(f"import_peak_rss_mb{suffix}", result.peak_rss_mb, "MB")
    if large:
        bench(f"import_{label(rows)}_seconds", result.seconds, "s")
    note(f"database {vendor}; broker {_broker()}")


def label(n: int) -> str:
    """1000000 → 1m, 200000 → 200k: the size in a BENCH name."""
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}m"
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


SCALES = ("default", "million", "huge")


def scale() -> str:
    """BENCH_SCALE: ``default`` (unset), ``million`` (the import and a campaign at a
    million too), ``huge`` (``million``, and the pages at 100,000,000 messages)."""
    chosen = os.environ.get("BENCH_SCALE", "").strip() or "default"
    if chosen not in SCALES:
        raise SystemExit(f"BENCH_SCALE: unknown scale {chosen!r}; use {', '.join(SCALES)}")
    return chosen


def _broker() -> str:
    from django.conf import settings

    return settings.CELERY_BROKER_URL.split("://")[0]


PARTS = ("import", "campaign", "email", "landing", "api", "review")
# Not in a default run: profiles, and the pages at 100 million messages (BENCH_SCALE=huge).
EXTRA_PARTS = ("campaign-profile", "email-profile", "huge")


def _parts() -> list[str]:
    chosen = [p.strip() for p in os.environ.get("BENCH_ONLY", "").split(",") if p.strip()]
    unknown = [p for p in chosen if p not in PARTS + EXTRA_PARTS]
    if unknown:
        names = ", ".join(PARTS + EXTRA_PARTS)
        raise SystemExit(f"BENCH_ONLY: unknown part {unknown[0]!r}; use {names}")
    return chosen or [*PARTS, *(["huge"] if scale() == "huge" else [])]


def import_part() -> None:
    rows = int(os.environ.get("BENCH_IMPORT_ROWS", "200000"))
    million = "1000000" if scale() != "default" else "0"
    large = int(os.environ.get("BENCH_IMPORT_ROWS_LARGE", million) or 0)
    timeout = float(os.environ.get("BENCH_IMPORT_TIMEOUT", "3600"))
    one_size(rows, large=False, timeout=timeout)
    if large:
        one_size(large, large=True, timeout=timeout)


def _stop(signum, frame) -> None:
    # SIGTERM as Ctrl-C: the workers are stopped and the bench's company deleted.
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    parts = _parts()
    note(f"BENCH_SCALE={scale()}")
    signal.signal(signal.SIGTERM, _stop)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # With the filesystem broker, a queue folder of the bench's own (worker inherits it).
    os.environ.setdefault("CELERY_FILESYSTEM_DIR", str(OUT / "celery"))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    started = time.perf_counter()
    for part in parts:
        part_started = time.perf_counter()
        if part == "import":
            import_part()
        elif part == "campaign":
            from .campaign_bench import campaign_part

            campaign_part(out=OUT)
        elif part == "email":
            from .email_bench import email_part

            email_part(out=OUT)
        elif part == "email-profile":
            from .email_bench import profile_email_in_process

            profile_email_in_process()
        elif part == "landing":
            from .landing_bench import landing_part

            landing_part(out=OUT)
        elif part == "api":
            from .api_bench import api_part

            api_part(out=OUT)
        elif part == "review":
            from .review_bench import review_part

            review_part(out=OUT)
        elif part == "huge":
            from .huge_bench import huge_part

            huge_part(out=OUT)
        else:
            from .campaign_bench import profile_in_process

            profile_in_process()
        note(f"{part} part: {time.perf_counter() - part_started:.0f} s")
    note(f"bench ({', '.join(parts)}): {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
