"""Retention: message bodies and reply texts older than the company's setting are blanked;
the rows, and so the counts, stay, and so does the consent record."""

from datetime import datetime

import time_machine
from django.utils import timezone

from campaigns.models import Campaign, Message
from config.celery import app
from optout.models import ConsentEvent, InboundMessage, Source
from optout.services import record_optout
from privacy.services import apply_retention_everywhere
from privacy.tasks import retention_task
from tests.factories import CampaignFactory


def at(moment: str):
    return time_machine.travel(datetime.fromisoformat(moment), tick=False)


def message(company, body: str, **fields) -> Message:
    campaign = CampaignFactory(company=company, status=Campaign.Status.SENT)
    return Message.objects.create(
        company=company,
        campaign=campaign,
        to="+31612345678",
        body=body,
        subject=fields.pop("subject", ""),
        status=fields.pop("status", Message.Status.SENT),
        **fields,
    )


def reply(company, text: str) -> InboundMessage:
    return InboundMessage.objects.create(
        company=company,
        sender="31612345678",
        sender_e164="+31612345678",
        recipient="3010",
        text=text,
        status=InboundMessage.Status.UNMATCHED,
    )


def texts(company) -> dict[str, list[str]]:
    return {
        "messages": list(
            Message.objects.filter(company=company).order_by("pk").values_list("body", flat=True)
        ),
        "replies": list(
            InboundMessage.objects.filter(company=company)
            .order_by("pk")
            .values_list("text", flat=True)
        ),
    }


def test_old_texts_are_blanked_recent_ones_kept_each_company_by_its_own_setting(
    company, other_company
):
    other_company.retention_days = 30
    other_company.save()
    # In the order they were written, as ids grow with time.
    with at("2025-06-01 09:00Z"):  # 274 days before the run: old for both
        message(company, "June offer", subject="For Anna")
        reply(company, "June reply")
        message(other_company, "Globex June")
        record_optout(
            company=company, address="+31612345678", source=Source.SMS_KEYWORD, raw_text="STOP"
        )
    with at("2026-01-01 09:00Z"):  # 60 days before: old for Globex only
        message(company, "New year")
        reply(company, "New year reply")
        message(other_company, "Globex new year")
        reply(other_company, "Globex reply")
    with at("2026-02-25 09:00Z"):  # 5 days before: recent for both
        message(company, "Last week")
        message(other_company, "Globex last week")

    with at("2026-03-02 04:00Z"):
        done = apply_retention_everywhere()

    assert (done.messages, done.replies) == (3, 2)
    assert texts(company) == {
        "messages": ["", "New year", "Last week"],
        "replies": ["", "New year reply"],
    }
    assert texts(other_company) == {"messages": ["", "", "Globex last week"], "replies": [""]}
    assert Message.objects.filter(company=company, subject="For Anna").count() == 0
    # The rows stay, and so every count: statuses, countries, the consent record.
    assert Message.objects.filter(status=Message.Status.SENT).count() == 6
    assert ConsentEvent.objects.get(company=company).raw_text == "STOP"


def test_what_ages_later_is_blanked_by_a_later_run(company):
    with at("2025-06-01 09:00Z"):
        message(company, "June offer")
        reply(company, "June reply")
    with at("2025-08-01 09:00Z"):
        message(company, "August offer")
        reply(company, "August reply")
    with at("2025-12-10 04:00Z"):  # 192 and 131 days on
        apply_retention_everywhere()
    assert texts(company) == {"messages": ["", "August offer"], "replies": ["", "August reply"]}

    with at("2026-02-01 04:00Z"):  # 184 days after August
        done = apply_retention_everywhere()
    assert (done.messages, done.replies) == (1, 1)
    assert texts(company) == {"messages": ["", ""], "replies": ["", ""]}

    with at("2026-02-02 04:00Z"):
        done = apply_retention_everywhere()
    assert (done.messages, done.replies) == (0, 0)


def test_a_message_still_to_be_sent_keeps_its_text(company):
    with at("2025-06-01 09:00Z"):
        waiting = message(company, "Held for its sending hours", status=Message.Status.QUEUED)
        message(company, "Sent long ago")

    with at("2026-03-02 04:00Z"):
        apply_retention_everywhere()
    waiting.refresh_from_db()
    assert waiting.body == "Held for its sending hours"

    # Sent at last: the next run blanks it, though the run before went past it.
    Message.objects.filter(pk=waiting.pk).update(status=Message.Status.SENT)
    with at("2026-03-03 04:00Z"):
        apply_retention_everywhere()
    waiting.refresh_from_db()
    assert waiting.body == ""


def test_the_task_runs_on_the_beat(company, settings):
    with at("2025-06-01 09:00Z"):
        message(company, "June offer")

    entry = settings.CELERY_BEAT_SCHEDULE["privacy-retention"]
    assert entry["task"] == retention_task.name
    assert entry["task"] in app.tasks
    with at("2026-03-02 04:00Z"):
        retention_task()
    assert texts(company)["messages"] == [""]
    assert timezone.now()  # the clock is back
