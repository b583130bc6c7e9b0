"""Fake Twilio and Vonage SMS APIs: real HTTP servers on 127.0.0.1, in the spirit of
``tests.fakegateway`` (the CM one).

Each records every request and the messages it took; faults are queued and each one
answers one request, in the order they were queued.
"""

import base64
import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest

TWILIO_SID = "AC00000000000000000000000000000001"
TWILIO_TOKEN = "fake-twilio-auth-token-0123456789"
VONAGE_KEY = "abcd1234"
VONAGE_SECRET = "fake-vonage-api-secret"
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
DIGITS = re.compile(r"[1-9][0-9]{6,14}")


@dataclass(frozen=True)
class Fault:
    kind: str  # "fail", "timeout" or "malformed"
    status: int = 500
    seconds: float = 0.0


@dataclass
class Answer:
    status: int
    body: bytes
    content_type: str = "application/json"


def _json(status: int, body: dict) -> Answer:
    return Answer(status, json.dumps(body).encode())


class FakeApi:
    """What both fakes share: the server, the fault queue and the record."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.received: list[dict] = []
        self._lock = threading.Lock()
        self._faults: deque[Fault] = deque()
        self._stopping = threading.Event()
        self._ids = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        self._queue(n, Fault("fail", status=status))

    def timeout_next(self, n: int = 1, seconds: float = 1.0) -> None:
        """Answer only after ``seconds``; the message is not counted as received."""
        self._queue(n, Fault("timeout", seconds=seconds))

    def malformed_next(self, n: int = 1) -> None:
        """A 200 whose body is not JSON; the message was received."""
        self._queue(n, Fault("malformed", status=200))

    def _queue(self, n: int, fault: Fault) -> None:
        with self._lock:
            self._faults.extend([fault] * n)

    def answer(self, path: str, headers, raw: bytes) -> tuple[Answer, float]:
        fields = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        with self._lock:
            fault = self._faults.popleft() if self._faults else None
            if fault is not None and fault.kind == "fail":
                answer, taken = _json(fault.status, {"message": "Internal error"}), []
            else:
                answer, taken = self.decide(path, headers, fields)
            if fault is not None and fault.kind == "timeout":
                taken = []
            if fault is not None and fault.kind == "malformed":
                answer = Answer(200, b"<html>Oops</html>", "text/html")
            self.requests.append(
                {"path": path, "fields": fields, "status": answer.status, "at": time.monotonic()}
            )
            self.received.extend(taken)
        return answer, fault.seconds if fault else 0.0

    def decide(self, path: str, headers, fields: dict) -> tuple[Answer, list[dict]]:
        raise NotImplementedError


class FakeTwilio(FakeApi):
    """``POST /2010-04-01/Accounts/{sid}/Messages.json``, basic auth, form fields."""

    def __init__(self, sid: str = TWILIO_SID, token: str = TWILIO_TOKEN) -> None:
        super().__init__()
        self.sid, self.token = sid, token
        self.rejected: set[str] = set()

    def settings(self) -> dict:
        return {
            "SMS_BACKEND": "campaigns.backends.twilio.TwilioBackend",
            "TWILIO_BASE_URL": self.url,
            "TWILIO_ACCOUNT_SID": self.sid,
            "TWILIO_AUTH_TOKEN": self.token,
        }

    def decide(self, path, headers, fields):
        if path != f"/2010-04-01/Accounts/{self.sid}/Messages.json":
            return _json(404, {"code": 20404, "message": "Not found", "status": 404}), []
        expected = "Basic " + base64.b64encode(f"{self.sid}:{self.token}".encode()).decode()
        if headers.get("Authorization") != expected:
            return _json(401, {"code": 20003, "message": "Authenticate", "status": 401}), []
        to = fields.get("To", "")
        if not E164.fullmatch(to) or to in self.rejected:
            message = f"The 'To' number {to} is not a valid phone number."
            return _json(400, {"code": 21211, "message": message, "status": 400}), []
        if not fields.get("Body"):
            return _json(
                400, {"code": 21602, "message": "Message body is required.", "status": 400}
            ), []
        sid = f"SM{next(self._ids):032x}"
        message = {"sid": sid, "to": to, "from": fields.get("From"), "body": fields["Body"]}
        taken = {**message, "status_callback": fields.get("StatusCallback", "")}
        return _json(201, {**message, "status": "queued", "error_code": None}), [taken]


class FakeVonage(FakeApi):
    """``POST /sms/json`` with api_key and api_secret; one entry per part of the text."""

    def __init__(self, key: str = VONAGE_KEY, secret: str = VONAGE_SECRET) -> None:
        super().__init__()
        self.key, self.secret = key, secret
        self.rejected: set[str] = set()
        self._throttled = 0

    def settings(self) -> dict:
        return {
            "SMS_BACKEND": "campaigns.backends.vonage.VonageBackend",
            "VONAGE_BASE_URL": self.url,
            "VONAGE_API_KEY": self.key,
            "VONAGE_API_SECRET": self.secret,
        }

    def throttle_next(self, n: int = 1) -> None:
        with self._lock:
            self._throttled += n

    def decide(self, path, headers, fields):
        if path != "/sms/json":
            return Answer(404, b"Not found", "text/plain"), []
        if (fields.get("api_key"), fields.get("api_secret")) != (self.key, self.secret):
            return self._refused("4", "Bad Credentials"), []
        if self._throttled:
            self._throttled -= 1
            return self._refused(
                "1", "Throughput Rate Exceeded - please wait [ 1000 ] and retry"
            ), []
        to = fields.get("to", "")
        if not to:
            return self._refused("2", "Missing to param"), []
        if not DIGITS.fullmatch(to) or to in self.rejected:
            return self._refused("29", "Non-Whitelisted Destination"), []
        if not fields.get("text") or not fields.get("from"):
            return self._refused("2", "Missing from or text param"), []
        limit = 70 if fields.get("type") == "unicode" else 160
        parts = max(1, -(-len(fields["text"]) // limit))
        entries = [
            {
                "to": to,
                "message-id": f"{next(self._ids):016X}",
                "status": "0",
                "remaining-balance": "3.14159265",
                "message-price": "0.03330000",
                "network": "20416",
                "client-ref": fields.get("client-ref", ""),
            }
            for _ in range(parts)
        ]
        body = {"message-count": str(parts), "messages": entries}
        return _json(200, body), [{**fields, "message-id": entries[0]["message-id"]}]

    def _refused(self, status: str, text: str) -> Answer:
        return _json(
            200, {"message-count": "1", "messages": [{"status": status, "error-text": text}]}
        )


def _handler_for(api: FakeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            answer, delay = api.answer(self.path, self.headers, raw)
            if delay:
                api._stopping.wait(delay)
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)
            except OSError:
                self.close_connection = True  # the client gave up waiting

        def log_message(self, format: str, *args) -> None:
            pass

    return Handler


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    api = FakeTwilio().start()
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture
def fake_vonage() -> Iterator[FakeVonage]:
    api = FakeVonage().start()
    try:
        yield api
    finally:
        api.stop()
