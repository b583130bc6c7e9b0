from celery import shared_task


@shared_task(acks_late=True)
def plan_campaign_task(campaign_id: int) -> None:
    from .services import plan_campaign

    plan_campaign(campaign_id=campaign_id)


@shared_task(acks_late=True)
def send_chunk_task(chunk_id: int, token: str = "", attempt: int = 0) -> None:
    from .services import RetryLater, send_chunk

    try:
        send_chunk(chunk_id=chunk_id, task_token=token, attempt=attempt)
    except RetryLater as later:
        # The chunk stays reserved for this token until the countdown is over.
        send_chunk_task.apply_async((chunk_id, token, later.attempt), countdown=later.countdown)


@shared_task(acks_late=True, ignore_result=True)
def tick_task() -> None:
    """Every few seconds (beat): scheduled campaigns that are due, and lost chunks."""
    from .services import tick

    tick()
