"""Posting to the gateway's webhooks as the gateway does, for any test that needs to.

The wire format is written out here rather than borrowed from ``optout.webhooks``, so a
change to it breaks these tests as it would break the gateway.
"""

import hmac
import time
from hashlib import sha256

from django.http import HttpResponse
from django.test import Client

# Long enough for the check that refuses short secrets outside DEBUG.
WEBHOOK_SECRET = "test-webhook-secret-0123456789abcdef"


def signature(body: bytes, secret: str, timestamp: int | str) -> str:
    """``sha256=<hex HMAC-SHA256 of "<timestamp>." + body>``."""
    signed = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), signed, sha256).hexdigest()


def signed_post(
    client: Client,
    path: str,
    body: bytes,
    *,
    content_type: str = "application/json",
    secret: str = WEBHOOK_SECRET,
    timestamp: int | None = None,
) -> HttpResponse:
    """POST ``body`` to ``path`` signed with ``secret`` at ``timestamp`` (default: now)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return client.post(
        path,
        body,
        content_type=content_type,
        headers={"X-Timestamp": str(timestamp), "X-Signature": signature(body, secret, timestamp)},
    )
