from celery import shared_task


@shared_task(acks_late=True)
def run_import_task(job_id: int) -> None:
    """Cut the file into ranges and queue a task for each range not yet imported."""
    from .services.imports import plan_import

    for number in plan_import(job_id=job_id):
        run_import_range_task.delay(job_id, number)


@shared_task(acks_late=True)
def run_import_range_task(job_id: int, number: int) -> None:
    from django.conf import settings
    from django.utils.module_loading import import_string

    from .services.imports import run_import_range

    run_import_range(
        job_id=job_id,
        number=number,
        suppressed_of=import_string(settings.ADDRESSBOOK_SUPPRESSED_OF),
    )
