from celery import shared_task


@shared_task(acks_late=True)
def plan_campaign_task(campaign_id: int) -> None:
    from .services import plan_campaign

    for chunk_id in plan_campaign(campaign_id=campaign_id):
        send_chunk_task.delay(chunk_id)


@shared_task(bind=True, acks_late=True, max_retries=8)
def send_chunk_task(self, chunk_id: int) -> None:
    from .backends import TransientGatewayError
    from .services import CHUNK_LEASE, ChunkBusy, send_chunk

    try:
        send_chunk(chunk_id=chunk_id, last_attempt=self.request.retries >= self.max_retries)
    except ChunkBusy as exc:
        # A redelivered copy while another worker has the chunk: come back later, when
        # that worker is done or its lease has run out.
        raise self.retry(exc=exc, countdown=CHUNK_LEASE.total_seconds() / 4) from exc
    except TransientGatewayError as exc:
        raise self.retry(exc=exc, countdown=min(5 * 2**self.request.retries, 300)) from exc
