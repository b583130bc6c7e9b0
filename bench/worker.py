"""A real Celery worker in a subprocess, and its memory watched from /proc."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CELERY = Path(sys.executable).parent / "celery"


def _status_kb(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, ValueError):
        pass
    return 0


def _tree(pid: int) -> list[int]:
    """The process and its descendants (a solo worker has none; a prefork one has some)."""
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    todo.extend(int(child) for child in f.read().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return pids


class Worker:
    """``celery -A config worker -P solo -c 1`` on a queue of its own, sampled every 50 ms."""

    def __init__(
        self,
        *,
        queue: str,
        hostname: str,
        log: Path,
        interval: float = 0.05,
        env: dict[str, str] | None = None,
        include: str = "bench.ready",
    ):
        self.queue, self.hostname, self.log_path = queue, hostname, log
        self.interval = interval
        self.env, self.include = env or {}, include
        self.process: subprocess.Popen | None = None
        self.peak_rss_kb = 0
        self._stop = threading.Event()
        self._sampler: threading.Thread | None = None

    @property
    def ready_file(self) -> Path:
        return self.log_path.with_suffix(".ready")

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.ready_file.unlink(missing_ok=True)
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            [
                str(CELERY), "-A", "config", "worker", "-P", "solo", "-c", "1",
                "--loglevel=warning", "-Q", self.queue, "-n", self.hostname,
                "--without-gossip", "--without-mingle", "--without-heartbeat",
                "--include", self.include,
            ],
            cwd=ROOT,
            env={**os.environ, **self.env, "BENCH_READY_FILE": str(self.ready_file)},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip

    def wait_ready(self, timeout: float = 60) -> None:
        """Until the worker consumes (bench.ready): its boot is not part of the import."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            if self.ready_file.exists():
                return
            time.sleep(0.05)
        raise RuntimeError(f"The worker did not answer in {timeout} s; see {self.log_path}")

    def check_alive(self) -> None:
        if self.process is None or self.process.poll() is not None:
            raise RuntimeError(f"The worker exited; see {self.log_path}")

    def log_tail(self, lines: int = 30) -> list[str]:
        try:
            return self.log_path.read_text(errors="replace").splitlines()[-lines:]
        except FileNotFoundError:
            return []

    @property
    def rss_kb(self) -> int:
        return sum(_status_kb(pid, "VmRSS") for pid in _tree(self.process.pid))

    def start_sampling(self) -> None:
        self.peak_rss_kb = self.rss_kb
        self._stop.clear()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak_rss_kb = max(self.peak_rss_kb, self.rss_kb)

    def stop_sampling(self) -> int:
        """The peak: the samples' maximum or the kernel's high-water mark, if higher."""
        self._stop.set()
        if self._sampler:
            self._sampler.join()
        hwm = sum(_status_kb(pid, "VmHWM") for pid in _tree(self.process.pid))
        self.peak_rss_kb = max(self.peak_rss_kb, hwm)
        return self.peak_rss_kb

    def stop(self, timeout: float = 30) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # warm shutdown
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        self.ready_file.unlink(missing_ok=True)
