"""A customer's webhook receiver: a real HTTP server on 127.0.0.1 that records each POST.

It answers from a script (``answer_next(500, 500)``), then with its default status. The
wire format is checked here as a receiver would check it, written out rather than
borrowed from the product's code, so a change to the format breaks these tests.
"""

import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from hashlib import sha256
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    def signed_with(self, secret: str) -> bool:
        """The receiver's check: one of the signatures is HMAC-SHA256("<timestamp>.<body>")."""
        stamp = self.headers["X-Webhook-Timestamp"]
        expected = (
            "sha256="
            + hmac.new(secret.encode(), f"{stamp}.".encode() + self.body, sha256).hexdigest()
        )
        given = self.headers["X-Webhook-Signature"].split()
        return any(hmac.compare_digest(expected, signature) for signature in given)


@dataclass
class Receiver:
    default_status: int = 200
    received: list[Received] = field(default_factory=list)
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None
    # Called with each request before it is answered: what the customer's side does then.
    on_request: Callable[[Received], None] | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks/optout"

    def answer_next(self, *statuses: int, headers: dict[str, str] | None = None) -> None:
        with self.lock:
            self.script.extend((status, headers or {}) for status in statuses)

    def wait_for(self, n: int, timeout: float = 30) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= n:
                    return list(self.received)
            time.sleep(0.02)
        raise AssertionError(f"{len(self.received)} of {n} webhook requests arrived")

    def _answer(self, request: Received) -> tuple[int, dict[str, str]]:
        if self.on_request:
            self.on_request(request)
        with self.lock:
            self.received.append(request)
            return self.script.pop(0) if self.script else (self.default_status, {})

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Received(self.path, dict(self.headers.items()), self.rfile.read(length))
                status, headers = receiver._answer(request)
                body = json.dumps({"received": status < 300}).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
