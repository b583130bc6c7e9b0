import os
from logging.config import dictConfig

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("optout")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _log_as_the_web_does(**kwargs) -> None:
    """Workers and beat log through settings.LOGGING (JSON in production, personal data
    masked) rather than Celery's own handlers. Celery then leaves stdout alone: the console
    SMS backend prints each SMS whole to it, which is what it is for in the trial."""
    from django.conf import settings

    dictConfig(settings.LOGGING)
