"""Vonage (Nexmo) SMS API: ``POST /sms/json``.

One message per request, form-encoded with the account's ``api_key`` and ``api_secret``.
Vonage answers 200 with one entry per part it cut the text into, each with a ``status``:
"0" taken, "1" throttled (nothing taken: tried again), any other refused for good
("error-text" says why). Our id goes along as ``client-ref``, which each part's delivery
receipt carries back (optout.gateways.vonage); the first part's ``message-id`` is kept as
the message's gateway_reference.
"""

import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from ..segments import count_segments
from .base import OutboundSms, SendResult
from .cm import reply_json
from .permessage import PerMessageBackend, Unanswered, clip, given

logger = logging.getLogger(__name__)

MESSAGE_PATH = "/sms/json"
OK, THROTTLED = "0", "1"


class VonageBackend(PerMessageBackend):
    label = "Vonage"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        api_secret: str | None = None,
        status_callback: str | None = None,
        timeout: float | None = None,
        max_attempts: int | None = None,
        retry_backoff: float | None = None,
        **kwargs,
    ):
        super().__init__(
            timeout=given(timeout, settings.VONAGE_TIMEOUT),
            max_attempts=given(max_attempts, settings.VONAGE_MAX_ATTEMPTS),
            retry_backoff=given(retry_backoff, settings.VONAGE_RETRY_BACKOFF),
            **kwargs,
        )
        self.api_key = given(api_key, settings.VONAGE_API_KEY)
        self.api_secret = given(api_secret, settings.VONAGE_API_SECRET)
        if not self.api_key or not self.api_secret:
            raise ImproperlyConfigured(
                "VONAGE_API_KEY and VONAGE_API_SECRET must be set to send SMS through Vonage."
            )
        self.url = given(base_url, settings.VONAGE_BASE_URL).rstrip("/") + MESSAGE_PATH
        self.status_callback = given(status_callback, settings.VONAGE_STATUS_CALLBACK_URL)

    def attempt(self, sms: OutboundSms) -> SendResult:
        data = {
            "api_key": self.api_key,
            "api_secret": self.api_secret,
            "from": sms.sender,
            "to": sms.to.removeprefix("+"),  # Vonage writes numbers without the +
            "text": sms.body,
            "client-ref": sms.reference,
        }
        # Vonage sends GSM-7 unless told: other characters would arrive as "?".
        if count_segments(sms.body).encoding == "UCS-2":
            data["type"] = "unicode"
        if self.status_callback:
            data["callback"] = self.status_callback
        response = self.post(self.url, data=data)
        reply = reply_json(response)
        if not 200 <= response.status_code < 300:
            # A 4xx (or an unexpected 3xx): Vonage took nothing, and would refuse it again.
            details = (reply or {}).get("error-text") or response.reason or "no details"
            error = clip(f"HTTP {response.status_code}: {details}")
            return SendResult(sms.reference, accepted=False, error=error)
        return _outcome(sms, reply, response.status_code)


def _outcome(sms: OutboundSms, reply: dict | None, status_code: int) -> SendResult:
    entries = (reply or {}).get("messages")
    parts = [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []
    if not parts:
        # A 2xx we cannot read: Vonage may have taken it, and sending again could deliver
        # it twice.
        logger.warning("Vonage: HTTP %d with an unreadable body; counted as accepted", status_code)
        return SendResult(sms.reference, accepted=True)
    taken = [p for p in parts if str(p.get("status")) == OK]
    if taken:
        if len(taken) < len(parts):
            logger.warning(
                "Vonage: %d of %d part(s) of message %s taken; counted as accepted",
                len(taken),
                len(parts),
                sms.reference,
            )
        message_id = taken[0].get("message-id")
        reference = str(message_id)[:64] if message_id else ""
        return SendResult(sms.reference, accepted=True, gateway_reference=reference)
    refused = parts[0]
    if all(str(p.get("status")) == THROTTLED for p in parts):
        raise Unanswered(f"throttled ({refused.get('error-text') or 'status 1'})")
    details = refused.get("error-text") or "refused"
    return SendResult(
        sms.reference,
        accepted=False,
        error=clip(f"Vonage status {refused.get('status')}: {details}"),
    )
