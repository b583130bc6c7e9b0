"""A fake CM.com gateway: a real HTTP server on 127.0.0.1 speaking ``POST /v1.0/message``.

Tests in this process read what it received; Celery workers in other processes reach it
over HTTP at ``gateway.url`` (see ``FakeGateway.env``). Faults are queued and each one
answers one request, in the order they were queued.
"""

import contextlib
import json
import re
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

MESSAGE_PATH = "/v1.0/message"
TOKEN_HEADER = "X-CM-PRODUCTTOKEN"
DEFAULT_TOKEN = "00000000-0000-4000-8000-000000000000"
NUMBER = re.compile(r"00[1-9][0-9]{5,14}")
SENDER = re.compile(r"[0-9]{1,16}|[A-Za-z0-9 ]{1,11}")


@dataclass(frozen=True)
class _Fault:
    kind: str  # "fail", "timeout", "malformed" or "answer"
    status: int = 200
    seconds: float = 0.0
    details: str = ""


@dataclass
class _Answer:
    status: int
    body: bytes
    content_type: str = "application/json"


class FakeGateway:
    """Records every request and each message it accepted; thread-safe."""

    def __init__(self, token: str = DEFAULT_TOKEN):
        self.token = token
        self.received: list[dict] = []
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._seen = threading.Condition(self._lock)
        self._faults: deque[_Fault] = deque()
        self._rejected: dict[str, str] = {}
        self._released = threading.Event()
        self._released.set()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        # Polled often, so that stopping takes milliseconds rather than half a second.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def env(self) -> dict[str, str]:
        """Settings (as environment variables) that send through this gateway."""
        return {
            "SMS_BACKEND": "campaigns.backends.cm.CmBackend",
            "CM_BASE_URL": self.url,
            "CM_PRODUCT_TOKEN": self.token,
        }

    def start(self) -> "FakeGateway":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.release()
        self._server.shutdown()
        # Kept-alive connections would otherwise go on being served by this gateway.
        with self._lock:
            for connection in self._connections:
                _close(connection)
        self._server.server_close()
        self._thread.join(timeout=5)

    # --- fault injection ----------------------------------------------------------
    def fail_next(self, n: int = 1, status: int = 500) -> None:
        self._queue(n, _Fault("fail", status=status))

    def timeout_next(self, n: int = 1, seconds: float = 1.0) -> None:
        """Answer only after ``seconds`` (longer than the client's timeout). The messages
        are not counted as received, though a real gateway might have taken them."""
        self._queue(n, _Fault("timeout", seconds=seconds))

    def malformed_next(self, n: int = 1, status: int = 200) -> None:
        """Answer with a body that is not JSON; with a 2xx the messages were received."""
        self._queue(n, _Fault("malformed", status=status))

    def answer_next(self, n: int = 1, status: int = 400, details: str = "Bad request") -> None:
        self._queue(n, _Fault("answer", status=status, details=details))

    def reject_numbers(self, numbers: set[str], details: str = "Invalid recipient") -> None:
        """Reject messages to these ``00…`` numbers, each in an otherwise normal 200."""
        with self._lock:
            self._rejected.update(dict.fromkeys(numbers, details))

    def hold(self) -> None:
        """Keep requests waiting for an answer until ``release``. Their messages count as
        received first: a gateway that took them but whose reply never made it back."""
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    # --- what it saw --------------------------------------------------------------
    def wait_for_requests(self, n: int, timeout: float = 10) -> list[dict]:
        with self._seen:
            if not self._seen.wait_for(lambda: len(self.requests) >= n, timeout=timeout):
                raise AssertionError(f"{len(self.requests)} request(s) within {timeout}s, not {n}")
            return list(self.requests)

    def count_by_reference(self) -> Counter:
        with self._lock:
            return Counter(message["reference"] for message in self.received)

    # --- serving ------------------------------------------------------------------
    def _queue(self, n: int, fault: _Fault) -> None:
        with self._lock:
            self._faults.extend([fault] * n)

    def answer(self, path: str, token: str, raw: bytes, peer: str = "") -> tuple[_Answer, float]:
        """The answer to one request, and how long to wait before giving it."""
        payload = _json_or_none(raw)
        with self._seen:
            answer, fault, accepted = self._decide(path, token, payload)
            self.requests.append(
                {
                    "path": path,
                    "token": token,
                    "body": payload,
                    "status": answer.status,
                    "fault": fault.kind if fault else "",
                    "at": time.monotonic(),
                    "peer": peer,  # host:port of the client's connection
                }
            )
            self.received.extend(accepted)
            self._seen.notify_all()
        return answer, fault.seconds if fault else 0.0

    def _decide(self, path: str, token: str, payload) -> tuple[_Answer, _Fault | None, list]:
        """The answer, the fault that shaped it, and the messages taken."""
        if path != MESSAGE_PATH:
            return _json(404, f"No such path: {path}", 404), None, []
        if token != self.token:
            return _json(401, "No account found for the given authentication", 101), None, []
        batch = _batch(payload)
        if batch is None:
            return _json(400, "Invalid JSON: expected messages.msg", 201), None, []
        fault = self._faults.popleft() if self._faults else None
        if fault is None:
            answer, accepted = self._accept(batch)
            return answer, None, accepted
        if fault.kind == "timeout":
            # Answered after the client has gone, so the test never counts them as sent.
            return self._accept(batch)[0], fault, []
        if fault.kind == "malformed":
            accepted = self._accept(batch)[1] if fault.status < 300 else []
            return _Answer(fault.status, b"<html>Oops</html>", "text/html"), fault, accepted
        if fault.kind == "answer":
            return _json(fault.status, fault.details, 201), fault, []
        return _json(fault.status, "Internal server error", 999), fault, []

    def _accept(self, batch: list[dict]) -> tuple[_Answer, list[dict]]:
        entries, accepted = self._process(batch)
        return _json(200, f"Created {len(accepted)} message(s)", 0, entries), accepted

    def _process(self, batch: list[dict]) -> tuple[list[dict], list[dict]]:
        """Per-message entries of the reply, and the messages accepted."""
        entries, accepted = [], []
        for message in batch:
            for recipient in message.get("to") or [{}]:
                number = str(recipient.get("number", ""))
                problem = self._problem(message, number)
                entries.append(_entry(message, number, problem))
                if not problem:
                    accepted.append(_received(message, number))
        return entries, accepted

    def _problem(self, message: dict, number: str) -> str:
        if number in self._rejected:
            return self._rejected[number]
        if not NUMBER.fullmatch(number):
            return f"Gsm '{number}' is not a number."
        if not SENDER.fullmatch(str(message.get("from", ""))):
            return "Invalid sender: up to 16 digits or 11 letters and digits."
        body = message.get("body") or {}
        if body.get("type") != "auto" or not body.get("content"):
            return "No message content."
        return ""

    def _track(self, connection: socket.socket, open_: bool) -> None:
        with self._lock:
            (self._connections.add if open_ else self._connections.discard)(connection)


