"""An SMS gateway that takes everything at once and does nothing: the bench measures the
engine, not a network. ``SMS_BACKEND=bench.noop_backend.NoopBackend``."""

from campaigns.backends import BaseSmsBackend, OutboundSms, SendResult


class NoopBackend(BaseSmsBackend):
    def send_messages(self, batch: list[OutboundSms]) -> list[SendResult]:
        return [SendResult(reference=sms.reference, accepted=True) for sms in batch]
