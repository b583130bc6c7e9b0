"""A real Celery worker in a subprocess, and its memory watched from /proc."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
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


@contextmanager
def running(workers: list[Worker]):
    """The workers started and consuming, for the ``with`` block; stopped after it. Their
    logs are shown when something went wrong, and deleted when nothing did."""
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.wait_ready()
        yield workers
    except BaseException:
        for worker in workers:
            tail = "\n".join(f"#   {x}" for x in worker.log_tail())
            print(f"# worker log ({worker.log_path}):\n{tail}", flush=True)
        raise
    finally:
        for worker in workers:
            worker.stop()
    for worker in workers:
        worker.log_path.unlink(missing_ok=True)


class CpuMeter:
    """CPU time between start() and stop(): the machine's, and the workers', database's
    (postgres processes, a local server's), broker's (redis-server) and this process's;
    what is left is other processes' on the same machine, which skews the result."""

    GROUPS = ("workers", "database", "broker", "bench process")

    def __init__(self, workers: list[Worker]):
        self.pids = {w.process.pid for w in workers}
        self.tick = os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _machine() -> tuple[int, int]:
        """(all ticks, idle ticks) of all cores, from the first line of /proc/stat."""
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:9]]
        return sum(values), values[3] + values[4]

    def _groups(self) -> Counter:
        ticks: Counter = Counter()
        me = os.getpid()
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat") as f:
                    raw = f.read()
            except OSError:
                continue  # gone meanwhile
            comm, fields = raw[raw.find("(") + 1 : raw.rfind(")")], raw.rsplit(")", 1)[1].split()
            own, reaped = int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])
            pid = int(entry.name)
            if pid in self.pids:
                ticks["workers"] += own + reaped
            elif comm.startswith("postgres"):
                ticks["database"] += own + reaped  # the postmaster counts ended backends
            elif comm.startswith("redis-server"):
                ticks["broker"] += own
            elif pid == me:
                ticks["bench process"] += own
        return ticks

    def start(self) -> None:
        (self.total, self.idle), self.ticks = self._machine(), self._groups()

    def stop(self) -> str:
        (total, idle), ticks = self._machine(), self._groups()
        total, idle = total - self.total, idle - self.idle
        busy = (total - idle) / self.tick
        spent = {g: (ticks[g] - self.ticks[g]) / self.tick for g in self.GROUPS}
        spent["other processes"] = max(0.0, busy - sum(spent.values()))
        return (
            f"CPU: machine {100 * (total - idle) / max(1, total):.0f}% busy "
            f"({os.cpu_count()} cores, {busy:.1f} CPU-s): "
            + ", ".join(f"{g} {v:.1f}" for g, v in spent.items())
        )
