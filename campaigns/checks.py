"""Settings that would break the sending engine's promises, caught when Django starts."""

from math import ceil

from django.conf import settings
from django.core.checks import Warning, register


@register()
def lease_outlasts_a_batch(app_configs, **kwargs) -> list[Warning]:
    """A worker renews its chunk's lease before each batch. If one batch's hand-off (the
    gateway's retries and timeouts included) can take longer than the lease, another worker may
    take the chunk over while the first still sends: messages could go out twice."""
    from .backends.cm import BACKOFF_CAP_SECONDS

    if settings.SMS_BACKEND == "campaigns.backends.cm.CmBackend":
        name, prefix = "CM", "CM"
        requests = ceil(settings.SEND_BATCH_SIZE / max(1, settings.CM_BATCH_SIZE))
        retried = requests
    elif settings.SMS_BACKEND in PER_REQUEST:
        prefix = PER_REQUEST[settings.SMS_BACKEND]
        # One request per message; each may wait out its timeouts, and the one that meets
        # a gateway that is down is retried, then the rest of the batch is handed back.
        name, requests, retried = prefix.title(), settings.SEND_BATCH_SIZE, 1
    else:
        return []
    timeout = getattr(settings, f"{prefix}_TIMEOUT")
    attempts = getattr(settings, f"{prefix}_MAX_ATTEMPTS")
    # Per attempt: a connect and a read timeout; between attempts: the longest backoff.
    attempt = 2 * timeout
    worst = (requests - retried) * attempt + retried * (
        attempts * attempt + (attempts - 1) * BACKOFF_CAP_SECONDS
    )
    if worst < settings.SEND_CHUNK_LEASE_SECONDS:
        return []
    return [
        Warning(
            f"One batch's hand-off to {name} can take up to {worst:.0f} s, longer than "
            f"SEND_CHUNK_LEASE_SECONDS ({settings.SEND_CHUNK_LEASE_SECONDS} s).",
            hint="Raise SEND_CHUNK_LEASE_SECONDS, or lower SEND_BATCH_SIZE, "
            f"{prefix}_TIMEOUT or {prefix}_MAX_ATTEMPTS.",
            id="campaigns.W001",
        )
    ]


# Backends that send one message per request, and the prefix of their settings.
PER_REQUEST = {
    "campaigns.backends.twilio.TwilioBackend": "TWILIO",
    "campaigns.backends.vonage.VonageBackend": "VONAGE",
}
