from celery import shared_task


@shared_task(acks_late=True)
def run_import_task(job_id: int) -> None:
    from django.conf import settings
    from django.utils.module_loading import import_string

    from .services.imports import run_import

    run_import(job_id=job_id, suppressed_of=import_string(settings.ADDRESSBOOK_SUPPRESSED_OF))
