"""The embedded broker: kombu's filesystem transport, made safe for several processes.

Stock kombu (5.7) loses and corrupts messages under load, all three seen here:

- it creates a message's file and then writes into it, so a worker polling the folder can
  take the file while it is still empty; it dies with ``JSONDecodeError`` and the message
  is gone;
- it takes a message by moving it to the system's temporary folder, which on another
  filesystem is a copy: two workers can both copy, and both run, the same message;
- a message a worker has taken exists only in its memory until acknowledged, so a killed
  worker loses it (the Redis transport hands it out again).

Here a message is written under a hidden name, flushed to disk and renamed into place, so
a reader only ever sees whole messages. A worker claims one by renaming it into
``claimed_folder`` on the same filesystem, which exactly one worker can win, with its
process id in the name, and deletes it when the task is acknowledged. The claims of a
process that no longer runs are put back in the queue: when a channel opens (a worker
starting) and every ``RECOVER_EVERY`` seconds while a worker waits for work.

kombu's SQLAlchemy transport on a SQLite file was measured as the alternative and refused:
with three producers and three consumers it stored 14 messages a second, and consumers
died on ``database is locked``. Like the stock transport, this one serves processes on one
machine (the liveness check is by process id); production runs on Redis.
"""

import contextlib
import logging
import os
import uuid
from queue import Empty
from time import monotonic

from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)

RECOVER_EVERY = 10.0
CLAIM_SEPARATOR = "@"


# Tells this process from an earlier one that had the same id (a restarted container's
# worker often does); a forked child is a process of its own.
_token = uuid.uuid4().hex[:12]


def _new_token() -> None:
    global _token
    _token = uuid.uuid4().hex[:12]


os.register_at_fork(after_in_child=_new_token)


def _owner() -> str:
    return f"{os.getpid()}.{_token}"


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write_atomically(path: str, data: bytes) -> None:
    folder = os.path.dirname(path)
    # Hidden and without the ".msg" ending: no reader takes it for a message.
    temporary = os.path.join(folder, f".{uuid.uuid4().hex}.tmp")
    with open(temporary, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


class Channel(filesystem.Channel):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._claims: dict[str, str] = {}
        self._no_ack_queues: set[str] = set()
        os.makedirs(self.claimed_folder, exist_ok=True)
        self._recovered_at = monotonic()
        self.recover_abandoned()

    @property
    def claimed_folder(self) -> str:
        return self.transport_options.get(
            "claimed_folder", os.path.join(self.data_folder_in, "..", "claimed")
        )

    def _put(self, queue, payload, **kwargs) -> None:
        filename = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        try:
            _write_atomically(
                os.path.join(self.data_folder_out, filename), str_to_bytes(dumps(payload))
            )
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot add {filename!r} to the queue") from exc

    def _get(self, queue):
        if monotonic() - self._recovered_at > RECOVER_EVERY:
            self._recovered_at = monotonic()
            self.recover_abandoned()
        wanted = f"{queue}.msg"
        for filename in sorted(os.listdir(self.data_folder_in)):
            if filename.partition(".")[2] != wanted:
                continue
            claimed = os.path.join(self.claimed_folder, f"{_owner()}{CLAIM_SEPARATOR}{filename}")
            try:
                os.rename(os.path.join(self.data_folder_in, filename), claimed)
            except FileNotFoundError:
                continue  # another worker claimed it first
            with open(claimed, "rb") as f:
                raw = f.read()
            try:
                payload = loads(bytes_to_str(raw))
            except ValueError:
                # Not written by this transport (a stock kombu's half-written file): kept
                # aside for a person to look at, never a crash of the worker.
                os.replace(claimed, claimed + ".unreadable")
                logger.error("Unreadable message set aside: %s", claimed + ".unreadable")
                continue
            tag = payload.get("properties", {}).get("delivery_tag")
            if queue in self._no_ack_queues or tag is None:
                os.remove(claimed)
            else:
                self._claims[tag] = claimed
            return payload
        raise Empty()

    def basic_consume(self, queue, no_ack, *args, **kwargs):
        if no_ack:
            self._no_ack_queues.add(queue)
        return super().basic_consume(queue, no_ack, *args, **kwargs)

    def basic_get(self, queue, no_ack=False, **kwargs):
        message = super().basic_get(queue, no_ack=no_ack, **kwargs)
        if message is not None and no_ack:
            self._release(message.delivery_tag)
        return message

    def basic_ack(self, delivery_tag, multiple=False) -> None:
        super().basic_ack(delivery_tag, multiple=multiple)
        self._release(delivery_tag)

    def basic_reject(self, delivery_tag, requeue=False) -> None:
        # With requeue, kombu puts a copy back through _restore first.
        super().basic_reject(delivery_tag, requeue=requeue)
        self._release(delivery_tag)

    def _restore(self, message) -> None:
        super()._restore(message)
        self._release(message.delivery_tag)

    def _release(self, delivery_tag: str) -> None:
        claimed = self._claims.pop(delivery_tag, None)
        if claimed is not None:
            with contextlib.suppress(FileNotFoundError):
                os.remove(claimed)

    def recover_abandoned(self) -> int:
        """Put back in the queue what processes that no longer run had claimed."""
        me, recovered = _owner(), 0
        for name in os.listdir(self.claimed_folder):
            owner, separator, filename = name.partition(CLAIM_SEPARATOR)
            if not separator or not filename.endswith(".msg") or owner == me:
                continue
            pid, _, _ = owner.partition(".")
            if not pid.isdigit() or (int(pid) != os.getpid() and _is_running(int(pid))):
                continue
            try:
                os.rename(
                    os.path.join(self.claimed_folder, name),
                    os.path.join(self.data_folder_in, filename),
                )
            except FileNotFoundError:
                continue  # another process put it back first
            recovered += 1
        if recovered:
            logger.warning("Put %d message(s) of stopped workers back in the queue", recovered)
        return recovered

    def _purge(self, queue) -> int:
        # What a stopped worker had claimed waits to be delivered again: purged too.
        self.recover_abandoned()
        return super()._purge(queue)

    def _queue_bind(self, exchange, routing_key, pattern, queue) -> None:
        # kombu creates a new exchange file by truncating it and then writing, so a process
        # reading it in between fails on an empty file; create it whole, then let kombu add.
        file = self._exchange_file(exchange)
        if not file.exists():
            self.control_folder.mkdir(parents=True, exist_ok=True)
            temporary = self.control_folder / f".{uuid.uuid4().hex}.tmp"
            temporary.write_bytes(b"[]")
            try:
                os.link(temporary, file)
            except FileExistsError:
                pass
            finally:
                temporary.unlink()
        super()._queue_bind(exchange, routing_key, pattern, queue)


class Transport(filesystem.Transport):
    Channel = Channel
    # kombu remembers declared bindings per process and skips writing them again; kept per
    # control folder, a second broker folder in the same process gets its bindings too.
    states: dict[str, filesystem.virtual.BrokerState] = {}

    def __init__(self, client, **kwargs) -> None:
        super().__init__(client, **kwargs)
        folder = os.path.abspath(client.transport_options.get("control_folder", "control"))
        self.state = self.states.setdefault(folder, filesystem.virtual.BrokerState())
