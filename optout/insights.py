"""Reads for the company's insights: its opt-outs in a period, counted by the database.

Each function takes the period's events (``optouts``) and answers with one GROUP BY over
the (company, created_at) index, so the cost grows with the period's events, never with
the whole history, and no event is loaded into Python.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from django.db.models import Case, Count, DateTimeField, F, IntegerField, Q, QuerySet, When
from django.db.models.expressions import ExpressionWrapper
from django.db.models.functions import TruncDay, TruncWeek

from addressbook.models import Company

from .models import ConsentEvent, Source, reason_label


def optouts(
    *, company: Company, start: datetime, end: datetime, channel: str = ""
) -> QuerySet[ConsentEvent]:
    """The company's opt-outs in [start, end); ``channel`` "sms" or "email" keeps the
    numbers or the email addresses (an event's channel is its address's). A person's other
    address, out with them, is not another opt-out."""
    events = ConsentEvent.objects.filter(
        company=company,
        kind=ConsentEvent.Kind.OPT_OUT,
        created_at__gte=start,
        created_at__lt=end,
    ).exclude(source=Source.LINKED)
    if channel == "email":
        events = events.filter(address__contains="@")
    elif channel == "sms":
        events = events.exclude(address__contains="@")
    return events


# (label, upper bound of the time since the message was sent); the last has none.
DELAY_BUCKETS: list[tuple[str, timedelta | None]] = [
    ("< 1 h", timedelta(hours=1)),
    ("1–6 h", timedelta(hours=6)),
    ("6–24 h", timedelta(hours=24)),
    ("1–3 days", timedelta(days=3)),
    ("3–7 days", timedelta(days=7)),
    ("Later", None),
]


@dataclass(frozen=True)
class Breakdown:
    """The period's opt-outs counted four ways, from one GROUP BY."""

    total: int
    attributed: int  # to a campaign
    by_campaign: dict[int, int]
    by_country: dict[str, tuple[int, int]]  # "" for email: (opt-outs, attributed)
    by_reason: list[tuple[str, int]]  # (label, opt-outs), most given first


def optout_totals(events: QuerySet[ConsentEvent]) -> tuple[int, int]:
    """(all opt-outs, those attributed to a campaign), in one query."""
    totals = events.aggregate(
        all=Count("id"), attributed=Count("id", filter=Q(campaign_id__isnull=False))
    )
    return totals["all"], totals["attributed"]


def optout_breakdown(events: QuerySet[ConsentEvent]) -> Breakdown:
    """Totals, per campaign, per country and per reason. One scan of the period's events
    grouped by (campaign, country, reason), a few hundred rows at most, which are then
    added up here; four GROUP BYs would read the same events four times."""
    rows = (
        events.order_by()
        .values("campaign_id", "country", "reason")
        .annotate(count=Count("id"))
        .values_list("campaign_id", "country", "reason", "count")
    )
    by_campaign: Counter[int] = Counter()
    by_country: Counter[str] = Counter()
    attributed_by_country: Counter[str] = Counter()
    by_reason: Counter[str] = Counter()
    for campaign_id, country, reason, count in rows:
        by_country[country] += count
        by_reason[reason] += count
        if campaign_id is not None:
            by_campaign[campaign_id] += count
            attributed_by_country[country] += count
    return Breakdown(
        total=by_country.total(),
        attributed=by_campaign.total(),
        by_campaign=dict(by_campaign),
        by_country={c: (n, attributed_by_country[c]) for c, n in by_country.items()},
        by_reason=[
            (reason_label(reason), n)
            for reason, n in sorted(by_reason.items(), key=lambda item: (-item[1], item[0]))
        ],
    )


def optouts_by_period_and_source(
    events: QuerySet[ConsentEvent], *, zone: tzinfo, weekly: bool
) -> dict[tuple[date, str], int]:
    """{(first day of the day or week in ``zone``, source): opt-outs}; empty buckets absent."""
    trunc = (TruncWeek if weekly else TruncDay)("created_at", tzinfo=zone)
    rows = events.order_by().annotate(bucket=trunc).values("bucket", "source")
    return {
        (row["bucket"].astimezone(zone).date(), row["source"]): row["count"]
        for row in rows.annotate(count=Count("id"))
    }


def free_text_answers(events: QuerySet[ConsentEvent], *, query: str = "") -> QuerySet:
    """What people wrote when they left, newest first; ``query`` narrows to a phrase."""
    answers = events.exclude(reason_text="")
    if query:
        answers = answers.filter(reason_text__icontains=query)
    return answers.order_by("-created_at", "-id").only(
        "created_at", "address", "source", "reason", "reason_text", "campaign_id"
    )


def optout_delays(events: QuerySet[ConsentEvent]) -> list[tuple[str, int]]:
    """The opt-outs among ``events`` by time since the campaign's message was sent, in
    ``DELAY_BUCKETS`` order (every bucket, 0 included). One GROUP BY over the events: each
    carries when its message was sent; one whose message is not known (an opt-out by
    API for an address the campaign never wrote to) is left out."""
    bucket = Case(
        *(
            When(
                created_at__lt=ExpressionWrapper(F("message_sent_at") + bound, DateTimeField()),
                then=index,
            )
            for index, (_, bound) in enumerate(DELAY_BUCKETS)
            if bound is not None
        ),
        default=len(DELAY_BUCKETS) - 1,
        output_field=IntegerField(),
    )
    rows = (
        events.filter(message_sent_at__isnull=False)
        .order_by()
        .annotate(bucket=bucket)
        .values("bucket")
        .annotate(count=Count("id"))
    )
    counts = {row["bucket"]: row["count"] for row in rows}
    return [(label, counts.get(index, 0)) for index, (label, _) in enumerate(DELAY_BUCKETS)]
