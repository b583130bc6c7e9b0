from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, QuerySet
from django.utils import timezone

from addressbook.models import Company
from optout.selectors import optouts_for_campaign, reason_counts

from .models import Campaign, Message


@dataclass(frozen=True)
class CampaignStats:
    recipients: int
    queued: int
    sent: int
    skipped: int
    failed: int
    optouts: int

    @property
    def optout_percent(self) -> float:
        return 100 * self.optouts / self.sent if self.sent else 0.0


def campaigns_of(*, company: Company) -> QuerySet[Campaign]:
    return Campaign.objects.filter(company=company)


def campaign_stats(*, campaign: Campaign) -> CampaignStats:
    counts = dict(
        Message.objects.filter(campaign=campaign)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    S = Message.Status
    return CampaignStats(
        recipients=sum(counts.values()),
        queued=counts.get(S.QUEUED, 0) + counts.get(S.SENDING, 0),
        sent=counts.get(S.SENT, 0) + counts.get(S.DELIVERED, 0),
        skipped=counts.get(S.SKIPPED, 0),
        failed=counts.get(S.FAILED, 0),
        optouts=optouts_for_campaign(company=campaign.company, campaign_id=campaign.pk).count(),
    )


def campaign_optouts(*, campaign: Campaign):
    events = optouts_for_campaign(company=campaign.company, campaign_id=campaign.pk)
    return events, reason_counts(events)


def message_for_short_code(code: str) -> Message | None:
    """The marketing message a recipient's opt-out link belongs to, while it is valid."""
    oldest = timezone.now() - timedelta(days=settings.SHORT_LINK_TTL_DAYS)
    return (
        Message.objects.filter(short_code=code, created_at__gte=oldest)
        .select_related("company", "campaign")
        .first()
    )
