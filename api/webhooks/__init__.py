"""Opt-out webhooks out: every consent event, pushed to the company's own endpoints.

The outbox: ``queue_deliveries`` runs inside the transaction that records a consent event
(``OPTOUT_EVENT_SUBSCRIBERS``) and writes one ``WebhookDelivery`` per active endpoint, so a
delivery exists exactly when its event does, whether the broker is up or not. After the
commit a task is asked to send it; the tick (beat) sends whatever is due, so a lost task
or a stopped broker only delays a delivery.

Per endpoint, deliveries go out one at a time and oldest first, under a lease on the
endpoint (``busy_until``): a failure holds back the ones behind it, so an endpoint hears of
an opt-out and the opt-in after it in that order. At least once: a receiver recognises a
delivery it has seen by ``X-Webhook-Id``.

Each request is ``POST`` JSON signed as the gateway's webhooks to us are (optout.webhooks):
``X-Webhook-Timestamp: <unix seconds>`` and ``X-Webhook-Signature: sha256=<hex HMAC-SHA256
of "<timestamp>.<body>">`` with the endpoint's secret (and, for a day after a rotation, a
second ``sha256=…`` with the old one, separated by a space).
"""

from .endpoints import (
    ENDPOINTS_PER_COMPANY,
    WebhookError,
    check_destination,
    create_endpoint,
    delete_endpoint,
    deliveries_of,
    enable_endpoint,
    endpoints_of,
    rotate_secret,
    send_test_event,
    update_endpoint,
)
from .outbox import enqueue_deliveries, event_payload, queue_deliveries
from .sending import (
    ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Outcome,
    Run,
    backoff_seconds,
    deliver_due,
    deliver_endpoint,
    post_delivery,
    prune_log,
    signature_header,
)

__all__ = [
    "ENDPOINTS_PER_COMPANY",
    "ID_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Outcome",
    "Run",
    "WebhookError",
    "backoff_seconds",
    "check_destination",
    "create_endpoint",
    "delete_endpoint",
    "deliver_due",
    "deliver_endpoint",
    "deliveries_of",
    "enable_endpoint",
    "endpoints_of",
    "enqueue_deliveries",
    "event_payload",
    "post_delivery",
    "prune_log",
    "queue_deliveries",
    "rotate_secret",
    "send_test_event",
    "signature_header",
    "update_endpoint",
]
