"""Erase a person, export what is held about them, and blank old texts (retention).

Erasure (GDPR Art. 17) takes the contact, its custom values and groups, and blanks the
texts of its messages and replies. The suppression and the consent events stay, with the
address alone: the ICO asks that people who object go on a suppression list instead of
being deleted, so that they are not re-added by mistake, keeping "just enough
information to ensure that their preferences are respected" (research/compliance.md §5
"Erasure vs suppression list" [11][61][99][100]). Erasing therefore suppresses every
address of the person that was still reachable: a later import, API call or form finds it
suppressed, and imports never resubscribe anyone (PRODUCT.md, rule 8).

Where a kept row holds the address (messages and replies, which the counts rest on; the
audit log; the webhook log; stored API answers) it is replaced by a keyed hash
(``privacy.hashing``).
"""

import functools
import operator
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import reduce
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import transaction
from django.db.models import Case, CharField, F, Max, Min, Q, TextField, Value, When
from django.db.models.functions import Cast
from django.utils import timezone

from addressbook.models import AuditEvent, Company, Contact
from addressbook.services import delete_contact
from addressbook.services.audit import record_audit
from api.models import IdempotentRequest, WebhookAttempt, WebhookDelivery
from campaigns.models import EmailFeedback, Message
from optout.consent import Actor
from optout.models import InboundMessage, OptinRequest, ReplyRoute
from optout.selectors import is_suppressed
from optout.services import record_optout

from .hashing import erasure_hash
from .selectors import (
    consent_events_of_person,
    is_phone,
    messages_of_person,
    optin_requests_of_person,
    person_data,
    replies_of_person,
)

# Keys of stored JSON (webhook payloads, API answers, audit details) that hold what a
# person wrote or is called, blanked in an object about them.
FREE_TEXT_KEYS = frozenset(
    {"first_name", "last_name", "body", "subject", "text", "reply", "reason_text", "raw_text"}
)


@dataclass(frozen=True)
class Erasure:
    """What an erasure did, as the audit log and the API tell it (no address in clear)."""

    contact_id: int
    addresses: list[str]  # the keyed hashes that stand for the person's addresses now
    messages: int
    replies: int
    consent_events: int
    suppressed: int  # addresses the erasure itself put on the suppression list

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _by(details: dict, api_key_name: str) -> dict:
    # Done through the API: the audit log names the key, as it does elsewhere.
    return {**details, "api_key": api_key_name} if api_key_name else details


