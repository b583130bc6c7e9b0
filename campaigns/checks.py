"""Settings that would break the sending engine's promises, caught when Django starts."""

from math import ceil

from django.conf import settings
from django.core.checks import Warning, register


@register()
def lease_outlasts_a_batch(app_configs, **kwargs) -> list[Warning]:
    """A worker renews its chunk's lease before each batch. If one batch's hand-off (CM's
    retries and timeouts included) can take longer than the lease, another worker may
    take the chunk over while the first still sends: messages could go out twice."""
    if settings.SMS_BACKEND != "campaigns.backends.cm.CmBackend":
        return []
    from .backends.cm import BACKOFF_CAP_SECONDS

    requests = ceil(settings.SEND_BATCH_SIZE / max(1, settings.CM_BATCH_SIZE))
    # Per attempt: a connect and a read timeout; between attempts: the longest backoff.
    attempt = 2 * settings.CM_TIMEOUT
    worst = requests * (
        settings.CM_MAX_ATTEMPTS * attempt + (settings.CM_MAX_ATTEMPTS - 1) * BACKOFF_CAP_SECONDS
    )
    if worst < settings.SEND_CHUNK_LEASE_SECONDS:
        return []
    return [
        Warning(
            f"One batch's hand-off to CM can take up to {worst:.0f} s, longer than "
            f"SEND_CHUNK_LEASE_SECONDS ({settings.SEND_CHUNK_LEASE_SECONDS} s).",
            hint="Raise SEND_CHUNK_LEASE_SECONDS, or lower SEND_BATCH_SIZE, CM_TIMEOUT or "
            "CM_MAX_ATTEMPTS.",
            id="campaigns.W001",
        )
    ]
