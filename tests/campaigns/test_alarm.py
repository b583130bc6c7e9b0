"""The opt-out alarm: a sending campaign whose recipients leave too fast pauses itself,
says why, tells the team once, and resumes with one click."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core import mail

from addressbook.models import AuditEvent
from campaigns.models import Campaign, Message, SentTally
from campaigns.services import pause_campaign, plan_campaign, resume_campaign, send_chunk
from campaigns.services.alarm import check_optout_alarm
from optout.models import CountryRule
from optout.services import record_optout
from tests.factories import CampaignFactory, ContactFactory

# The confirmation page's button: a send without it is refused.
CONFIRM = {"confirm": "yes"}

Status = Campaign.Status
HOUR = datetime(2026, 12, 3, 9, tzinfo=UTC)


@pytest.fixture
def sending(company):
    return CampaignFactory(company=company, name="Winter beans", status=Status.SENDING)


def _sent(campaign: Campaign, n: int, country: str = "NL") -> None:
    SentTally.objects.create(
        company=campaign.company,
        campaign=campaign,
        channel=campaign.channel,
        hour=HOUR,
        country=country,
        sent=n,
    )


def _optouts(campaign: Campaign, n: int, first: int = 0) -> None:
    for i in range(first, first + n):
        record_optout(
            company=campaign.company,
            address=f"+3169{i:07d}",
            source="landing_page",
            campaign_id=campaign.pk,
        )


def _alarms() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditEvent.Action.CAMPAIGN_ALARM))


def test_at_the_limit_the_campaign_pauses_and_says_why(
    company, sending, marketer, colleague, django_capture_on_commit_callbacks
):
    # 2% of 400 is 8: the eighth opt-out reaches the limit.
    _sent(sending, 300)
    _sent(sending, 100, country="BE")
    _optouts(sending, 8)
    # Neither another campaign's opt-outs nor an unattributed one count.
    other = CampaignFactory(company=company, status=Status.SENT)
    _optouts(other, 5, first=100)
    record_optout(company=company, address="+31690009999", source="sms_keyword")

    with django_capture_on_commit_callbacks(execute=True):
        assert check_optout_alarm(campaign=sending) is True

    sending.refresh_from_db()
    assert sending.status == Status.PAUSED
    assert sending.paused_reason == (
        "Paused by the opt-out alarm: 8 opt-outs from 400 messages sent (2.0%), over your 2% limit."
    )
    [event] = _alarms()
    assert event.actor is None and event.object_id == str(sending.pk)
    assert event.details == {"optouts": 8, "sent": 400, "percent": "2.00", "limit": "2.00"}
    [email] = mail.outbox
    assert sorted(email.bcc) == sorted([marketer.email, colleague.email])
    assert email.to == []
    assert "Winter beans" in email.subject
    assert sending.paused_reason in email.body


def test_just_under_the_limit_it_goes_on(company, sending):
    _sent(sending, 401)
    _optouts(sending, 8)  # 1.995%
    assert check_optout_alarm(campaign=sending) is False
    sending.refresh_from_db()
    assert (sending.status, sending.paused_reason) == (Status.SENDING, "")
    assert not _alarms() and not mail.outbox


def test_below_the_minimum_sent_it_goes_on_whatever_the_rate(company, sending):
    company.optout_alarm_minimum = 200
    company.save()
    _sent(sending, 199)
    _optouts(sending, 50)
    assert check_optout_alarm(campaign=sending) is False
    _sent(sending, 1, country="BE")  # now 200 sent: enough to judge
    assert check_optout_alarm(campaign=sending) is True


def test_turned_off_it_never_pauses(company, sending):
    company.optout_alarm_percent = None
    company.save()
    _sent(sending, 1000)
    _optouts(sending, 500)
    assert check_optout_alarm(campaign=sending) is False
    assert Campaign.objects.get(pk=sending.pk).status == Status.SENDING


def test_a_company_limit_of_its_own(company, sending):
    company.optout_alarm_percent = Decimal("0.5")
    company.optout_alarm_minimum = 10
    company.save()
    _sent(sending, 1000)
    _optouts(sending, 5)
    assert check_optout_alarm(campaign=sending) is True
    sending.refresh_from_db()
    assert sending.paused_reason == (
        "Paused by the opt-out alarm: 5 opt-outs from 1,000 messages sent (0.5%), over your "
        "0.5% limit."
    )


def test_the_alarm_goes_off_once_not_per_batch(
    company, sending, marketer, django_capture_on_commit_callbacks
):
    _sent(sending, 400)
    _optouts(sending, 20)
    with django_capture_on_commit_callbacks(execute=True):
        assert check_optout_alarm(campaign=sending) is True
        # Another chunk of the same campaign checks after its batch, with its own copy.
        assert check_optout_alarm(campaign=sending) is False
    assert len(_alarms()) == 1
    assert len(mail.outbox) == 1


def test_resuming_after_the_alarm_mutes_it(company, sending, marketer_client, marketer):
    _sent(sending, 400)
    _optouts(sending, 20)
    check_optout_alarm(campaign=sending)

    response = marketer_client.post(f"/campaigns/{sending.pk}/resume/", follow=True)
    assert "is sending again" in response.content.decode()
    sending.refresh_from_db()
    assert (sending.status, sending.paused_reason, sending.alarm_muted) == (
        Status.SENDING,
        "",
        True,
    )
    [resumed] = AuditEvent.objects.filter(action=AuditEvent.Action.CAMPAIGN_RESUMED)
    assert resumed.actor == marketer
    # More opt-outs: the marketer has seen the rate and chose to go on.
    _optouts(sending, 20, first=50)
    assert check_optout_alarm(campaign=sending) is False
    assert Campaign.objects.get(pk=sending.pk).status == Status.SENDING


def test_a_person_pausing_is_no_alarm(company, sending, marketer_client, marketer):
    marketer_client.post(f"/campaigns/{sending.pk}/pause/")
    sending.refresh_from_db()
    assert (sending.status, sending.paused_reason) == (Status.PAUSED, "")
    page = marketer_client.get(f"/campaigns/{sending.pk}/").content.decode()
    assert "data-alarm" not in page
    marketer_client.post(f"/campaigns/{sending.pk}/resume/")
    sending.refresh_from_db()
    # Resuming a person's pause leaves the alarm watching.
    assert (sending.status, sending.alarm_muted) == (Status.SENDING, False)
    actions = AuditEvent.objects.filter(actor=marketer).values_list("action", flat=True)
    assert sorted(actions) == ["campaign.paused", "campaign.resumed"]


def test_the_alarm_never_pauses_a_campaign_resumed_from_it_meanwhile(company, sending):
    _sent(sending, 400)
    _optouts(sending, 20)
    stale = Campaign.objects.get(pk=sending.pk)  # a chunk's copy, read before the resume
    assert check_optout_alarm(campaign=sending) is True
    assert resume_campaign(campaign=sending)
    assert check_optout_alarm(campaign=stale) is False
    assert Campaign.objects.get(pk=sending.pk).status == Status.SENDING
    # A person may still pause it by hand.
    assert pause_campaign(campaign=stale)


def test_the_campaign_page_shows_the_reason_and_resume(company, sending, marketer_client):
    _sent(sending, 400)
    _optouts(sending, 20)
    check_optout_alarm(campaign=sending)
    page = marketer_client.get(f"/campaigns/{sending.pk}/").content.decode()
    assert "This campaign paused itself" in page
    assert "20 opt-outs from 400 messages sent (5.0%), over your 2% limit." in page
    assert f'action="/campaigns/{sending.pk}/resume/"' in page
    assert "Resume sending" in page


def test_a_viewer_sees_the_reason_but_no_button(company, sending, client, viewer):
    _sent(sending, 400)
    _optouts(sending, 20)
    check_optout_alarm(campaign=sending)
    client.force_login(viewer)
    page = client.get(f"/campaigns/{sending.pk}/").content.decode()
    assert "20 opt-outs from 400 messages sent" in page
    assert "Resume sending" not in page


def test_another_company_cannot_see_or_resume_it(company, sending, outsider_client):
    _sent(sending, 400)
    _optouts(sending, 20)
    check_optout_alarm(campaign=sending)
    assert outsider_client.get(f"/campaigns/{sending.pk}/").status_code == 404
    assert outsider_client.post(f"/campaigns/{sending.pk}/resume/").status_code == 404
    assert Campaign.objects.get(pk=sending.pk).status == Status.PAUSED


def test_a_send_stops_after_the_batch_that_set_it_off(company, outbox, settings, marketer):
    """In-process, batch by batch: the alarm's pause holds back the rest of the chunk."""
    CountryRule.objects.update(send_hours={})
    settings.SEND_BATCH_SIZE = 10
    company.optout_alarm_minimum = 10
    company.save()
    ContactFactory.create_batch(30, company=company)
    campaign = CampaignFactory(company=company, status=Status.SENDING)
    # People who left after an earlier try of this campaign: 2 of the first 10 is 20%.
    _optouts(campaign, 2, first=500)

    plan_campaign(campaign_id=campaign.pk)
    [chunk] = campaign.chunks.all()
    send_chunk(chunk_id=chunk.pk, task_token=chunk.lease)

    campaign.refresh_from_db()
    assert campaign.status == Status.PAUSED
    assert len(outbox) == 10
    statuses = Message.objects.filter(campaign=campaign).values_list("status", flat=True)
    assert sorted(set(statuses)) == [Message.Status.QUEUED, Message.Status.SENT]
    assert list(statuses).count(Message.Status.QUEUED) == 20


