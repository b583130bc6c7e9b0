import threading

from .base import BaseSmsBackend, OutboundSms, SendResult

outbox: list[OutboundSms] = []
_lock = threading.Lock()


class InMemoryBackend(BaseSmsBackend):
    """Keeps messages in ``campaigns.backends.locmem.outbox``, for tests in one process."""

    def send_messages(self, batch: list[OutboundSms]) -> list[SendResult]:
        with _lock:
            outbox.extend(batch)
        return [SendResult(reference=sms.reference, accepted=True) for sms in batch]
