"""bin/run-trial on a terminal of its own (a pty): a worker that dies is started again, and
Ctrl-C stops the web server, the worker and the beat inside it."""

import fcntl
import os
import re
import select
import signal
import socket
import subprocess
import termios
import time
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
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("REDIS_URL", "CELERY_BROKER_URL", "CACHE_URL")
        }
        env |= {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'trial.sqlite3'}",
            "CELERY_FILESYSTEM_DIR": str(tmp_path / "celery"),
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
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

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        os.close(self.master)


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