@transaction.atomic
def erase_person(
    *,
    contact: Contact,
    source: str,
    actor: Actor,
    user: AbstractBaseUser | None = None,
    api_key_name: str = "",
    ip: str | None = None,
) -> Erasure:
    """Erase this contact and what is held about them; their opt-out stays, forever.

    ``source`` and ``actor`` are those of the opt-out recorded for each address that was
    still reachable (Source.DASHBOARD, API or ADMIN). Raises ``Contact.DoesNotExist`` when
    the contact is gone already (erased by someone else a moment ago).
    """
    company = contact.company
    # One erasure of a contact at a time: the second one waits here, then finds it gone.
    # The row as it is now, not as the caller read it: its addresses may have changed.
    locked = list(Contact.objects.select_for_update().filter(company=company, pk=contact.pk))
    if not locked:
        raise Contact.DoesNotExist("This contact has already been erased or deleted.")
    contact = locked[0]
    contact.company = company
    # First the opt-out, while the contact still links the person's addresses.
    suppressed = 0
    for address in contact.addresses:
        if not is_suppressed(company=company, address=address):
            record_optout(company=company, address=address, source=source, actor=actor)
            suppressed += 1
    addresses = contact.addresses
    hashes = {address: erasure_hash(address) for address in addresses}

    messages = messages_of_person(contact=contact, addresses=addresses)
    # Sent to the contact at a number it no longer has: that number goes from these rows
    # too (only these: it may be someone else's now).
    sent_to = set(messages.values_list("to", flat=True).distinct())
    # Still waiting to go, they never will: the address is suppressed now.
    messages.filter(status=Message.Status.QUEUED).update(status=Message.Status.SKIPPED)
    # No short code: the person's old link and unsubscribe token now lead nowhere (they
    # would name a hash, not an address); they are suppressed already.
    sent_hashes = {a: erasure_hash(a) for a in sent_to | set(addresses)}
    message_count = messages.update(
        to=_swap(sent_hashes, on="to", keep="to"), subject="", body="", short_code=None
    )
    # The email services' bounces and complaints about those addresses: the address as its
    # hash, the service's words (which may quote it) gone.
    EmailFeedback.objects.filter(company=company, address__in=list(sent_hashes)).update(
        address=_swap(sent_hashes, on="address", keep="address"), description=""
    )

    replies = replies_of_person(contact=contact, addresses=addresses)
    # Nothing left to read in them: out of the marketers' queue of replies to review.
    replies.filter(status=InboundMessage.Status.UNMATCHED).update(
        status=InboundMessage.Status.DISMISSED
    )
    reply_count = replies.update(
        sender=_swap(hashes, on="sender_e164", keep="sender"),
        sender_e164=_swap(hashes, on="sender_e164", keep="sender_e164"),
        text="",
    )
    # Who last sent marketing to the number, to route its replies: a hash routes nothing.
    phones = [a for a in addresses if is_phone(a)]
    ReplyRoute.objects.filter(company=company, address__in=phones).delete()

    # The one change the ledger accepts: its free text, blanked; the events stay.
    event_count = consent_events_of_person(contact=contact, addresses=addresses).update(
        reason_text="", raw_text="", user_agent="", ip_address=None
    )
    optin_requests_of_person(contact=contact, addresses=addresses).filter(
        status=OptinRequest.Status.PENDING
    ).update(status=OptinRequest.Status.EXPIRED)
    _scrub_webhook_outbox(company=company, addresses=addresses, hashes=hashes)
    _scrub_stored_answers(company=company, hashes=hashes)
    _scrub_audit_log(company=company, hashes=hashes)

    erasure = Erasure(
        contact_id=contact.pk,
        addresses=[hashes[a] for a in addresses],
        messages=message_count,
        replies=reply_count,
        consent_events=event_count,
        suppressed=suppressed,
    )
    details = {k: v for k, v in erasure.as_dict().items() if k != "contact_id"}
    record_audit(
        company=company,
        action=AuditEvent.Action.PERSON_ERASED,
        actor=user,
        obj=contact,
        target=f"Contact #{contact.pk}",
        details=_by(details, api_key_name),
        ip=ip,
    )
    delete_contact(contact=contact)
    return erasure


def _swap(hashes: dict[str, str], *, on: str, keep: str) -> Case:
    """``keep``'s new value: the hash of ``on``'s address, for the person's rows."""
    whens = [When(**{on: address}, then=Value(hashed)) for address, hashed in hashes.items()]
    return Case(*whens, default=F(keep), output_field=CharField())


def scrub(value: Any, hashes: dict[str, str], *, about_person: bool = False) -> Any:
    """Stored JSON with the person's addresses hashed and, in an object that names one of
    them (or in all of it, when it is ``about_person``), what they wrote blanked."""
    if isinstance(value, str):
        return hashes.get(value, value)
    if isinstance(value, list):
        return [scrub(item, hashes, about_person=about_person) for item in value]
    if not isinstance(value, dict):
        return value
    theirs = about_person or any(isinstance(v, str) and v in hashes for v in value.values())
    scrubbed = {}
    for key, item in value.items():
        if theirs and key in FREE_TEXT_KEYS and isinstance(item, str):
            scrubbed[key] = ""
        elif theirs and key == "custom" and isinstance(item, dict):
            scrubbed[key] = {}
        else:
            scrubbed[key] = scrub(item, hashes, about_person=about_person)
    return scrubbed


