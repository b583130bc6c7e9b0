"""gunicorn's own logs (access and error) formatted and masked like the app's.

``logger_class = "config.gunicorn_logging.Logger"`` in config/gunicorn.conf.py. An access
line holds the path, the query and the referrer, where the unsubscribe, undo, invitation
and password-reset tokens travel: they are masked before the line is written.
"""

import logging
import os

from django.conf import settings
from gunicorn import glogging

from config.logging import JsonFormatter, RequestIdFilter, TextFormatter

# LOG_FORMAT and the secrets to mask come from the settings, read on first use.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


class Logger(glogging.Logger):
    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if not getattr(handler, "_gunicorn", False):
                    continue
                if settings.LOG_FORMAT == "json":
                    handler.setFormatter(JsonFormatter())
                else:
                    plain = handler.formatter or logging.Formatter()
                    handler.setFormatter(TextFormatter(plain._fmt, datefmt=plain.datefmt))
                handler.addFilter(RequestIdFilter())
