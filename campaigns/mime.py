"""A campaign's email, its bytes built directly instead of through the email package.

Django's ``EmailMessage.message()`` builds a tree of MIME objects, checks and encodes every
header on setting it, and the generator then folds every header and looks for a boundary
that is in no part; for a campaign's messages, which differ only in their subject, address,
bodies and links, that was most of a worker's time. ``CampaignEmail`` is an
``EmailMultiAlternatives`` (backends and tests read its attributes as before) whose
``message()`` writes the same headers and parts straight to bytes: what is the same for
every message of a sender (the From, encoded) once per process, the rest with the shortest
way that gives what Django's would. Anything outside the plain case (attachments, Cc,
headers other than the unsubscribe ones, a line over 998 bytes, a line break in a header,
another charset) is left to Django's own ``message()``.

The bytes are what Django's would be, byte for byte, except for the Date, the Message-ID
and the boundary (made the same way, fresh for each message) and a subject with characters
outside ASCII, which is encoded in RFC 2047 words of its own cut (decoded, the same text).
``message()`` still returns a real, mutable ``email.message.Message`` tree (some services'
backends add headers to it); ``as_bytes()`` returns the bytes built with it while the tree
is as built, and runs the email package's generator once anything in it changed.
"""

import random
import re
import sys
import time
from binascii import b2a_base64
from email._policybase import compat32
from email.message import Message
from email.utils import formatdate, make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import (
    RFC5322_EMAIL_LINE_LENGTH_LIMIT,
    SafeMIMEMultipart,
    SafeMIMEText,
    forbid_multi_line_headers,
    utf8_charset,
)
from django.core.mail.utils import DNS_NAME

MAX_LINE = 78  # where the email package folds a header (compat32)
_FOLD = compat32.clone(linesep="\r\n")
_NEWLINES = re.compile(r"\r\n|\r|\n")
EXTRA_HEADERS = frozenset({"List-Unsubscribe", "List-Unsubscribe-Post"})
_BOUNDARY_DIGITS = len(repr(sys.maxsize - 1))  # the generator's own width


def _simple(name: str, value: str) -> bool:
    """Short, printable ASCII with single spaces: the email package leaves it as it is."""
    return (
        len(name) + 2 + len(value) <= MAX_LINE
        and value != ""
        and value.isascii()
        and value.isprintable()
        and "  " not in value
        and value[0] != " "
        and value[-1] != " "
    )


def _folded(name: str, value: str) -> bytes | None:
    """The line as the email package folds printable ASCII words (no ";", a "," only at a
    word's end: links, addresses, dates): as many words on a line as fit, the next on a
    line of its own that starts with a space, a word longer than a line left whole. None
    for other values."""
    if not (value.isascii() and value.isprintable()):
        return None
    words = value.split(" ")
    for word in words:
        if not word or ";" in word or "," in word[:-1]:
            return None
    lines, line, room = [], "", MAX_LINE - len(name) - 2
    for word in words:
        longer = f"{line} {word}" if line else word
        if len(longer) <= room:
            line = longer
        else:
            lines.append(line)
            line, room = word, MAX_LINE - 1
    lines.append(line)
    return (f"{name}: " + "\r\n ".join(lines) + "\r\n").encode("ascii")


def header(name: str, value: str) -> tuple[bytes, str]:
    """The header's line as Django's ``message()`` and the email package's generator
    write it, and its value as Django's message tree keeps it."""
    if _simple(name, value):
        return f"{name}: {value}\r\n".encode("ascii"), value
    if name != "Subject":  # which Django encodes once more before it is folded
        line = _folded(name, value)
        if line is not None:
            return line, value
    name, kept = forbid_multi_line_headers(name, value, "utf-8")
    return _FOLD.fold_binary(name, kept), kept


# RFC 2047 encoded words, base64 ("B"): as many whole characters in each as fit a line
# beside the header's name, "=?utf-8?b?" and "?=".
_WORD_BYTES = (MAX_LINE - len("Subject: ") - len("=?utf-8?b??=")) // 4 * 3


