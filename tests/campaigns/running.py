"""Running a campaign's tasks in the test's own process, in the order a worker would."""

from campaigns.models import Campaign
from campaigns.services import plan_campaign, send_chunk


def run_campaign(campaign: Campaign) -> None:
    """Plan, then send every chunk as the task it was handed to would."""
    plan_campaign(campaign_id=campaign.pk)
    while chunks := list(campaign.chunks.filter(done_at__isnull=True)):
        for chunk in chunks:
            send_chunk(chunk_id=chunk.pk, task_token=chunk.lease)
    campaign.refresh_from_db()
