"""Loaded into the bench's worker with ``--include``: says when the worker consumes.

So the import's time starts at the enqueue, not at the worker's boot, without pinging
through the broker's control channel.
"""

import os
from pathlib import Path

from celery.signals import worker_ready


@worker_ready.connect
def _touch_ready_file(**kwargs) -> None:
    if path := os.environ.get("BENCH_READY_FILE"):
        Path(path).touch()
