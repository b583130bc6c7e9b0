"""The sending engine's rules, run in the test's process: scheduling, the chunks in
flight per campaign, pause, resume, cancel, and chunks whose worker was lost."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from campaigns import throttle
from campaigns.models import Campaign, CampaignChunk, Message
from campaigns.services import (
    CampaignError,
    cancel_campaign,
    pause_campaign,
    plan_campaign,
    resume_campaign,
    schedule_campaign,
    send_chunk,
    start_due_campaigns,
    tick,
    unschedule_campaign,
)
from tests.factories import CampaignFactory, ContactFactory

from .running import run_campaign

AT = datetime(2030, 1, 15, 14, 0, tzinfo=UTC)


@pytest.fixture
def sending(company):
    return CampaignFactory(company=company, status=Campaign.Status.SENDING)


def _queued_tasks(callbacks) -> int:
    for callback in callbacks:
        callback()
    return len(callbacks)


def test_scheduled_campaign_starts_at_its_time_and_not_before(
    company, django_capture_on_commit_callbacks
):
    campaign = CampaignFactory(company=company)
    with time_machine.travel(AT - timedelta(days=1), tick=False):
        assert schedule_campaign(campaign=campaign, at=AT)

    with time_machine.travel(AT - timedelta(seconds=1), tick=False):
        assert start_due_campaigns() == []
    campaign.refresh_from_db()
    assert (campaign.status, campaign.scheduled_at) == (Campaign.Status.SCHEDULED, AT)

    with (
        time_machine.travel(AT, tick=False),
        django_capture_on_commit_callbacks() as callbacks,
    ):
        tick()  # what beat runs every few seconds
        tick()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENDING
    assert campaign.started_at == AT
    assert len(callbacks) == 1, "started once, planned once"


def test_a_schedule_in_the_past_is_refused(company):
    campaign = CampaignFactory(company=company)
    with pytest.raises(CampaignError, match="future"):
        schedule_campaign(campaign=campaign, at=timezone.now() - timedelta(minutes=1))
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


def test_unscheduled_campaign_is_a_draft_again_and_never_starts(company):
    campaign = CampaignFactory(company=company)
    schedule_campaign(campaign=campaign, at=AT)
    assert unschedule_campaign(campaign=campaign)
    with time_machine.travel(AT + timedelta(hours=1), tick=False):
        assert start_due_campaigns() == []
    campaign.refresh_from_db()
    assert (campaign.status, campaign.scheduled_at) == (Campaign.Status.DRAFT, None)


def test_a_few_chunks_per_campaign_are_in_flight_at_a_time(
    company, sending, settings, django_capture_on_commit_callbacks
):
    settings.SEND_CHUNK_SIZE = 2
    settings.SEND_CHUNKS_IN_FLIGHT = 2
    ContactFactory.create_batch(9, company=company)

    with django_capture_on_commit_callbacks() as callbacks:
        plan_campaign(campaign_id=sending.pk)
    assert sending.chunks.count() == 5
    assert len(callbacks) == 2, "two chunk tasks queued, not five"

    first = sending.chunks.order_by("after_id").first()
    with django_capture_on_commit_callbacks() as callbacks:
        send_chunk(chunk_id=first.pk, task_token=first.lease)
    assert len(callbacks) == 1, "a finished chunk makes room for the next one"


def test_a_chunk_whose_worker_was_lost_is_handed_out_again_after_its_lease(
    company, sending, outbox, django_capture_on_commit_callbacks
):
    ContactFactory.create_batch(3, company=company)
    with django_capture_on_commit_callbacks():
        plan_campaign(campaign_id=sending.pk)
    chunk = sending.chunks.get()

    # The task was lost (broker restart, killed worker): nothing happens while its
    # reservation runs ...
    with django_capture_on_commit_callbacks() as callbacks:
        tick()
    assert callbacks == []

    # ... and once it has run out, the tick hands the chunk to a new task.
    CampaignChunk.objects.filter(pk=chunk.pk).update(
        leased_until=timezone.now() - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks() as callbacks:
        tick()
    assert len(callbacks) == 1
    chunk.refresh_from_db()
    send_chunk(chunk_id=chunk.pk, task_token=chunk.lease)
    sending.refresh_from_db()
    assert sending.status == Campaign.Status.SENT
    assert len(outbox) == 3
    # The lost task turns up after all: it finds the chunk done and sends nothing.
    send_chunk(chunk_id=chunk.pk, task_token="the-lost-task")
    assert len(outbox) == 3


def test_pause_stops_before_the_next_batch_and_resume_goes_on(
    company, sending, outbox, settings, django_capture_on_commit_callbacks
):
    settings.SEND_BATCH_SIZE = 2
    ContactFactory.create_batch(5, company=company)
    with django_capture_on_commit_callbacks():
        plan_campaign(campaign_id=sending.pk)
    chunk = sending.chunks.get()

    assert pause_campaign(campaign=sending)
    send_chunk(chunk_id=chunk.pk, task_token=chunk.lease)
    assert outbox == []
    assert Message.objects.filter(status=Message.Status.QUEUED).count() == 5

    with django_capture_on_commit_callbacks() as callbacks:
        assert resume_campaign(campaign=sending)
        assert not resume_campaign(campaign=sending)
    _queued_tasks(callbacks)  # dispatch: hands the chunk out again
    run_campaign(sending)
    assert sending.status == Campaign.Status.SENT
    assert sorted(sms.to for sms in outbox) == sorted(Message.objects.values_list("to", flat=True))
    assert len(outbox) == 5


def test_cancel_sends_nothing_more_and_says_so(company, sending, outbox, settings):
    settings.SEND_CHUNK_SIZE = 2
    ContactFactory.create_batch(4, company=company)
    plan_campaign(campaign_id=sending.pk)
    first, second = sending.chunks.order_by("after_id")
    send_chunk(chunk_id=first.pk, task_token=first.lease)

    assert cancel_campaign(campaign=sending)
    assert not pause_campaign(campaign=sending)
    send_chunk(chunk_id=second.pk, task_token=second.lease)

    sending.refresh_from_db()
    assert sending.status == Campaign.Status.CANCELLED and sending.finished_at
    assert len(outbox) == 2
    assert not sending.chunks.filter(done_at__isnull=True).exists()


def test_cancel_reaches_a_chunk_already_running(company, sending, outbox, settings):
    """A worker that made its messages before the cancel marks them, sends none."""
    settings.SEND_BATCH_SIZE = 1
    ContactFactory.create_batch(3, company=company)
    plan_campaign(campaign_id=sending.pk)
    chunk = sending.chunks.get()
    Campaign.objects.filter(pk=sending.pk).update(status=Campaign.Status.CANCELLED)

    send_chunk(chunk_id=chunk.pk, task_token=chunk.lease)

    assert outbox == []
    assert set(Message.objects.values_list("status", flat=True)) == {Message.Status.CANCELLED}


@pytest.mark.parametrize("store", ["redis", "database"])
def test_rate_limit_is_shared_and_says_how_long_to_wait(store, settings, db, request):
    # Redis: the configured one (CI), else a server of the test session's own.
    settings.REDIS_URL = request.getfixturevalue("redis_url") if store == "redis" else ""
    key = f"test:{store}:{timezone.now().timestamp()}"
    # 10 per second with a burst of one batch of 10: the first batch goes at once ...
    assert throttle.try_acquire(key, 10, 10, burst=1.0) == 0
    # ... the next must wait about a second, and taking nothing, asking does not push
    # the schedule further out.
    first = throttle.try_acquire(key, 10, 10, burst=1.0)
    second = throttle.try_acquire(key, 10, 10, burst=1.0)
    assert 0.5 < first <= 1.0
    assert 0.5 < second <= first


def test_company_rate_makes_a_chunk_come_back_later(
    company, sending, outbox, settings, monkeypatch
):
    from campaigns.services import RetryLater
    from campaigns.services import sending as engine

    monkeypatch.setattr(engine, "MAX_THROTTLE_WAIT", 0.1)
    company.sms_per_second = 2
    company.save()
    settings.REDIS_URL = ""  # the database keeps the rate here: one process
    ContactFactory.create_batch(6, company=company)
    plan_campaign(campaign_id=sending.pk)
    chunk = sending.chunks.get()

    with pytest.raises(RetryLater) as later:
        send_chunk(chunk_id=chunk.pk, task_token=chunk.lease)
    # One batch of 2 at once; the next would wait longer than a worker holds on, so the
    # chunk gives its place up and comes back when its turn is due, not as a failure.
    assert len(outbox) == 2
    assert 0.5 < later.value.countdown <= 1.0 and later.value.attempt == 0
    assert Message.objects.filter(status=Message.Status.QUEUED).count() == 4
    chunk.refresh_from_db()
    assert chunk.leased_until > timezone.now()  # kept for the task that comes back


def test_staff_pause_and_cancel_from_admin(admin_client, sending, company):
    draft = CampaignFactory(company=company)
    changelist = "/admin/campaigns/campaign/"

    response = admin_client.post(
        changelist,
        {"action": "pause_campaign", "_selected_action": [sending.pk, draft.pk]},
        follow=True,
    )
    assert "1 campaign(s) paused." in response.content.decode()
    assert "1 left alone" in response.content.decode()
    sending.refresh_from_db()
    assert sending.status == Campaign.Status.PAUSED

    admin_client.post(changelist, {"action": "cancel_campaign", "_selected_action": [sending.pk]})
    sending.refresh_from_db()
    draft.refresh_from_db()
    assert (sending.status, draft.status) == (Campaign.Status.CANCELLED, Campaign.Status.DRAFT)


def test_paused_before_it_was_planned_then_resumed_it_still_sends(
    company, outbox, django_capture_on_commit_callbacks
):
    ContactFactory.create_batch(3, company=company)
    campaign = CampaignFactory(company=company, status=Campaign.Status.SENDING)
    assert pause_campaign(campaign=campaign)
    plan_campaign(campaign_id=campaign.pk)  # the plan task, run while paused
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert resume_campaign(campaign=campaign)
    assert len(callbacks) == 1  # the plan task again: it plans once, then hands out
    run_campaign(campaign)
    assert campaign.status == Campaign.Status.SENT
    assert len(outbox) == 3


def test_a_campaign_whose_groups_were_all_deleted_goes_to_nobody(company, outbox):
    from campaigns.services import create_campaign

    vip = company.groups.create(name="VIP")
    ContactFactory(company=company).groups.add(vip)
    ContactFactory.create_batch(4, company=company)
    campaign = create_campaign(company=company, name="VIP only", body="Hi", groups=[vip])
    vip.delete()

    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
    run_campaign(campaign)
    assert outbox == []
    assert campaign.status == Campaign.Status.SENT


def test_editing_a_stale_copy_does_not_undo_a_send(company):
    from campaigns.services import create_campaign, send_campaign, update_campaign

    campaign = create_campaign(company=company, name="Spring", body="Hi")
    stale = Campaign.objects.get(pk=campaign.pk)  # the editor's copy, in another tab
    assert send_campaign(campaign=campaign)
    with pytest.raises(CampaignError):
        update_campaign(
            campaign=stale,
            name="Spring!",
            body="Hi",
            channel="sms",
            sender="",
            subject="",
            html_body="",
            groups=[],
            countries=[],
            field_conditions=[],
        )
    campaign.refresh_from_db()
    assert (campaign.status, campaign.name) == (Campaign.Status.SENDING, "Spring")


def test_a_chunk_that_fails_every_time_is_given_up_and_the_campaign_finishes(
    company, sending, outbox, settings, monkeypatch
):
    from campaigns.services import sending as engine
    from campaigns.tasks import send_chunk_task

    settings.SEND_MAX_ATTEMPTS = 3
    settings.SEND_CHUNK_SIZE = 2
    ContactFactory.create_batch(4, company=company)
    plan_campaign(campaign_id=sending.pk)
    broken, fine = sending.chunks.order_by("after_id")
    send_chunk(chunk_id=fine.pk, task_token=fine.lease)
    real = engine.Drafts

    def write_or_fail(campaign, chunk):
        drafts = real(campaign, chunk)
        if chunk.pk == broken.pk:
            drafts.write(drafts.pending)  # its messages made, queued, then a failure
            raise ValueError("a row this engine cannot handle")
        return drafts

    monkeypatch.setattr(engine, "Drafts", write_or_fail)
    for run in range(3):
        with pytest.raises(ValueError):
            send_chunk_task(broken.pk, broken.lease)
        # Its lease runs out; the tick hands it out again.
        CampaignChunk.objects.filter(pk=broken.pk).update(leased_until=None)
        sending.refresh_from_db()
        assert sending.status == (Campaign.Status.SENT if run == 2 else Campaign.Status.SENDING)

    failed = Message.objects.filter(status=Message.Status.FAILED)
    assert failed.count() == 2
    assert failed.first().error == "Not sent: ValueError: a row this engine cannot handle"
    assert len(outbox) == 2
