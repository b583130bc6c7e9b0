"""Loaded into the bench's workers with ``--include``, set up from their environment
(which only the bench sets): say when the worker consumes, so a measurement starts at the
enqueue and not at the worker's boot; the queue the workers queue to; and the moment
sending hours are judged at.
"""

import os
from datetime import datetime
from pathlib import Path

from celery.signals import worker_ready

from config.celery import app


@worker_ready.connect
def _touch_ready_file(**kwargs) -> None:
    if path := os.environ.get("BENCH_READY_FILE"):
        Path(path).touch()


# The bench's workers read a queue of their own; what they queue themselves (the
# campaign's chunk tasks) must go there too, not to the default queue of other workers.
if queue := os.environ.get("BENCH_WORKER_QUEUE"):
    app.conf.task_default_queue = queue


def judge_send_hours_at(moment: datetime) -> None:
    """Sending hours judged at ``moment`` in this process, whatever the clock says.

    The bench picks a moment when every destination is open, so its result does not
    depend on when it runs (on a Saturday evening the French recipients wait until
    Monday); the look-ups still cost what they cost.
    """
    from optout.sendhours import SendHours

    judge = SendHours.__init__

    def at_moment(self, rules, now):
        judge(self, rules, moment)

    SendHours.__init__ = at_moment


if at := os.environ.get("BENCH_WORKER_SEND_HOURS_AT"):
    judge_send_hours_at(datetime.fromisoformat(at))
