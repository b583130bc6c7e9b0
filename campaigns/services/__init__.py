"""What campaigns do, for views, tasks, the admin and other apps to call."""

from .lifecycle import (
    CampaignError,
    cancel_campaign,
    create_campaign,
    pause_campaign,
    resume_campaign,
    schedule_campaign,
    send_campaign,
    start_due_campaigns,
    unschedule_campaign,
    update_campaign,
)
from .sending import (
    UNKNOWN_OUTCOME,
    RetryLater,
    dispatch,
    note_chunk_failure,
    plan_campaign,
    send_chunk,
    tick,
)
from .transactional import send_transactional, send_transactional_email

__all__ = [
    "UNKNOWN_OUTCOME",
    "CampaignError",
    "RetryLater",
    "cancel_campaign",
    "create_campaign",
    "dispatch",
    "note_chunk_failure",
    "pause_campaign",
    "plan_campaign",
    "resume_campaign",
    "schedule_campaign",
    "send_campaign",
    "send_chunk",
    "send_transactional",
    "send_transactional_email",
    "start_due_campaigns",
    "tick",
    "unschedule_campaign",
    "update_campaign",
]
