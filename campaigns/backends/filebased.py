import json
import os
from pathlib import Path

from django.conf import settings

from .base import BaseSmsBackend, OutboundSms, SendResult


class FileBackend(BaseSmsBackend):
    """Appends one JSON line per message to ``SMS_FILE_PATH/<pid>.jsonl``.

    One file per process, so parallel workers never interleave half lines.
    """

    def __init__(self, path: str | os.PathLike | None = None):
        self.folder = Path(path or settings.SMS_FILE_PATH)

    def send_messages(self, batch: list[OutboundSms]) -> list[SendResult]:
        self.folder.mkdir(parents=True, exist_ok=True)
        lines = "".join(json.dumps(sms.__dict__, ensure_ascii=False) + "\n" for sms in batch)
        with open(self.folder / f"{os.getpid()}.jsonl", "a", encoding="utf-8") as out:
            out.write(lines)
        return [SendResult(reference=sms.reference, accepted=True) for sms in batch]


def read_sent(path: str | os.PathLike | None = None) -> list[OutboundSms]:
    folder = Path(path or settings.SMS_FILE_PATH)
    sent = []
    for file in sorted(folder.glob("*.jsonl")):
        with open(file, encoding="utf-8") as lines:
            sent.extend(OutboundSms(**json.loads(line)) for line in lines if line.strip())
    return sent
