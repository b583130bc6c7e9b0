"""Twilio Programmable Messaging: ``POST /2010-04-01/Accounts/{sid}/Messages.json``.

One message per request, form-encoded, with the account SID and auth token as basic
auth. Twilio answers 201 with the message's ``sid`` when it has taken it; delivery comes
later as a status callback (optout.gateways.twilio), which names the message by that
sid (kept as the message's gateway_reference) and by our id in the callback URL.
"""

import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .base import OutboundSms, SendResult
from .cm import reply_json
from .permessage import PerMessageBackend, clip, given

logger = logging.getLogger(__name__)

MESSAGES_PATH = "/2010-04-01/Accounts/{sid}/Messages.json"


class TwilioBackend(PerMessageBackend):
    label = "Twilio"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        account_sid: str | None = None,
        auth_token: str | None = None,
        status_callback: str | None = None,
        timeout: float | None = None,
        max_attempts: int | None = None,
        retry_backoff: float | None = None,
        **kwargs,
    ):
        super().__init__(
            timeout=given(timeout, settings.TWILIO_TIMEOUT),
            max_attempts=given(max_attempts, settings.TWILIO_MAX_ATTEMPTS),
            retry_backoff=given(retry_backoff, settings.TWILIO_RETRY_BACKOFF),
            **kwargs,
        )
        self.account_sid = given(account_sid, settings.TWILIO_ACCOUNT_SID)
        self.auth_token = given(auth_token, settings.TWILIO_AUTH_TOKEN)
        if not self.account_sid or not self.auth_token:
            raise ImproperlyConfigured(
                "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set to send SMS through Twilio."
            )
        base = given(base_url, settings.TWILIO_BASE_URL).rstrip("/")
        self.url = base + MESSAGES_PATH.format(sid=self.account_sid)
        self.status_callback = given(status_callback, settings.TWILIO_STATUS_CALLBACK_URL)

    def attempt(self, sms: OutboundSms) -> SendResult:
        data = {"From": sms.sender, "To": sms.to, "Body": sms.body}
        if self.status_callback:
            joiner = "&" if "?" in self.status_callback else "?"
            data["StatusCallback"] = f"{self.status_callback}{joiner}reference={sms.reference}"
        response = self.post(self.url, data=data, auth=(self.account_sid, self.auth_token))
        reply = reply_json(response)
        if 200 <= response.status_code < 300:
            sid = (reply or {}).get("sid")
            if not isinstance(sid, str) or not sid:
                # Taken, but we cannot read its id: sending again could deliver it twice.
                logger.warning(
                    "Twilio: HTTP %d without a sid; counted as accepted", response.status_code
                )
                return SendResult(sms.reference, accepted=True)
            return SendResult(sms.reference, accepted=True, gateway_reference=sid[:64])
        # A 4xx (or an unexpected 3xx): Twilio took nothing, and would refuse it again.
        details = (reply or {}).get("message") or response.reason or "no details"
        code = (reply or {}).get("code")
        reason = f"Twilio {code}: {details}" if code else str(details)
        return SendResult(
            sms.reference, accepted=False, error=clip(f"HTTP {response.status_code}: {reason}")
        )
