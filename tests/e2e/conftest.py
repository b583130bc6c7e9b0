import contextlib
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]
WORKER = [".venv/bin/celery", "-A", "config", "worker", "-P", "solo", "-c", "1"]


def database_url() -> str:
    """The test database, as a worker process must be told where it is."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    assert db["ENGINE"] == "django.db.backends.postgresql", db["ENGINE"]
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "localhost"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{auth}@{host}{port}/{db['NAME']}"


@pytest.fixture
def start_worker_process(tmp_path) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start real worker processes on the test database; none outlives the test.

    ``env`` adds settings; ``beat`` runs the scheduler inside the worker, as the trial does.
    """
    base_env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "IMPORT_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SEND_HOURS_AT": settings.SEND_HOURS_AT,
    }
    started: list[subprocess.Popen] = []

    def start(env: dict[str, str] | None = None, *, beat: bool = False) -> subprocess.Popen:
        log = open(tmp_path / f"worker-{len(started)}.log", "wb")  # noqa: SIM115
        extra = ["--beat", f"--schedule={tmp_path / 'beat-schedule'}"] if beat else []
        process = subprocess.Popen(
            [*WORKER, *extra, "--loglevel=warning"],
            cwd=ROOT,
            env={**base_env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            # A group of its own: the embedded beat is a child process, which must not
            # outlive the test when the worker itself is killed.
            start_new_session=True,
        )
        log.close()
        started.append(process)
        return process

    celery_app.control.purge()
    try:
        yield start
    finally:
        for process in started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        celery_app.control.purge()


def worker_logs(tmp_path: Path) -> str:
    """Every worker's log, each under its name: what a failed test shows."""
    logs = sorted(tmp_path.glob("worker-*.log"), key=lambda p: int(p.stem.split("-")[1]))
    return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')}" for log in logs)
