"""Gateways whose API takes one message per request (Twilio, Vonage): the same retry and
unknown-outcome rules as CmBackend, one message at a time.

A request the gateway answered with a 5xx or 429, or that never reached it, is tried
again after a capped, fully jittered exponential backoff; after the last attempt the
message, and the rest of the batch with it (the gateway is down: trying each of them the
same way would only keep the chunk waiting), is handed back to be sent later. A 4xx is
never retried. A request that reached the gateway but got no answer in time is not sent
again: the gateway may have taken it, and its message is of unknown outcome until a
delivery report says.
"""

import logging
import random
import time
from collections.abc import Callable

import requests

from .base import UNKNOWN_OUTCOME_PREFIX, BaseSmsBackend, OutboundSms, SendResult
from .cm import (
    BACKOFF_CAP_SECONDS,
    TRANSIENT_ERRORS,
    UNANSWERED_ERRORS,
    describe,
    http_session,
)

logger = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 255  # Message.error


class Unanswered(Exception):
    """This attempt got no usable answer; another one may."""


class PerMessageBackend(BaseSmsBackend):
    label = "Gateway"

    def __init__(
        self,
        *,
        timeout: float,
        max_attempts: int,
        retry_backoff: float,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.retry_backoff = retry_backoff
        self.sleep = sleep

    def send_messages(self, batch: list[OutboundSms]) -> list[SendResult]:
        results = []
        for number, sms in enumerate(batch):
            result = self._send_one(sms)
            results.append(result)
            if result.retry:
                later = batch[number + 1 :]
                if later:
                    logger.warning("%s: handing %d message(s) back untried", self.label, len(later))
                results.extend(
                    SendResult(s.reference, accepted=False, retry=True, error=result.error)
                    for s in later
                )
                break
        return results

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt`` (0 for the first)."""
        return random.uniform(0, min(BACKOFF_CAP_SECONDS, self.retry_backoff * 2**attempt))

    def post(self, url: str, **kwargs) -> requests.Response:
        """One POST; UNANSWERED_ERRORS pass through, a request that never arrived is
        Unanswered, and so is a 5xx or 429 (the gateway took nothing)."""
        try:
            response = http_session().post(
                url,
                timeout=self.timeout,
                # A redirected POST may come back as a GET: report it rather than follow.
                allow_redirects=False,
                **kwargs,
            )
        except UNANSWERED_ERRORS:
            raise
        except TRANSIENT_ERRORS as exc:
            raise Unanswered(describe(exc)) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise Unanswered(f"HTTP {response.status_code} ({response.reason or 'no details'})")
        return response

    def attempt(self, sms: OutboundSms) -> SendResult:
        raise NotImplementedError

    def _send_one(self, sms: OutboundSms) -> SendResult:
        for attempt in range(self.max_attempts):
            try:
                return self.attempt(sms)
            except UNANSWERED_ERRORS as exc:
                return self._unknown(sms, describe(exc))
            except Unanswered as exc:
                problem = str(exc)
            if attempt + 1 < self.max_attempts:
                delay = self.backoff(attempt)
                logger.warning(
                    "%s: %s on attempt %d of %d; retrying in %.2f s",
                    self.label,
                    problem,
                    attempt + 1,
                    self.max_attempts,
                    delay,
                )
                self.sleep(delay)
        logger.warning(
            "%s: %s after %d attempts; giving up", self.label, problem, self.max_attempts
        )
        error = clip(f"{self.label}: {problem} after {self.max_attempts} attempts")
        return SendResult(sms.reference, accepted=False, retry=True, error=error)

    def _unknown(self, sms: OutboundSms, problem: str) -> SendResult:
        logger.warning("%s: %s; message %s not sent again", self.label, problem, sms.reference)
        error = clip(
            f"{UNKNOWN_OUTCOME_PREFIX} {self.label} did not answer in time ({problem}); "
            "not sent again, in case it arrived"
        )
        return SendResult(sms.reference, accepted=False, error=error)


def clip(error: str) -> str:
    return error[:MAX_ERROR_LENGTH]


def given(value, default):
    return default if value is None else value
