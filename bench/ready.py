"""Loaded into the bench's workers with ``--include``, set up from their environment
(which only the bench sets): say when the worker consumes, so a measurement starts at the
enqueue and not at the worker's boot; and the queue the workers queue to.
"""

import os
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
