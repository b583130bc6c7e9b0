"""SMS gateway backends, chosen by dotted path in ``SMS_BACKEND`` like Django's email backends."""

from django.conf import settings
from django.utils.module_loading import import_string

from .base import (
    UNKNOWN_OUTCOME_PREFIX,
    BaseSmsBackend,
    OutboundSms,
    SendResult,
    TransientGatewayError,
)

__all__ = [
    "UNKNOWN_OUTCOME_PREFIX",
    "BaseSmsBackend",
    "OutboundSms",
    "SendResult",
    "TransientGatewayError",
    "get_backend",
]


def get_backend(backend: str | None = None, **kwargs) -> BaseSmsBackend:
    return import_string(backend or settings.SMS_BACKEND)(**kwargs)
