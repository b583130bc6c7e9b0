"""CM.com Business Messaging, through its JSON API (``POST /v1.0/message``).

CM answers when it has taken a request, not when the messages are delivered: delivery
comes later, as a report to our status webhook (see campaigns.hooks).
"""

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .base import UNKNOWN_OUTCOME_PREFIX, BaseSmsBackend, OutboundSms, SendResult

logger = logging.getLogger(__name__)

MESSAGE_PATH = "/v1.0/message"
TOKEN_HEADER = "X-CM-PRODUCTTOKEN"
BACKOFF_CAP_SECONDS = 8.0
MAX_ERROR_LENGTH = 255  # Message.error
MAX_PARTS = 8
# The request never reached CM (refused, reset, or no connection in time): trying again
# is safe. A connect timeout is one of these.
TRANSIENT_ERRORS = (requests.ConnectionError,)
# The request reached CM but its answer did not come back whole: CM may have taken the
# messages. Sending them again could deliver them twice, so they are not; a delivery
# report, if one comes, says whether they arrived.
UNANSWERED_ERRORS = (requests.ReadTimeout, requests.exceptions.ChunkedEncodingError)

_sessions: dict[int, requests.Session] = {}
_sessions_lock = threading.Lock()


def http_session() -> requests.Session:
    """One session per process, so connections to CM are reused; a forked worker gets a
    session of its own rather than sockets it shares with its parent."""
    pid = os.getpid()
    with _sessions_lock:
        if pid not in _sessions:
            _sessions.clear()
            _sessions[pid] = requests.Session()
        return _sessions[pid]


class _Unanswered(Exception):
    """This attempt got no usable answer; another one may."""


class CmBackend(BaseSmsBackend):
    """Hands messages to CM in requests of at most ``CM_BATCH_SIZE``, retrying a request
    CM answered with a 5xx or 429, or that never reached it (connection refused or timed
    out), with capped, fully jittered exponential backoff. A request that reached CM but
    got no answer in time is not sent again (see UNANSWERED_ERRORS)."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        product_token: str | None = None,
        timeout: float | None = None,
        max_attempts: int | None = None,
        retry_backoff: float | None = None,
        batch_size: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.product_token = _given(product_token, settings.CM_PRODUCT_TOKEN)
        if not self.product_token:
            raise ImproperlyConfigured("CM_PRODUCT_TOKEN must be set to send SMS through CM.")
        self.url = _given(base_url, settings.CM_BASE_URL).rstrip("/") + MESSAGE_PATH
        self.timeout = _given(timeout, settings.CM_TIMEOUT)
        self.max_attempts = max(1, _given(max_attempts, settings.CM_MAX_ATTEMPTS))
        self.retry_backoff = _given(retry_backoff, settings.CM_RETRY_BACKOFF)
        self.batch_size = max(1, _given(batch_size, settings.CM_BATCH_SIZE))
        self.sleep = sleep

    def send_messages(self, batch: list[OutboundSms]) -> list[SendResult]:
        results = []
        for part in _slices(batch, self.batch_size):
            results.extend(self._send_request(part))
        return results

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt`` (0 for the first)."""
        return random.uniform(0, min(BACKOFF_CAP_SECONDS, self.retry_backoff * 2**attempt))

    def _send_request(self, part: list[OutboundSms]) -> list[SendResult]:
        payload = {"messages": {"msg": [_cm_message(sms) for sms in part]}}
        for attempt in range(self.max_attempts):
            try:
                return self._attempt(part, payload)
            except _Unanswered as exc:
                problem = str(exc)
            if attempt + 1 < self.max_attempts:
                delay = self.backoff(attempt)
                logger.warning(
                    "CM gateway: %s on attempt %d of %d; retrying in %.2f s",
                    problem,
                    attempt + 1,
                    self.max_attempts,
                    delay,
                )
                self.sleep(delay)
        logger.warning("CM gateway: %s after %d attempts; giving up", problem, self.max_attempts)
        error = _clip(f"CM gateway: {problem} after {self.max_attempts} attempts")
        return [SendResult(sms.reference, accepted=False, retry=True, error=error) for sms in part]

    def _attempt(self, part: list[OutboundSms], payload: dict) -> list[SendResult]:
        try:
            response = http_session().post(
                self.url,
                json=payload,
                headers={TOKEN_HEADER: self.product_token},
                timeout=self.timeout,
                # A redirected POST may come back as a GET: report it rather than follow.
                allow_redirects=False,
            )
        except UNANSWERED_ERRORS as exc:
            return _unknown(part, describe(exc))
        except TRANSIENT_ERRORS as exc:
            raise _Unanswered(describe(exc)) from exc
        # 429: over CM's own rate limit; like a 5xx, it took none of them.
        if response.status_code >= 500 or response.status_code == 429:
            raise _Unanswered(_status_line(response))
        if 200 <= response.status_code < 300:
            return _accepted(part, response)
        return _refused(part, response)