def encoded_words(value: str) -> list[str]:
    """The text as RFC 2047 encoded words (UTF-8, base64), each fitting a folded line beside
    the header's name, never cutting a character in two; decoded, they are the text."""
    data, words, start = value.encode("utf-8"), [], 0
    while start < len(data):
        end = min(start + _WORD_BYTES, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # inside a character
            end -= 1
        words.append(f"=?utf-8?b?{b2a_base64(data[start:end], newline=False).decode()}?=")
        start = end
    return words


def subject_header(subject: str) -> tuple[bytes, str]:
    """The Subject header line, and its value as the message tree keeps it."""
    if subject.isascii():
        return header("Subject", subject)
    words = encoded_words(subject)
    return ("Subject: " + "\r\n ".join(words) + "\r\n").encode("ascii"), " ".join(words)


class _Sender:
    """What is the same in every message from one From: its header line and value, made
    by Django's and the email package's own code, once."""

    def __init__(self, from_email: str):
        name, self.value = forbid_multi_line_headers("From", from_email, "utf-8")
        self.line = _FOLD.fold_binary(name, self.value)


_senders: dict[str, _Sender] = {}
_date: tuple[int, bool, str] = (0, False, "")


def _sender(from_email: str) -> _Sender:
    sender = _senders.get(from_email)
    if sender is None:
        if len(_senders) > 256:
            _senders.clear()
        sender = _senders[from_email] = _Sender(from_email)
    return sender


def _date_value() -> str:
    """formatdate() as Django calls it, once a second: it only has whole seconds."""
    global _date
    now, local = int(time.time()), settings.EMAIL_USE_LOCALTIME
    if _date[:2] != (now, local):
        _date = (now, local, formatdate(now, localtime=local))
    return _date[2]


def _new_boundary() -> str:
    # As the email package's generator makes one.
    return "=" * 15 + f"{random.randrange(sys.maxsize):0{_BOUNDARY_DIGITS}d}" + "=="


class _Prebuilt:
    """A message tree that keeps the bytes it was built with, for as long as it is
    unchanged (its headers, its parts, and theirs)."""

    _prebuilt: bytes
    _snapshot: tuple

    def _state(self) -> tuple:
        parts = self._payload if isinstance(self._payload, list) else []
        return (
            list(self._headers),
            self._payload if not parts else list(parts),
            [(list(p._headers), p._payload) for p in parts],
            self.preamble,
            self.epilogue,
            self._unixfrom,
        )

    def as_bytes(self, unixfrom=False, linesep="\n"):
        if not unixfrom and self._state() == self._snapshot:
            data = self._prebuilt
            return data if linesep == "\r\n" else data.replace(b"\r\n", linesep.encode())
        return super().as_bytes(unixfrom=unixfrom, linesep=linesep)


class _PrebuiltMultipart(_Prebuilt, SafeMIMEMultipart):
    pass


class _PrebuiltText(_Prebuilt, SafeMIMEText):
    pass


def _tree(cls, headers: list[tuple[str, str]], payload):
    """A message object as Django's classes make it, without their per-header checks."""
    message = cls.__new__(cls)
    Message.__init__(message)
    message._headers = headers
    message._payload = payload
    message.encoding = "utf-8"
    if not isinstance(payload, list):
        message._charset = utf8_charset
    return message


def _text_part(content: str, subtype: str) -> tuple[list, str, bytes, bytes] | None:
    """A text part's headers and payload as the email package keeps them, and its header
    and body bytes; None when Django would quote-print it (a line over 998 bytes)."""
    data = content.encode("utf-8")
    if len(data) > RFC5322_EMAIL_LINE_LENGTH_LIMIT and any(
        len(line.encode(errors="surrogateescape")) > RFC5322_EMAIL_LINE_LENGTH_LIMIT
        for line in content.splitlines()
    ):
        return None
    cte = "7bit" if len(data) == len(content) else "8bit"
    headers = [
        ("Content-Type", f'text/{subtype}; charset="utf-8"'),
        ("MIME-Version", "1.0"),
        ("Content-Transfer-Encoding", cte),
    ]
    head = (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        f"MIME-Version: 1.0\r\nContent-Transfer-Encoding: {cte}\r\n"
    )
    body = _NEWLINES.sub("\r\n", content).encode("utf-8")
    return headers, data.decode("ascii", "surrogateescape"), head.encode("ascii"), body


class CampaignEmail(EmailMultiAlternatives):
    """A campaign's email: plain text, an HTML alternative or not, and the unsubscribe
    headers; its ``message()`` is built as described above."""

    def message(self):
        return self._fast_message() or super().message()

    def _plain_case(self) -> bool:
        alternatives = self.alternatives
        return (
            not (self.cc or self.bcc or self.reply_to or self.attachments or self.encoding)
            and len(self.to) == 1
            and bool(self.body)
            and settings.DEFAULT_CHARSET.lower() == "utf-8"
            and self.extra_headers.keys() <= EXTRA_HEADERS
            and (not alternatives or (len(alternatives) == 1 and alternatives[0][1] == "text/html"))
            and type(self).content_subtype == "plain"
        )

    def _fast_message(self):
        if not self._plain_case():
            return None
        subject, to = str(self.subject), str(self.to[0])
        extra = [(name, str(value)) for name, value in self.extra_headers.items()]
        for value in (subject, to, *(v for _, v in extra)):
            if "\n" in value or "\r" in value:
                return None  # Django's says why it cannot be sent
        try:
            subject_line, subject_value = subject_header(subject)
            to_line, to_value = header("To", to)
        except (UnicodeEncodeError, ValueError):
            return None  # Django's says why it cannot be sent
        sender = _sender(str(self.from_email))
        text = _text_part(self.body, "plain")
        html = _text_part(self.alternatives[0][0], "html") if self.alternatives else None
        if text is None or (self.alternatives and html is None):
            return None
        date, message_id = _date_value(), make_msgid(domain=str(DNS_NAME))
        named = [
            ("Subject", subject_line, subject_value),
            ("From", sender.line, sender.value),
            ("To", to_line, to_value),
            ("Date", *header("Date", date)),
            ("Message-ID", *header("Message-ID", message_id)),
            *((name, *header(name, value)) for name, value in extra),
        ]
        headers = [(name, value) for name, _, value in named]
        lines = [line for _, line, _ in named]
        if html is None:
            text_headers, payload, head, body = text
            message = _tree(_PrebuiltText, text_headers + headers, payload)
            message._prebuilt = b"".join((head, *lines, b"\r\n", body))
        else:
            boundary = _new_boundary()
            while boundary.encode() in text[3] or boundary.encode() in html[3]:
                boundary = _new_boundary()
            parts = [_tree(SafeMIMEText, h, p) for h, p, _, _ in (text, html)]
            content_type = f'multipart/alternative; boundary="{boundary}"'
            root = [("Content-Type", content_type), ("MIME-Version", "1.0")]
            message = _tree(_PrebuiltMultipart, root + headers, parts)
            mark = f"--{boundary}\r\n".encode()
            message._prebuilt = b"".join(
                (
                    f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"\r\n'
                    "MIME-Version: 1.0\r\n".encode(),
                    *lines,
                    b"\r\n",
                    mark,
                    text[2],
                    b"\r\n",
                    text[3],
                    b"\r\n" + mark,
                    html[2],
                    b"\r\n",
                    html[3],
                    f"\r\n--{boundary}--\r\n".encode(),
                )
            )
        message._snapshot = message._state()
        return message
