"""Reads for the company's insights: what its campaigns sent.

Sending is read from ``SentTally`` (a few rows per campaign and hour), never by counting
messages.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet, Sum

from addressbook.models import Company

from .models import SentTally


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