def _given(value, default):
    return default if value is None else value


def _slices(batch: list[OutboundSms], size: int) -> Iterator[list[OutboundSms]]:
    for start in range(0, len(batch), size):
        yield batch[start : start + size]


def _cm_number(e164: str) -> str:
    """CM writes numbers as 00 and the country code: +31612345678 -> 0031612345678."""
    return "00" + e164.removeprefix("+") if e164.startswith("+") else e164


def _cm_message(sms: OutboundSms) -> dict:
    return {
        "from": sms.sender,
        "to": [{"number": _cm_number(sms.to)}],
        # "auto": CM picks GSM-7 or Unicode from the content.
        "body": {"type": "auto", "content": sms.body},
        "reference": sms.reference,
        "minimumNumberOfMessageParts": 1,
        "maximumNumberOfMessageParts": MAX_PARTS,
    }


def describe(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.ConnectTimeout):
        return "connect timeout"
    if isinstance(exc, requests.Timeout):
        return "read timeout"
    return f"connection error ({type(exc).__name__})"


def reply_json(response: requests.Response) -> dict | None:
    try:
        reply = response.json()
    except ValueError:  # requests' JSONDecodeError, or a body in no known encoding
        return None
    return reply if isinstance(reply, dict) else None


def _details(reply: dict | None, response: requests.Response) -> str:
    return str((reply or {}).get("details") or response.reason or "no details")


def _status_line(response: requests.Response) -> str:
    return f"HTTP {response.status_code} ({_details(reply_json(response), response)})"


def _per_message(reply: dict | None) -> dict[str, dict]:
    entries = (reply or {}).get("messages")
    if not isinstance(entries, list):
        return {}
    return {
        str(entry["reference"]): entry
        for entry in entries
        if isinstance(entry, dict) and entry.get("reference") is not None
    }


def _accepted(part: list[OutboundSms], response: requests.Response) -> list[SendResult]:
    # A 2xx means CM took the request. A message it does not mention, or a reply we cannot
    # read, counts as accepted: sending it again could deliver it twice.
    reply = reply_json(response)
    if reply is None:
        logger.warning(
            "CM gateway: HTTP %d with an unreadable body; counting %d message(s) as accepted",
            response.status_code,
            len(part),
        )
    entries = _per_message(reply)
    unmentioned = sum(sms.reference not in entries for sms in part)
    if reply is not None and unmentioned:
        logger.warning(
            "CM gateway: reply leaves out %d of %d message(s); counting them as accepted",
            unmentioned,
            len(part),
        )
    return [_outcome(sms, entries.get(sms.reference)) for sms in part]


def _outcome(sms: OutboundSms, entry: dict | None) -> SendResult:
    if entry is not None and entry.get("status") == "Rejected":
        error = entry.get("messageDetails") or "Rejected by CM"
        return SendResult(sms.reference, accepted=False, error=_clip(str(error)))
    return SendResult(sms.reference, accepted=True)


def _refused(part: list[OutboundSms], response: requests.Response) -> list[SendResult]:
    """A 4xx (or an unexpected 3xx): CM took none of them, and would refuse them again."""
    reply = reply_json(response)
    details, entries = _details(reply, response), _per_message(reply)
    results = []
    for sms in part:
        reason = (entries.get(sms.reference) or {}).get("messageDetails") or details
        error = _clip(f"HTTP {response.status_code}: {reason}")
        results.append(SendResult(sms.reference, accepted=False, error=error))
    return results


def _unknown(part: list[OutboundSms], problem: str) -> list[SendResult]:
    logger.warning("CM gateway: %s; %d message(s) not sent again", problem, len(part))
    error = _clip(
        f"{UNKNOWN_OUTCOME_PREFIX} CM did not answer in time ({problem}); not sent again, "
        "in case it arrived"
    )
    return [SendResult(sms.reference, accepted=False, error=error) for sms in part]


def _clip(error: str) -> str:
    return error[:MAX_ERROR_LENGTH]
