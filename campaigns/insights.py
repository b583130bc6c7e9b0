"""Reads for the company's insights: what its campaigns sent, and how soon people left.

Sending is read from ``SentTally`` (a few rows per campaign and hour), never by counting
messages. The time from send to opt-out needs each opt-out's own message: it is found by
the message's campaign and address, one index probe per opt-out (see
``message_campaign_to_idx``), inside one aggregate query.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import (
    Case,
    Count,
    DateTimeField,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    When,
)

from addressbook.models import Company
from optout.models import ConsentEvent

from .models import Campaign, Message, SentTally

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
class CampaignSent:
    id: int
    name: str
    sent: int


def tallies(
    *, company: Company, start: datetime, end: datetime, channel: str = ""
) -> QuerySet[SentTally]:
    """The company's sending in [start, end), by the hour (UTC) it was handed over; a
    period that starts inside an hour (a zone 30 minutes off UTC) leaves that hour out."""
    rows = SentTally.objects.filter(company=company, hour__gte=start, hour__lt=end)
    return rows.filter(channel=channel) if channel else rows


def sent_total(rows: QuerySet[SentTally]) -> int:
    return rows.aggregate(sent=Sum("sent"))["sent"] or 0


def sent_by_campaign(rows: QuerySet[SentTally]) -> list[CampaignSent]:
    """The campaigns that sent in the rows' period, with what they sent in it."""
    grouped = (
        rows.order_by()
        .values("campaign_id", "campaign__name")
        .annotate(sent=Sum("sent"))
        .order_by("campaign_id")
    )
    return [CampaignSent(r["campaign_id"], r["campaign__name"], r["sent"]) for r in grouped]


def sent_by_country(rows: QuerySet[SentTally]) -> dict[str, int]:
    grouped = rows.order_by().values("country").annotate(sent=Sum("sent"))
    return {r["country"]: r["sent"] for r in grouped}


def campaign_names(*, company: Company, ids: list[int]) -> dict[int, str]:
    return dict(Campaign.objects.filter(company=company, pk__in=ids).values_list("pk", "name"))


def optout_delays(*, company: Company, events: QuerySet[ConsentEvent]) -> list[tuple[str, int]]:
    """The attributed opt-outs among ``events`` by time since their message was sent, in
    ``DELAY_BUCKETS`` order (every bucket, 0 included); an opt-out whose message is not
    found (deleted campaign, an address the API gave) is left out."""
    # The bucket is chosen inside the message's subquery, where the delay is a comparison
    # of its sent_at with the opt-out's moment: one index probe per opt-out. A bucket
    # computed outside would repeat the subquery in every branch of the CASE.
    optout_at = OuterRef("created_at")
    bucket = Case(
        *(
            When(sent_at__gt=ExpressionWrapper(optout_at - bound, DateTimeField()), then=index)
            for index, (_, bound) in enumerate(DELAY_BUCKETS)
            if bound is not None
        ),
        default=len(DELAY_BUCKETS) - 1,
        output_field=IntegerField(),
    )
    first_message = (
        Message.objects.filter(
            company=company,
            campaign_id=OuterRef("campaign_id"),
            to=OuterRef("address"),
            sent_at__isnull=False,
        )
        .order_by("sent_at")
        .annotate(bucket=bucket)
        .values("bucket")[:1]
    )
    rows = (
        events.filter(campaign_id__isnull=False)
        .order_by()
        .annotate(bucket=Subquery(first_message, output_field=IntegerField()))
        .values("bucket")
        .annotate(count=Count("id"))
    )
    counts = {row["bucket"]: row["count"] for row in rows}  # None: no message found
    return [(label, counts.get(index, 0)) for index, (label, _) in enumerate(DELAY_BUCKETS)]
