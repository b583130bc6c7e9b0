from celery import shared_task
from django.conf import settings


@shared_task(acks_late=True, ignore_result=True)
def deliver_endpoint_task(endpoint_id: int) -> None:
    """Send one endpoint's due webhook deliveries, in order."""
    from .webhooks import deliver_endpoint, enqueue_deliveries

    run = deliver_endpoint(endpoint_id=endpoint_id)
    if run.more:
        enqueue_deliveries(endpoint_ids=[endpoint_id])
    elif run.retry_in is not None and run.retry_in < settings.WEBHOOK_TICK_SECONDS:
        # A retry sooner than the tick would come: ask for it; later ones are the tick's.
        enqueue_deliveries(endpoint_ids=[endpoint_id], countdown=run.retry_in)


@shared_task(acks_late=True, ignore_result=True)
def webhooks_tick_task() -> None:
    """Every WEBHOOK_TICK_SECONDS (beat): retries that are due, and deliveries whose task
    was lost or never queued (the broker was down when the event was recorded)."""
    from .webhooks import deliver_due

    deliver_due()