def _handler_for(gateway: FakeGateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like CM

        def setup(self) -> None:
            super().setup()
            gateway._track(self.connection, True)

        def finish(self) -> None:
            gateway._track(self.connection, False)
            super().finish()

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            peer = "{}:{}".format(*self.client_address[:2])
            token = self.headers.get(TOKEN_HEADER, "")
            answer, delay = gateway.answer(self.path, token, raw, peer)
            if delay:
                gateway._stopping.wait(delay)
            elif not gateway._released.is_set():
                gateway._released.wait()
            self._send(answer)

        def _send(self, answer: _Answer) -> None:
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)
            except OSError:
                self.close_connection = True  # the client gave up waiting

        def log_message(self, format: str, *args) -> None:
            pass  # tests read gateway.requests instead

    return Handler


def _close(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by the client
        connection.shutdown(socket.SHUT_RDWR)


def _json_or_none(raw: bytes):
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def _batch(payload) -> list[dict] | None:
    try:
        batch = payload["messages"]["msg"]
    except (TypeError, KeyError):
        return None
    if isinstance(batch, list) and batch and all(isinstance(m, dict) for m in batch):
        return batch
    return None


def _json(status: int, details: str, error_code: int, messages: list | None = None) -> _Answer:
    body = {"details": details, "errorCode": error_code, "messages": messages or []}
    return _Answer(status, json.dumps(body).encode())


def _entry(message: dict, number: str, problem: str) -> dict:
    return {
        "to": number,
        "status": "Rejected" if problem else "Accepted",
        "reference": message.get("reference"),
        "parts": 0 if problem else 1,
        "messageDetails": problem or None,
        "messageErrorCode": 304 if problem else 0,
    }


def _received(message: dict, number: str) -> dict:
    return {
        "reference": message.get("reference"),
        "number": number,
        "from": message.get("from"),
        "content": (message.get("body") or {}).get("content"),
        "at": time.monotonic(),
    }


@pytest.fixture
def fake_gateway() -> Iterator[FakeGateway]:
    gateway = FakeGateway().start()
    try:
        yield gateway
    finally:
        gateway.stop()


if __name__ == "__main__":
    # A gateway to point a trial at by hand: CM_BASE_URL=<url> CM_PRODUCT_TOKEN=<token>.
    gateway = FakeGateway().start()
    print(f"CM_BASE_URL={gateway.url}\nCM_PRODUCT_TOKEN={gateway.token}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        gateway.stop()
