"""Campaign figures for the home page: from the sent tally and the chunks, never by
counting messages, so they cost the same at a million recipients as at ten."""

from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate

from addressbook.models import Company
from optout.selectors import optouts_per_campaign

from .models import Campaign, CampaignChunk, SentTally
from .selectors import delivered_per_campaign


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
    sent = sent_per_campaign(company=company, ids=ids)
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


def sent_per_campaign(*, company: Company, ids: list[int]) -> dict[int, int]:
    """What the gateway took of each of these campaigns, from the tally; none: left out."""
    if not ids:
        return {}
    return dict(
        SentTally.objects.filter(company=company, campaign_id__in=ids)
        .order_by()
        .values("campaign_id")
        .annotate(sent=Sum("sent"))
        .values_list("campaign_id", "sent")
    )


@dataclass(frozen=True)
class ListFigures:
    """A campaign's line in the campaign list."""

    sent: int  # accepted by the gateway (the tally: a later failure does not take it back)
    delivered: int
    optouts: int  # attributed to the campaign

    @property
    def optout_percent(self) -> float:
        """Opt-outs per message the gateway accepted, as the report's per-country rate."""
        return round(100 * self.optouts / self.sent, 2) if self.sent else 0.0


def list_figures(*, company: Company, campaigns: list[Campaign]) -> dict[int, ListFigures]:
    """Sent, delivered and opted out for a page of campaigns: three grouped reads for the
    whole page (the tally, the delivered messages, the opt-out events), whatever its size."""
    ids = [c.pk for c in campaigns]
    sent = sent_per_campaign(company=company, ids=ids)
    delivered = delivered_per_campaign(company=company, ids=ids)
    optouts = optouts_per_campaign(company=company, campaign_ids=ids)
    return {
        pk: ListFigures(sent.get(pk, 0), delivered.get(pk, 0), optouts.get(pk, 0)) for pk in ids
    }


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
