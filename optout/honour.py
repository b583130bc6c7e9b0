"""The honour deadline, for staff: opt-out replies that took too long to suppress, and the
STOP no company has been found for.

A reply is stored when it arrives (``InboundMessage.received_at``) and the opt-out it makes
is its ``event``; the time between the two is how long the person waited. Acted on in the
webhook's own request, it takes well under a second: more than a minute means a reply
waited for a marketer, for staff, or for a retry after a failure. Read across companies,
so only from the admin.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import DurationField, ExpressionWrapper, F, QuerySet
from django.utils import timezone

from addressbook.addresses import country_of, mask_phone

from .models import ConsentEvent, InboundMessage, Keyword
from .services import match_keyword

HONOUR_DEADLINE = timedelta(minutes=1)


def slow_optouts(*, deadline: timedelta = HONOUR_DEADLINE) -> QuerySet[InboundMessage]:
    """Every reply whose opt-out was recorded more than ``deadline`` after it was received,
    newest first, each with ``delay``."""
    delay = ExpressionWrapper(
        F("event__created_at") - F("received_at"), output_field=DurationField()
    )
    return (
        InboundMessage.objects.filter(event__kind=ConsentEvent.Kind.OPT_OUT)
        .annotate(delay=delay)
        .filter(delay__gt=deadline)
        .select_related("company", "event")
        .order_by("-received_at", "-id")
    )


def oldest_unattributed_stop() -> InboundMessage | None:
    """The longest-waiting STOP that reached no company: until staff assign it, nobody is
    opted out by it."""
    waiting = InboundMessage.objects.filter(
        status=InboundMessage.Status.UNATTRIBUTED, company__isnull=True
    ).order_by("received_at", "id")
    for inbound in waiting.iterator(chunk_size=200):
        match = match_keyword(inbound.text, country=country_of(inbound.sender_e164))
        if match is not None and match.action == Keyword.Action.STOP:
            return inbound
    return None


def delay_label(delay: timedelta) -> str:
    """``timedelta(minutes=2, seconds=5)`` → ``2 min 5 s``; days and hours past an hour."""
    seconds = int(delay.total_seconds())
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {seconds} s"


@dataclass(frozen=True)
class SlowOptout:
    inbound_id: int
    received_at: datetime
    company: str
    number: str  # masked
    delay: str
    how: str


@dataclass(frozen=True)
class HonourReport:
    slow: Page  # of SlowOptout
    oldest_stop: InboundMessage | None
    oldest_stop_number: str
    oldest_stop_waiting: str


def honour_report(*, page: str | int | None = None, per_page: int = 100) -> HonourReport:
    """What the staff page shows: a page of slow opt-outs, numbers masked, and the oldest
    unattributed STOP with how long it has waited."""
    paginator = Paginator(slow_optouts(), per_page)
    slow = paginator.get_page(page)
    slow.object_list = [
        SlowOptout(
            inbound_id=inbound.pk,
            received_at=inbound.received_at,
            company=inbound.company.name if inbound.company else "",
            number=mask_phone(inbound.sender_e164 or inbound.sender),
            delay=delay_label(inbound.delay),
            how=inbound.event.get_source_display(),
        )
        for inbound in slow.object_list
    ]
    stop = oldest_unattributed_stop()
    return HonourReport(
        slow=slow,
        oldest_stop=stop,
        oldest_stop_number=mask_phone(stop.sender_e164 or stop.sender) if stop else "",
        oldest_stop_waiting=delay_label(timezone.now() - stop.received_at) if stop else "",
    )
