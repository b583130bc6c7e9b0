from celery import shared_task


@shared_task(acks_late=True)
def plan_campaign_task(campaign_id: int) -> None:
    from .services import plan_campaign

    for chunk_id in plan_campaign(campaign_id=campaign_id):
        send_chunk_task.delay(chunk_id)


@shared_task(acks_late=True)
def send_chunk_task(chunk_id: int) -> None:
    from .services import send_chunk

    send_chunk(chunk_id=chunk_id)