def _scrub_webhook_outbox(*, company: Company, addresses: list[str], hashes: dict) -> None:
    """Deliveries of the person's consent events: what they wrote goes everywhere; the
    address goes from the log, and stays in what is still to be sent, so that the
    company's own systems still hear of the opt-out (the ledger keeps it too)."""
    deliveries = list(WebhookDelivery.objects.filter(company=company, event__address__in=addresses))
    done = []
    for delivery in deliveries:
        pending = delivery.status == WebhookDelivery.Status.PENDING
        WebhookDelivery.objects.filter(company=company, pk=delivery.pk).update(
            payload=scrub(delivery.payload, {} if pending else hashes, about_person=True)
        )
        if not pending:
            done.append(delivery.pk)
    # What the endpoint answered may echo the payload.
    WebhookAttempt.objects.filter(company=company, delivery_id__in=done).update(response_snippet="")


def _scrub_stored_answers(*, company: Company, hashes: dict[str, str]) -> None:
    """Answers kept for Idempotency-Key replays that show the person (a contact created,
    a message sent): replayed from now on with the addresses hashed."""
    if not hashes:
        return
    named = reduce(operator.or_, (Q(response_text__contains=a) for a in hashes))
    records = list(
        IdempotentRequest.objects.filter(company=company, response__isnull=False)
        .annotate(response_text=Cast("response", output_field=TextField()))
        .filter(named)
    )
    for record in records:
        IdempotentRequest.objects.filter(company=company, pk=record.pk).update(
            response=scrub(record.response, hashes)
        )


def _scrub_audit_log(*, company: Company, hashes: dict[str, str]) -> None:
    """Events about one of the person's addresses (an opt-out recorded from their reply):
    the target becomes the hash, the reply quoted in the details goes."""
    for event in AuditEvent.objects.filter(company=company, target__in=list(hashes)):
        AuditEvent.objects.filter(company=company, pk=event.pk).update(
            target=hashes[event.target],
            details=scrub(event.details, hashes, about_person=True),
        )


def export_person(
    *,
    contact: Contact,
    user: AbstractBaseUser | None = None,
    api_key_name: str = "",
    ip: str | None = None,
) -> dict:
    """Everything held about the person (GDPR Art. 15 and 20), as JSON-ready data; who
    took it out is on the audit log."""
    data = person_data(contact=contact)
    data["exported_at"] = data_moment(timezone.now())
    record_audit(
        company=contact.company,
        action=AuditEvent.Action.PERSON_EXPORTED,
        actor=user,
        obj=contact,
        target=f"Contact #{contact.pk}",
        details=_by({}, api_key_name),
        ip=ip,
    )
    return data


