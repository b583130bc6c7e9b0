"""Where an import's time goes: run_import in this process under cProfile.

``.venv/bin/python -m bench.profile_import`` (BENCH_PROFILE_ROWS, default 50000; the
project's DATABASE_URL). Same file, company and clean-up as ``make bench``, no worker.
"""

import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection, reset_queries

    from addressbook.services.imports import run_import
    from optout.selectors import suppressed_among

    from . import import_bench as ib
    from .data import generate

    rows = int(os.environ.get("BENCH_PROFILE_ROWS", "50000"))
    generated = generate(ROOT / "var" / "bench" / f"contacts-{rows}.csv", rows)
    company = ib.create_company(ib.stamp())
    profile = cProfile.Profile()
    try:
        ib.opt_out(company, generated.suppressed)
        job = ib.upload(company, generated.path)
        reset_queries()
        started = time.perf_counter()
        profile.enable()
        job = run_import(job_id=job.pk, suppressed_of=suppressed_among)
        profile.disable()
        seconds = time.perf_counter() - started
        queries = len(connection.queries)
    finally:
        ib.delete_company(company)
    print(f"# {rows} rows in {seconds:.1f} s ({rows / seconds:.0f} rows/s, under the profiler)")
    print(f"# {job.counts}; {queries} queries logged (DEBUG keeps at most 9000)")
    stats = pstats.Stats(profile).strip_dirs()
    stats.sort_stats("cumulative").print_stats(35)
    stats.sort_stats("tottime").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
