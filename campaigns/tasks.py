from celery import shared_task


@shared_task(acks_late=True)
def plan_campaign_task(campaign_id: int) -> None:
    from .services import plan_campaign

    plan_campaign(campaign_id=campaign_id)


@shared_task(acks_late=True)
def send_chunk_task(chunk_id: int, token: str = "", attempt: int = 0) -> None:
    from .services import RetryLater, note_chunk_failure, send_chunk

    try:
        send_chunk(chunk_id=chunk_id, task_token=token, attempt=attempt)
    except RetryLater as later:
        # The chunk stays reserved for this token until the countdown is over.
        send_chunk_task.apply_async((chunk_id, token, later.attempt), countdown=later.countdown)
    except Exception as exc:
        # A bug or bad data: its lease runs out and the tick hands it out again, until
        # it has failed too often and is given up, so the campaign still finishes.
        note_chunk_failure(chunk_id=chunk_id, error=f"{type(exc).__name__}: {exc}")
        raise


@shared_task(acks_late=True, ignore_result=True)
def tick_task() -> None:
    """Every few seconds (beat): scheduled campaigns that are due, and lost chunks."""
    from .services import tick

    tick()
