"""The outbox: a delivery per endpoint, written in the transaction of its consent event.

``queue_deliveries`` is called by optout (``OPTOUT_EVENT_SUBSCRIBERS``) inside the
transaction that records each opt-out and opt-in, so a delivery exists exactly when its
event does, whether the broker is up or not. After the commit a task is asked to send it;
the tick sends whatever is due, so a lost task or a stopped broker only delays it.
"""

import logging
from datetime import UTC, datetime

from django.db import DatabaseError, transaction

from optout.models import ConsentEvent

from ..models import WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

KIND_OF_EVENT = {
    ConsentEvent.Kind.OPT_OUT: WebhookDelivery.Kind.OPT_OUT,
    ConsentEvent.Kind.OPT_IN: WebhookDelivery.Kind.OPT_IN,
}
WANTS_EVENT = {
    ConsentEvent.Kind.OPT_OUT: "sends_opt_outs",
    ConsentEvent.Kind.OPT_IN: "sends_opt_ins",
}


def queue_deliveries(*, event: ConsentEvent) -> None:
    """Inside the event's transaction: a delivery for every active endpoint that wants it.

    Every opt-out comes here, the landing page's too: a company without endpoints costs
    one indexed query and nothing else.
    """
    wanted = WANTS_EVENT.get(event.kind)
    if wanted is None:
        return
    endpoint_ids = list(
        WebhookEndpoint.objects.filter(
            company_id=event.company_id, active=True, **{wanted: True}
        ).values_list("pk", flat=True)
    )
    if not endpoint_ids:
        return
    payload = event_payload(event)
    try:
        # A savepoint: were the outbox ever unwritable, the opt-out still stands.
        with transaction.atomic():
            WebhookDelivery.objects.bulk_create(
                [
                    WebhookDelivery(
                        company_id=event.company_id,
                        endpoint_id=endpoint_id,
                        event=event,
                        kind=KIND_OF_EVENT[event.kind],
                        payload=payload,
                        next_attempt_at=event.created_at,
                    )
                    for endpoint_id in endpoint_ids
                ]
            )
    except DatabaseError:
        logger.exception("Consent event %s: its webhook deliveries were not written", event.pk)
        return
    enqueue_after_commit(endpoint_ids)


def event_payload(event: ConsentEvent) -> dict:
    """The body of a consent event's delivery: what happened, to which address, and how."""
    return {
        "id": f"evt_{event.pk}",
        "type": KIND_OF_EVENT[event.kind],
        "created_at": timestamp_of(event.created_at),
        "data": {
            "event_id": event.pk,
            "company_id": event.company_id,
            "kind": event.kind,
            "address": event.address,
            "channel": "email" if "@" in event.address else "sms",
            "source": event.source,
            "campaign_id": event.campaign_id,
            "reason": event.reason,
            "reason_text": event.reason_text,
            "raw_text": event.raw_text,
        },
    }


def timestamp_of(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def enqueue_after_commit(endpoint_ids: list[int]) -> None:
    transaction.on_commit(lambda: enqueue_deliveries(endpoint_ids=endpoint_ids))


def enqueue_deliveries(*, endpoint_ids: list[int], countdown: float | None = None) -> None:
    """Ask a worker to send; a broker that is down only delays it until the tick."""
    from ..tasks import deliver_endpoint_task

    for endpoint_id in endpoint_ids:
        try:
            # No publish retries: an opt-out must not wait on a broker that is down.
            deliver_endpoint_task.apply_async((endpoint_id,), countdown=countdown, retry=False)
        except Exception as exc:
            # The opt-out is recorded and its delivery is in the outbox: the tick sends it.
            logger.warning(
                "Webhook endpoint %s: no task queued (%s: %s); the tick will send its deliveries",
                endpoint_id,
                type(exc).__name__,
                exc,
            )
