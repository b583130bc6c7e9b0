"""An SMS gateway that takes everything at once and does nothing, and an email backend
that builds each message as SMTP would send it and sends nothing: the bench measures the
engine, not a network. ``SMS_BACKEND=bench.noop_backend.NoopBackend``,
``EMAIL_BACKEND=bench.noop_backend.NoopEmailBackend``."""

import os
import re

from campaigns.backends import BaseSmsBackend, OutboundSms, SendResult


class NoopBackend(BaseSmsBackend):
    def send_messages(self, batch: list[OutboundSms]) -> list[SendResult]:
        return [SendResult(reference=sms.reference, accepted=True) for sms in batch]


class NoopEmailBackend:
    """An email backend that builds each message's bytes as Django's SMTP backend hands
    them to the server (``message().as_bytes(linesep="\\r\\n")``), and sends nothing.

    Left out: the SMTP backend also parses the envelope's From and To for each message
    (``sanitize_address``, some 130 us a message on the bench's machine, which an email
    service's API backend does not do), and the network.

    With BENCH_EMAIL_LOG set (a folder), it writes there, one file per process, a line per
    message: its id and whether its bytes carry the RFC 8058 headers and the same personal
    link in List-Unsubscribe as in the body; the bench checks them after the campaign.
    """

    def __init__(self, fail_silently=False, **kwargs):
        self.fail_silently = fail_silently
        self.folder = os.environ.get("BENCH_EMAIL_LOG", "")

    def open(self):
        return True

    def close(self):
        pass

    def send_messages(self, email_messages) -> int:
        lines = []
        for email in email_messages:
            email.recipients()
            data = email.message().as_bytes(linesep="\r\n")
            if self.folder:
                lines.append(f"{email.metadata['message']} {_one_click(data)}\n")
        if lines:
            with open(os.path.join(self.folder, f"{os.getpid()}.log"), "a") as f:
                f.writelines(lines)
        return len(email_messages)


def _one_click(data: bytes) -> str:
    """``ok`` when the message's bytes carry RFC 8058's two headers and the https link of
    List-Unsubscribe in the body too; else what is wrong."""
    head, _, body = data.partition(b"\r\n\r\n")
    headers = re.sub(rb"\r\n[ \t]+", b" ", head).split(b"\r\n")  # unfolded
    if b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" not in headers:
        return "no-List-Unsubscribe-Post"
    values = [h[len(b"List-Unsubscribe:") :] for h in headers if h.startswith(b"List-Unsubscribe:")]
    if len(values) != 1:
        return "no-List-Unsubscribe"
    link = re.match(rb"\s*<(https?://[^>]+)>", values[0])
    if link is None:
        return "no-https-link"
    if b"Unsubscribe: " + link.group(1) not in body:
        return "link-not-in-body"
    return "ok"
