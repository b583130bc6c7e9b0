"""bin/run-trial on a terminal of its own (a pty): a worker that dies is started again,
Ctrl-C stops the web server, the worker and the beat inside it, and what the terminal shows
is worth reading: each line once, no line for htmx's polls, the demo's logins at the end of
the start-up, no error or traceback on the way out."""

import fcntl
import os
import re
import select
import signal
import socket
import subprocess
import termios
import time
import urllib.request
from pathlib import Path

import pytest

from .conftest import ROOT


class Terminal:
    """The trial's terminal: what it printed, and a keyboard."""

    def __init__(self, tmp_path) -> None:
        self.master, slave = os.openpty()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = trial_env(tmp_path)
        self.process = subprocess.Popen(
            [ROOT / "bin/run-trial", f"127.0.0.1:{self.port}"],
            cwd=ROOT,
            env=env,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
            # The pty becomes the trial's controlling terminal, so ^C is a real Ctrl-C.
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
        )
        os.close(slave)
        self.output, self.seen = "", 0

    def expect(self, pattern: str, timeout: float = 60) -> re.Match:
        """The next match of pattern in what the trial prints from here on."""
        deadline = time.monotonic() + timeout
        while True:
            match = re.compile(pattern).search(self.output, self.seen)
            if match:
                self.seen = match.end()
                return match
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {pattern!r} in:\n{self.output[-4000:]}")
            if select.select([self.master], [], [], min(left, 0.5))[0]:
                try:
                    self.output += os.read(self.master, 65536).decode(errors="replace")
                except OSError:  # the trial and all it started closed the terminal
                    time.sleep(0.1)

    def rest(self, timeout: float = 60) -> str:
        """Everything printed until the trial and all it started closed the terminal."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if select.select([self.master], [], [], 0.5)[0]:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    return self.output
                if not chunk:
                    return self.output
                self.output += chunk.decode(errors="replace")
        raise AssertionError(f"the terminal stayed open:\n{self.output[-4000:]}")

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        os.close(self.master)


def trial_env(tmp_path: Path) -> dict[str, str]:
    """The trial's own SQLite database and broker folder, as on a newcomer's machine."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "CELERY_BROKER_URL", "CACHE_URL", "SEND_HOURS_AT")
    }
    return env | {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'trial.sqlite3'}",
        "CELERY_FILESYSTEM_DIR": str(tmp_path / "celery"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }


@pytest.fixture
def seeded(tmp_path):
    """What `make run` does before it starts the trial: migrate and seed the demo."""
    for command in (["migrate", "--noinput"], ["seed_demo"]):
        subprocess.run(
            [ROOT / ".venv/bin/python", "manage.py", *command],
            cwd=ROOT,
            env=trial_env(tmp_path),
            check=True,
            capture_output=True,
        )


@pytest.fixture
def terminal(tmp_path):
    terminal = Terminal(tmp_path)
    try:
        yield terminal
    finally:
        terminal.close()


def _gone(group: int, patience: float = 10) -> bool:
    """No process of the group runs any more (a killed one's zombie does not count: in a
    container nobody may reap it)."""
    deadline = time.monotonic() + patience
    while True:
        running = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == group and fields[0] != "Z":
                running.append(stat.parent.name)
        if not running:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)


def _answers(port: int, patience: float = 30) -> bool:
    deadline = time.monotonic() + patience
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            return True
        except OSError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)


def test_a_dead_worker_is_started_again_and_ctrl_c_stops_everything(terminal):
    first = int(terminal.expect(r"worker started \(pid (\d+)\)").group(1))
    terminal.expect(r"celery@\S+ ready")

    os.kill(first, signal.SIGKILL)

    terminal.expect(r"the worker stopped \(killed by SIGKILL\); starting it again in 1 s")
    second = int(terminal.expect(r"worker started \(pid (\d+)\)").group(1))
    assert second != first
    assert _gone(first), "the dead worker's beat went with it"
    terminal.expect(r"celery@\S+ ready")
    assert _answers(terminal.port), "the web server kept running"

    terminal.type(b"\x03")

    terminal.expect(r"stopping the worker and the web server")
    assert terminal.process.wait(timeout=60) == 0
    assert _gone(second), "no worker or beat outlives the trial"
    assert not _answers(terminal.port, patience=0)


def _get(url: str, headers: dict | None = None) -> int:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {})) as answer:
        return answer.status


def test_the_terminal_shows_each_line_once_the_logins_last_and_no_error(seeded, terminal):
    terminal.expect(r"celery@\S+ ready")
    terminal.expect(rf"\[trial\] web: http://127\.0\.0\.1:{terminal.port}/")
    # The logins come after the start-up's lines, where the newcomer's eyes are.
    terminal.expect(r"anna / demo-pass-2026 +— owner, Acme Coffee")
    terminal.expect(r"admin / demo-pass-2026 +— staff admin \(/admin/\)")

    base = f"http://127.0.0.1:{terminal.port}"
    assert _get(f"{base}/login/?poll=1", headers={"HX-Request": "true"}) == 200
    assert _get(f"{base}/login/?page=1") == 200
    terminal.expect(r'"GET /login/\?page=1 HTTP/1\.1" 200')

    terminal.type(b"\x03")

    terminal.expect(r"stopping the worker and the web server")
    assert terminal.process.wait(timeout=60) == 0
    output = terminal.rest()
    assert output.count("GET /login/?page=1 HTTP/1.1") == 1
    assert output.count(" ready.") == 1
    assert "poll=1" not in output
    assert "ERROR" not in output and "Traceback" not in output, output[-4000:]


def test_ctrl_c_while_it_starts_stops_it_without_a_traceback(terminal):
    terminal.expect(r"starting the web server")

    terminal.type(b"\x03")

    terminal.expect(r"stopping the worker and the web server")
    assert terminal.process.wait(timeout=60) == 0
    output = terminal.rest()
    assert "ERROR" not in output and "Traceback" not in output, output[-4000:]
    assert not _answers(terminal.port, patience=0)


def test_a_killed_trial_leaves_nothing_running(terminal):
    worker = int(terminal.expect(r"worker started \(pid (\d+)\)").group(1))
    terminal.expect(r"celery@\S+ ready")
    assert _answers(terminal.port), "the web server runs"

    os.kill(terminal.process.pid, signal.SIGKILL)  # the trial alone, not its group
    terminal.process.wait()

    assert _gone(worker, patience=30), "the worker and its beat stop with the trial"
    deadline = time.monotonic() + 30
    while _answers(terminal.port, patience=0) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _answers(terminal.port, patience=0), "the web server stops with the trial"
