"""Delivery reports: what the gateway later learnt of the messages it accepted.

A report names a message by our reference, ``str(Message.pk)``, which the backends hand
to the gateway with each message.
"""

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from addressbook.models import Company
from optout.gateways import StatusReport

from .backends import UNKNOWN_OUTCOME_PREFIX
from .models import Channel, Message

logger = logging.getLogger(__name__)

MAX_REPORTS = 1000
DELIVERED = "delivered"
FAILED = "failed"
# Report statuses and what each means for the message. The gateway's in-between states
# (it took the message, it is still trying) change nothing here.
OUTCOMES = {
    "delivered": DELIVERED,
    "failed": FAILED,
    "rejected": FAILED,
    "expired": FAILED,
    "undeliverable": FAILED,
    "accepted": None,
    "sent": None,
    "buffered": None,
    "pending": None,
}
DEFAULT_FAILURE = "Not delivered (reported by the gateway)"
# A primary key of ours, and no wider than a bigint.
REFERENCE = re.compile(r"[1-9][0-9]{0,17}")


class InvalidReport(ValueError):
    """The reports are not all understood; none of them is applied."""


@dataclass(frozen=True)
class DeliveryReport:
    reference: str  # ours; "" when the gateway names the message only by its own id
    outcome: str | None  # DELIVERED, FAILED, or None for a report that changes nothing
    error: str = ""
    at: datetime | None = None
    # The gateway's id of the message (Message.gateway_reference), used without ours.
    gateway_reference: str = ""

    @property
    def names(self) -> str:
        return self.reference or self.gateway_reference


def reports_from_gateway(reports: list[StatusReport]) -> list[DeliveryReport]:
    """A real gateway's reports (optout.gateways), already mapped to our statuses."""
    return [
        DeliveryReport(r.reference, OUTCOMES[r.status], r.error, r.at, r.gateway_reference)
        for r in reports
    ]


def parse_reports(payload: dict) -> list[DeliveryReport]:
    """``{"reference", "status", "error"?, "at"?}`` or ``{"reports": [those, ...]}``."""
    items = payload.get("reports", [payload])
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_REPORTS:
        raise InvalidReport(f"reports must be a list of 1 to {MAX_REPORTS} reports.")
    return [_parse_one(item, number) for number, item in enumerate(items, start=1)]


def _parse_one(item, number: int) -> DeliveryReport:
    if not isinstance(item, dict):
        raise InvalidReport(f"Report {number} is not an object.")
    reference, status = item.get("reference"), item.get("status")
    if not isinstance(reference, str | int) or isinstance(reference, bool):
        raise InvalidReport(f"Report {number} has no reference.")
    if not isinstance(status, str) or status.lower() not in OUTCOMES:
        raise InvalidReport(f"Report {number} has an unknown status: {status!r}.")
    error = item.get("error") or ""
    if not isinstance(error, str):
        raise InvalidReport(f"Report {number} has an error that is not text.")
    return DeliveryReport(str(reference), OUTCOMES[status.lower()], error, _moment(item, number))


def _moment(item: dict, number: int) -> datetime | None:
    at = item.get("at")
    if at in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(at)
    except (TypeError, ValueError) as exc:
        raise InvalidReport(f"Report {number} has an 'at' that is not an ISO time.") from exc
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)


class Tally(NamedTuple):
    updated: int  # messages changed
    unknown: int  # reports naming no message of ours (of this company, when scoped)
    ignored: int  # reports on a message that may not change: never handed over, or settled


def record_delivery_reports(
    *, reports: list[DeliveryReport], company: Company | None = None
) -> Tally:
    """Apply the reports, in order, to messages of ``company`` (of any, for the platform's
    own gateway account).

    Two queries whatever the number of reports: one to read and lock the messages, one
    to write those that changed.
    """
    ids = {int(r.reference) for r in reports if REFERENCE.fullmatch(r.reference)}
    # The gateway's own id names the message where ours is missing or not one of ours
    # (Vonage's client-ref on a message another program sent through the account).
    theirs = {r.gateway_reference for r in reports if not _by_ours(r) and r.gateway_reference}
    found = Message.objects.filter(
        Q(pk__in=ids) | Q(gateway_reference__in=theirs), channel=Channel.SMS
    )
    if company is not None:
        # A gateway account of one company settles only that company's messages; another's
        # reference is as unknown as one that names nothing.
        found = found.filter(company=company)
    with transaction.atomic():
        # Locked, so that a report and a worker finishing the same message never interleave;
        # in id order, as a worker's UPDATE mostly takes them, to keep deadlocks rare.
        locked = found.select_for_update().order_by("pk")
        messages, by_theirs = {}, {}
        fields = ("id", "status", "error", "sent_at", "delivered_at", "gateway_reference")
        for m in locked.only(*fields):
            messages[str(m.pk)] = m
            if m.gateway_reference in theirs:
                by_theirs[m.gateway_reference] = m
        changed, unknown, ignored = {}, [], 0
        for report in reports:
            if _by_ours(report):
                message = messages.get(report.reference)
            else:
                message = by_theirs.get(report.gateway_reference)
            if message is None:
                unknown.append(report.names)
            elif report.outcome is None:
                continue
            elif _awaiting_outcome(message):
                _apply(report, message)
                changed[message.pk] = message
            else:
                ignored += 1
        Message.objects.bulk_update(
            changed.values(), ["status", "error", "sent_at", "delivered_at"]
        )
    if unknown:
        logger.info(
            "%d delivery report(s) name no message of ours, e.g. %r", len(unknown), unknown[:5]
        )
    if ignored:
        logger.info("%d delivery report(s) name a message that may no longer change", ignored)
    return Tally(len(changed), len(unknown), ignored)


def _by_ours(report: DeliveryReport) -> bool:
    """Whether the report names the message by our reference rather than the gateway's."""
    return bool(REFERENCE.fullmatch(report.reference)) or not report.gateway_reference


def _apply(report: DeliveryReport, message: Message) -> None:
    if report.outcome == DELIVERED:
        message.status, message.error = Message.Status.DELIVERED, ""
        # The report proves it went out, also when the hand-off never told us so.
        message.delivered_at = report.at or timezone.now()
        message.sent_at = message.sent_at or message.delivered_at
    else:
        message.status = Message.Status.FAILED
        message.error = (report.error or DEFAULT_FAILURE)[:255]


def _awaiting_outcome(message: Message) -> bool:
    """Handed to the gateway and not known to have failed or arrived.

    Never QUEUED: a message waiting for its sending hours, or put back after a hand-off
    that failed before the gateway took it, has not gone; a report saying it arrived is
    wrong or forged, and believing it would keep it from ever being sent. Never DELIVERED:
    a late or repeated failure report does not undo a delivery.
    """
    unknown = message.status == Message.Status.FAILED and message.error.startswith(
        UNKNOWN_OUTCOME_PREFIX
    )
    return unknown or message.status in (Message.Status.SENDING, Message.Status.SENT)