def data_moment(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# --- retention -----------------------------------------------------------------------
RETENTION_BATCH = 5000
# Message ids grow with their created_at, up to the moments writers take between the two;
# a day either side of the cutoff is more than any of them.
ID_SKEW = timedelta(days=1)
IN_FLIGHT = (Message.Status.QUEUED, Message.Status.SENDING)


@dataclass(frozen=True)
class Retained:
    messages: int
    replies: int


def apply_retention_everywhere(*, now: datetime | None = None) -> Retained:
    """Every company, each by its own ``retention_days``."""
    now = now or timezone.now()
    # Companies with the same setting share their cutoff, so its search is made once.
    first_id_from = functools.cache(_first_message_id_from)
    messages = replies = 0
    for company in Company.objects.order_by("pk").iterator():
        done = apply_retention(company=company, now=now, first_id_from=first_id_from)
        messages, replies = messages + done.messages, replies + done.replies
    return Retained(messages=messages, replies=replies)


def apply_retention(
    *,
    company: Company,
    now: datetime | None = None,
    first_id_from: Callable[[datetime], int | None] | None = None,
) -> Retained:
    """Blank the bodies of the company's messages and the texts of its replies older than
    ``company.retention_days``. The rows stay, so every count does; consent events keep
    their record. In batches of RETENTION_BATCH, each its own statement and commit."""
    cutoff = (now or timezone.now()) - timedelta(days=company.retention_days)
    first_id_from = first_id_from or _first_message_id_from
    return Retained(
        messages=_blank_old_messages(company=company, cutoff=cutoff, first_id_from=first_id_from),
        replies=_blank_old_replies(company=company, cutoff=cutoff),
    )


def _watermark_key(company: Company, what: str) -> str:
    return f"privacy:retention:{what}:{company.pk}"


def _blank_old_messages(
    *, company: Company, cutoff: datetime, first_id_from: Callable[[datetime], int | None]
) -> int:
    """A keyset walk over message ids, between where the last run finished and the first
    id written after the cutoff: each run reads what aged since, not the whole history.

    Messages have no index on (company, created_at); the ids stand in for it (they grow
    with time). Where the last run finished is kept in the cache: lost, the walk starts
    at the first message again, slower but just as right.
    """
    upto = first_id_from(cutoff + ID_SKEW)
    if upto is None:
        return 0  # no message at all
    after = cache.get(_watermark_key(company, "messages"), 0)
    old = (
        Message.objects.filter(company=company, created_at__lt=cutoff, pk__lt=upto)
        .exclude(status__in=IN_FLIGHT)  # a message about to go keeps its text
        .exclude(body="", subject="")
    )
    blanked, cursor = 0, after
    while True:
        ids = list(
            old.filter(pk__gt=cursor).order_by("pk").values_list("pk", flat=True)[:RETENTION_BATCH]
        )
        if not ids:
            break
        blanked += Message.objects.filter(company=company, pk__in=ids).update(body="", subject="")
        cursor = ids[-1]
        if len(ids) < RETENTION_BATCH:
            break
    # Everything below this id is older than the cutoff and blank, except what is still
    # in flight: the next run starts at the first of those.
    done_below = first_id_from(cutoff - ID_SKEW)
    waiting = (
        Message.objects.filter(
            company=company, pk__gt=after, pk__lt=done_below, status__in=IN_FLIGHT
        )
        .aggregate(first=Min("pk"))
        .get("first")
    )
    mark = (waiting if waiting is not None else done_below) - 1
    if mark > after:
        cache.set(_watermark_key(company, "messages"), mark, timeout=None)
    return blanked


def _first_message_id_from(moment: datetime) -> int | None:
    """The first message id written at or after ``moment`` (one past the last when none
    was); None when there is no message at all.

    A binary search over the primary key: some forty index lookups, never a scan.
    """
    bounds = Message.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
    lo, hi = bounds["lo"], bounds["hi"]
    if hi is None:
        return None
    if Message.objects.filter(pk=hi, created_at__lt=moment).exists():
        return hi + 1
    while lo < hi:
        mid = (lo + hi) // 2
        first = (
            Message.objects.filter(pk__gte=mid)
            .order_by("pk")
            .values_list("created_at", flat=True)
            .first()
        )
        if first >= moment:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _blank_old_replies(*, company: Company, cutoff: datetime) -> int:
    """Replies are found by their received_at index, from the previous run's cutoff on.

    A reply not acted on yet keeps its text: it may be a STOP."""
    since = cache.get(_watermark_key(company, "replies"))
    old = (
        InboundMessage.objects.filter(company=company, received_at__lt=cutoff)
        .exclude(status=InboundMessage.Status.RECEIVED)
        .exclude(text="")
    )
    if since is not None:
        old = old.filter(received_at__gte=since - ID_SKEW)
    blanked = 0
    while ids := list(old.values_list("pk", flat=True)[:RETENTION_BATCH]):
        blanked += InboundMessage.objects.filter(company=company, pk__in=ids).update(text="")
    cache.set(_watermark_key(company, "replies"), cutoff, timeout=None)
    return blanked
