import logging


class QuietTick(logging.Filter):
    """Leave the scheduler's tick out of the log: every few seconds, it would bury the
    lines people read (the trial's printed SMS among them). Failures still show."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return True
        message = record.getMessage()
        return "campaigns.tasks.tick_task" not in message and "campaigns-tick" not in message
