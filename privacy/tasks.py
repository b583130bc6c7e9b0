from celery import shared_task
from django.core.cache import cache

# A run that outlasts the beat's interval (the first one, over years of messages) is not
# joined by a second: both would only walk the same rows.
LOCK_KEY = "privacy:retention:running"
LOCK_SECONDS = 6 * 3600


@shared_task(acks_late=True, ignore_result=True)
def retention_task() -> None:
    """Every RETENTION_TICK_SECONDS (beat): blank message bodies and reply texts older than
    each company's ``retention_days``."""
    from .services import apply_retention_everywhere

    if not cache.add(LOCK_KEY, 1, timeout=LOCK_SECONDS):
        return
    try:
        apply_retention_everywhere()
    finally:
        cache.delete(LOCK_KEY)
