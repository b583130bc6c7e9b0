"""The embedded broker (config.broker) between real processes: every message arrives whole
and once, and a killed consumer's message is handed out again."""

import multiprocessing
import os
import signal
from collections import Counter
from pathlib import Path
from queue import Empty

import kombu
import pytest

TRANSPORT = "config.broker:Transport"
# fork: the children inherit the test's imports and need nothing of Django.
fork = multiprocessing.get_context("fork")


def _options(folder: Path) -> dict:
    for sub in ("queue", "claimed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "claimed_folder": str(folder / "claimed"),
        "control_folder": str(folder / "control"),
        "polling_interval": 0.01,
    }


def _connection(folder: Path) -> kombu.Connection:
    options = _options(folder)
    return kombu.Connection("filesystem://", transport=TRANSPORT, transport_options=options)


def _put(folder: Path, *bodies: str) -> None:
    with _connection(folder) as connection:
        queue = connection.SimpleQueue("jobs")
        for body in bodies:
            queue.put({"body": body})
        queue.close()


def _take(folder: Path, *, ack: bool = True, timeout: float = 5) -> str | None:
    with _connection(folder) as connection:
        queue = connection.SimpleQueue("jobs")
        try:
            message = queue.get(block=True, timeout=timeout)
        except Empty:
            return None
        if ack:
            message.ack()
        body = message.payload["body"]
        queue.close()
        return body


def _produce(folder: Path, producer: int, count: int) -> None:
    _put(folder, *(f"{producer}-{n}-" + "x" * 4000 for n in range(count)))


def _consume(folder: Path, results, done) -> None:
    taken = []
    with _connection(folder) as connection:
        queue = connection.SimpleQueue("jobs")
        while True:
            try:
                message = queue.get(block=True, timeout=0.2)
            except Empty:
                if done.is_set():
                    break
                continue
            taken.append(message.payload["body"].split("-x")[0])
            message.ack()
    results.put(taken)


def _take_and_die(folder: Path) -> None:
    with _connection(folder) as connection:
        connection.SimpleQueue("jobs").get(block=True, timeout=5)
        os.kill(os.getpid(), signal.SIGKILL)


def _run(target, *args) -> int:
    process = fork.Process(target=target, args=args)
    process.start()
    process.join(timeout=60)
    return process.exitcode


def test_many_producers_and_consumers_get_every_message_once(tmp_path):
    producers, consumers, each = 3, 3, 400
    results, done = fork.Queue(), fork.Event()
    readers = [
        fork.Process(target=_consume, args=(tmp_path, results, done)) for _ in range(consumers)
    ]
    writers = [fork.Process(target=_produce, args=(tmp_path, p, each)) for p in range(producers)]
    for process in readers + writers:
        process.start()
    for process in writers:
        process.join(timeout=120)
        assert process.exitcode == 0
    taken: Counter[str] = Counter()
    done.set()
    # A consumer that died of a half-written message never reports: the get times out.
    for _ in range(consumers):
        taken.update(results.get(timeout=60))
    for process in readers:
        process.join(timeout=30)
        assert process.exitcode == 0

    assert len(taken) == producers * each, "every message arrived"
    assert max(taken.values()) == 1, "none arrived twice"


def test_a_message_taken_by_a_killed_consumer_is_handed_out_again(tmp_path):
    _put(tmp_path, "send chunk 7")

    assert _run(_take_and_die, tmp_path) == -signal.SIGKILL

    assert _take(tmp_path) == "send chunk 7"
    assert _take(tmp_path, timeout=0.5) is None


def test_a_purge_also_drops_what_a_killed_consumer_had_taken(tmp_path):
    _put(tmp_path, "send chunk 7", "send chunk 8")
    assert _run(_take_and_die, tmp_path) == -signal.SIGKILL

    with _connection(tmp_path) as connection:
        assert connection.SimpleQueue("jobs").clear() == 2

    assert _take(tmp_path, timeout=0.5) is None


def test_an_acknowledged_message_is_not_handed_out_again(tmp_path):
    _put(tmp_path, "send chunk 7")

    assert _take(tmp_path) == "send chunk 7"

    assert _take(tmp_path, timeout=0.5) is None


def test_a_message_left_unacknowledged_at_a_clean_stop_comes_back_once(tmp_path):
    _put(tmp_path, "send chunk 7")

    # Closing the connection puts what it did not acknowledge back in the queue.
    assert _take(tmp_path, ack=False) == "send chunk 7"

    assert _take(tmp_path) == "send chunk 7"
    assert _take(tmp_path, timeout=0.5) is None


@pytest.mark.parametrize("garbage", [b"", b'{"body": "half'])
def test_an_unreadable_file_in_the_queue_does_not_stop_the_consumer(tmp_path, garbage):
    _options(tmp_path)
    (tmp_path / "queue" / "0_left-by-an-older-version.jobs.msg").write_bytes(garbage)
    _put(tmp_path, "send chunk 7")

    assert _take(tmp_path) == "send chunk 7"
    # Kept aside for a person to look at.
    (aside,) = (tmp_path / "claimed").iterdir()
    assert aside.name.endswith("0_left-by-an-older-version.jobs.msg.unreadable")
    assert aside.read_bytes() == garbage
