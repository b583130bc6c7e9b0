"""The landing page under load: gunicorn as production runs it (sync workers, DEBUG off,
persistent database connections) on PostgreSQL, wrk on 127.0.0.1.

Three measures of BENCH_LANDING_SECONDS each (default 15), after a short warm-up, with
BENCH_LANDING_CONNECTIONS (default 32) connections on BENCH_LANDING_WORKERS gunicorn
workers (default 2): a bare Django view through the same middleware (the floor), GETs of
the landing page of BENCH_LANDING_LINKS distinct links (default 10000), then POSTs of each
link's right number, every one a real opt-out until the links run out (then repeats,
which answer the same way). Needs DATABASE_URL on PostgreSQL and wrk (installed with apt
when missing and root).
"""

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from addressbook.models import Company
from campaigns.models import Campaign, Message
from optout.models import Suppression

from . import campaign_bench as cb
from .import_bench import stamp

ROOT = Path(__file__).resolve().parent.parent
WARM_UP_SECONDS = 2


def bench(name: str, value: float, unit: str) -> None:
    print(f"BENCH {name} {value:.1f} {unit}", flush=True)


def note(text: str) -> None:
    print(f"# {text}", flush=True)


def _wrk() -> str | None:
    if not shutil.which("wrk"):
        subprocess.run([ROOT / "bin/apt-install", "wrk (landing benchmark)", "wrk"], check=False)
    return shutil.which("wrk")


def make_links(company: Company, count: int, out: Path) -> Path:
    """count SMS of a sent campaign, each with its link and its own Dutch number."""
    campaign = Campaign.objects.create(
        company=company, name="Landing bench", body="Hi", status=Campaign.Status.SENT
    )
    now = timezone.now()
    rows = [(secrets.token_hex(4), f"+3162{i:07d}") for i in range(count)]
    with transaction.atomic():
        Message.objects.bulk_create(
            (
                Message(
                    company=company, campaign=campaign, to=phone, country="NL", body="Hi",
                    short_code=code, status=Message.Status.SENT, sent_at=now,
                )
                for code, phone in rows
            ),
            batch_size=2000,
        )  # fmt: skip
    codes = out / "landing-codes.txt"
    codes.write_text("".join(f"{code} {phone}\n" for code, phone in rows))
    return codes


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serving(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    """Until the workers answer, not only the master listens."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/floor", timeout=5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer")


def start_gunicorn(
    *, port: int, workers: int, log: Path, settings: str = "bench.landing_settings"
) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "SMS_WEBHOOK_SECRET": secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "127.0.0.1",
        # Plain HTTP on 127.0.0.1, where production has its proxy's HTTPS.
        "SECURE_SSL_REDIRECT": "false",
        # Every POST comes from 127.0.0.1: the per-address limit would answer them all
        # neutrally after 200, without opting anyone out.
        "LANDING_POSTS_PER_IP": str(10**9),
        "LOG_LEVEL": "WARNING",
    }
    collect = [ROOT / ".venv/bin/python", "manage.py", "collectstatic", "--noinput", "-v0"]
    subprocess.run(collect, cwd=ROOT, env=env, check=True)
    command = [ROOT / ".venv/bin/gunicorn", "config.wsgi:application", "--workers", str(workers)]
    command += ["--bind", f"127.0.0.1:{port}", "--worker-tmp-dir", "/dev/shm", "--log-level"]
    command += ["warning", "--timeout", "30"]
    with open(log, "wb") as f:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=f, stderr=subprocess.STDOUT)
    _serving(port, process)
    return process


def run_wrk(wrk: str, url: str, *, seconds: int, connections: int, env: dict,
            script: str = "landing.lua") -> dict:  # fmt: skip
    threads = min(2, connections)
    # A slow answer is measured, not dropped as wrk's default 2 s timeout would.
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    command += ["--latency"]
    command += ["-s", str(Path(__file__).with_name(script)), url]
    result = subprocess.run(
        command,
        env={**os.environ, **env, "LANDING_THREADS": str(threads)},
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    )
    out = result.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sockets = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": rps,
        "p99_ms": float(p99.group(1)) * scale,
        "errors": int(bad.group(1)) if bad else 0,
        "socket_errors": sockets.group(1) if sockets else "none",
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
    }


def measure(wrk: str, base: str, path: str, *, method: str, codes: Path, seconds: int,
            connections: int) -> dict:  # fmt: skip
    env = {"LANDING_CODES": str(codes), "LANDING_METHOD": method}
    if method == "GET":  # a POST's warm-up would use up links
        run_wrk(wrk, base + path, seconds=WARM_UP_SECONDS, connections=connections, env=env)
    return run_wrk(wrk, base + path, seconds=seconds, connections=connections, env=env)


def landing_part(*, out: Path) -> None:
    if connection.vendor != "postgresql":
        note("landing: skipped; it measures PostgreSQL, as production runs: set DATABASE_URL")
        return
    wrk = _wrk()
    if wrk is None:
        note("landing: skipped; it needs wrk (apt-get install wrk)")
        return
    seconds = int(os.environ.get("BENCH_LANDING_SECONDS", "15"))
    connections = int(os.environ.get("BENCH_LANDING_CONNECTIONS", "32"))
    workers = int(os.environ.get("BENCH_LANDING_WORKERS", "2"))
    links = int(os.environ.get("BENCH_LANDING_LINKS", "10000"))
    out.mkdir(parents=True, exist_ok=True)
    run = stamp()
    company = Company.objects.create(name=f"Bench {run}", slug=f"bench-{run}", default_country="NL")
    server = None
    try:
        codes = make_links(company, links, out)
        port = _free_port()
        server = start_gunicorn(port=port, workers=workers, log=out / f"gunicorn-{run}.log")
        base = f"http://127.0.0.1:{port}"
        kw = {"codes": codes, "seconds": seconds, "connections": connections}
        floor = measure(wrk, base, "/bench/floor", method="FLOOR", **kw)
        get = measure(wrk, base, "/", method="GET", **kw)
        post = measure(wrk, base, "/", method="POST", **kw)
        opted_out = Suppression.objects.filter(company=company).count()
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        cb.delete_company(company)
    note(
        f"gunicorn {workers} sync workers, wrk {connections} connections, {seconds} s each; "
        f"{links} links; {post['requests']} POSTs opted {opted_out} distinct numbers out"
    )
    for name, result in (("floor", floor), ("get", get), ("post", post)):
        note(f"{name}: {result['requests']} requests, socket errors {result['socket_errors']}")
    bench("landing_floor_rps", floor["rps"], "req/s")
    bench("landing_get_rps", get["rps"], "req/s")
    bench("landing_get_p99_ms", get["p99_ms"], "ms")
    bench("landing_post_rps", post["rps"], "req/s")
    bench("landing_post_p99_ms", post["p99_ms"], "ms")
    bench("landing_get_vs_floor", 100 * get["rps"] / max(floor["rps"], 0.1), "%")
    errors = floor["errors"] + get["errors"] + post["errors"]
    bench("landing_errors", errors, "non-2xx/3xx answers")


if __name__ == "__main__":
    sys.exit("run through bench.run: BENCH_ONLY=landing make bench")
