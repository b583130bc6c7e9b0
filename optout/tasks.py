from celery import shared_task


@shared_task(acks_late=True)
def run_suppression_import_task(upload_id: int) -> None:
    from .imports import run_suppression_import

    run_suppression_import(upload_id=upload_id)