# --- with a real worker on the real broker, through the CM backend to a fake gateway ------
@pytest.mark.django_db(transaction=True)
def test_a_real_send_pauses_on_the_alarm_and_finishes_once_resumed(
    seeded_defaults,
    celery_worker,
    fake_gateway,
    company,
    marketer,
    colleague,
    marketer_client,
    settings,
    wait_for,
):
    CountryRule.objects.update(send_hours={})
    settings.SMS_BACKEND = "campaigns.backends.cm.CmBackend"
    settings.CM_BASE_URL = fake_gateway.url
    settings.CM_PRODUCT_TOKEN = fake_gateway.token
    settings.SEND_CHUNK_SIZE = 50
    settings.SEND_BATCH_SIZE = 25
    company.optout_alarm_percent = Decimal("10")
    company.optout_alarm_minimum = 20
    company.save()
    ContactFactory.create_batch(120, company=company)
    campaign = CampaignFactory(company=company, name="Winter beans")

    # The gateway holds its answer to the first batch; meanwhile three of those 25
    # recipients open their link and leave: 12% of what is sent, over the 10% limit.
    fake_gateway.hold()
    marketer_client.post(f"/campaigns/{campaign.pk}/send/", CONFIRM)
    fake_gateway.wait_for_requests(1, timeout=60)
    in_flight = wait_for(
        lambda: list(
            Message.objects.filter(campaign=campaign, status=Message.Status.SENDING)
            .order_by("id")
            .values_list("to", flat=True)
        ),
        what="the first batch at the gateway",
    )
    assert len(in_flight) == 25
    for address in in_flight[:3]:
        record_optout(
            company=company, address=address, source="landing_page", campaign_id=campaign.pk
        )
    fake_gateway.release()

    wait_for(
        lambda: Campaign.objects.filter(pk=campaign.pk, status=Status.PAUSED).exists(),
        what="the alarm to pause the campaign",
    )
    campaign.refresh_from_db()
    assert campaign.paused_reason == (
        "Paused by the opt-out alarm: 3 opt-outs from 25 messages sent (12.0%), over your 10% "
        "limit."
    )
    # The worker gives its chunk back instead of sending the next batch.
    wait_for(
        lambda: (
            not campaign.chunks.filter(done_at__isnull=True, leased_until__isnull=False).exists()
        ),
        what="the worker to let go of the chunk",
    )
    assert len(fake_gateway.received) == 25
    assert Message.objects.filter(campaign=campaign, status=Message.Status.SENT).count() == 25
    # The rest wait, queued, for the resume: none lost, none handed over.
    made = Message.objects.filter(campaign=campaign)
    assert made.exclude(status__in=[Message.Status.SENT, Message.Status.QUEUED]).count() == 0
    assert made.filter(status=Message.Status.QUEUED).count() == made.count() - 25 > 0
    [alarm] = _alarms()
    assert alarm.actor is None
    [email] = mail.outbox
    assert sorted(email.bcc) == sorted([marketer.email, colleague.email])
    page = marketer_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "3 opt-outs from 25 messages sent (12.0%)" in page

    # One click: it sends the rest and the alarm stays quiet, though the rate is still high.
    marketer_client.post(f"/campaigns/{campaign.pk}/resume/")
    wait_for(
        lambda: Campaign.objects.filter(pk=campaign.pk, status=Status.SENT).exists(),
        timeout=60,
        what="the campaign to finish",
    )
    received = [m["number"] for m in fake_gateway.received]
    assert len(received) == len(set(received)) == 120
    assert len(_alarms()) == 1
    assert len(mail.outbox) == 1
    campaign.refresh_from_db()
    assert (campaign.paused_reason, campaign.alarm_muted) == ("", True)
    actions = AuditEvent.objects.filter(actor=marketer).values_list("action", flat=True)
    assert sorted(actions) == ["campaign.resumed", "campaign.sent"]
