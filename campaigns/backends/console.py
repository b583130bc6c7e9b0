import sys
import threading

from .base import BaseSmsBackend, OutboundSms, SendResult


class ConsoleBackend(BaseSmsBackend):
    """Prints each message; the trial's default."""

    _lock = threading.Lock()

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def format(self, sms: OutboundSms) -> str:
        return f"--- SMS {sms.reference} from {sms.sender} to {sms.to}\n{sms.body}\n"

    def send_messages(self, batch: list[OutboundSms]) -> list[SendResult]:
        with self._lock:
            for sms in batch:
                self.stream.write(self.format(sms))
            self.stream.flush()
        return [SendResult(reference=sms.reference, accepted=True) for sms in batch]
