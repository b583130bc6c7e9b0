"""Campaign figures for the home page: from the sent tally and the chunks, never by
counting messages, so they cost the same at a million recipients as at ten."""

from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate

from addressbook.models import Company

from .models import Campaign, CampaignChunk, SentTally


def sent_between(*, company: Company, start: datetime, end: datetime) -> int:
    """Campaign messages the gateway took in [start, end), to the hour of the tally."""
    total = SentTally.objects.filter(company=company, hour__gte=start, hour__lt=end).aggregate(
        sent=Sum("sent")
    )["sent"]
    return total or 0


def sent_by_day(
    *, company: Company, start: datetime, end: datetime, zone: tzinfo
) -> dict[date, int]:
    """Sent per day of ``zone`` in [start, end)."""
    rows = (
        SentTally.objects.filter(company=company, hour__gte=start, hour__lt=end)
        .annotate(day=TruncDate("hour", tzinfo=zone))
        .order_by()
        .values("day")
        .annotate(sent=Sum("sent"))
    )
    return {row["day"]: row["sent"] for row in rows}


@dataclass(frozen=True)
class SendingNow:
    campaign: Campaign
    sent: int
    chunks_done: int
    chunks: int

    @property
    def percent(self) -> int:
        """Share of the audience's chunks finished: a campaign is cut into chunks when it
        starts, so this needs no count of its recipients."""
        return 100 * self.chunks_done // self.chunks if self.chunks else 0


def campaigns_sending(*, company: Company) -> list[SendingNow]:
    campaigns = list(
        Campaign.objects.filter(company=company, status=Campaign.Status.SENDING).order_by(
            "started_at", "id"
        )
    )
    if not campaigns:
        return []
    ids = [c.pk for c in campaigns]
    sent = dict(
        SentTally.objects.filter(company=company, campaign_id__in=ids)
        .order_by()
        .values("campaign_id")
        .annotate(sent=Sum("sent"))
        .values_list("campaign_id", "sent")
    )
    chunks = {
        row["campaign_id"]: row
        for row in CampaignChunk.objects.filter(campaign__company=company, campaign_id__in=ids)
        .order_by()
        .values("campaign_id")
        .annotate(total=Count("id"), done=Count("id", filter=Q(done_at__isnull=False)))
    }
    return [
        SendingNow(
            campaign=c,
            sent=sent.get(c.pk, 0),
            chunks_done=chunks.get(c.pk, {}).get("done", 0),
            chunks=chunks.get(c.pk, {}).get("total", 0),
        )
        for c in campaigns
    ]


def campaigns_paused_by_alarm(*, company: Company) -> list[Campaign]:
    return list(
        Campaign.objects.filter(company=company, status=Campaign.Status.PAUSED)
        .exclude(paused_reason="")
        .order_by("-started_at", "-id")
    )


def campaign_names(*, company: Company, ids: set[int]) -> dict[int, str]:
    """Names of these campaigns of the company; a deleted or foreign id is left out."""
    if not ids:
        return {}
    return dict(Campaign.objects.filter(company=company, pk__in=ids).values_list("pk", "name"))


def has_campaigns(*, company: Company) -> bool:
    return Campaign.objects.filter(company=company).exists()
