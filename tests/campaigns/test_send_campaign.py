import pytest

from campaigns.backends import BaseSmsBackend, TransientGatewayError
from campaigns.backends.locmem import InMemoryBackend
from campaigns.models import Campaign, Message
from campaigns.services import (
    ChunkBusy,
    _create_messages,
    _take_lease,
    plan_campaign,
    send_campaign,
    send_chunk,
)
from optout.services import record_optout
from tests.factories import CampaignFactory, ContactFactory


def _run(campaign: Campaign) -> None:
    """The worker's job, called directly: plan, then every chunk."""
    for chunk_id in plan_campaign(campaign_id=campaign.pk):
        send_chunk(chunk_id=chunk_id)
    campaign.refresh_from_db()


@pytest.fixture
def draft(company):
    return CampaignFactory(company=company, status=Campaign.Status.SENDING)


def test_optout_is_per_company(company, other_company, outbox):
    shared = "+31612345678"
    ContactFactory(company=company, phone=shared)
    ContactFactory(company=other_company, phone=shared)
    record_optout(company=company, address=shared, source="api")

    a = CampaignFactory(company=company, status=Campaign.Status.SENDING)
    b = CampaignFactory(company=other_company, status=Campaign.Status.SENDING)
    _run(a)
    _run(b)

    assert [sms.to for sms in outbox] == [shared]
    assert Message.objects.get(campaign=a).status == Message.Status.SKIPPED
    assert Message.objects.get(campaign=b).status == Message.Status.SENT


def test_email_optout_also_suppresses_the_phone(company, draft, outbox):
    ContactFactory(company=company, phone="+31612345678", email="sanne@example.nl")
    record_optout(company=company, address="sanne@example.nl", source="email_link")
    _run(draft)
    assert outbox == []
    assert Message.objects.get(campaign=draft).status == Message.Status.SKIPPED


def test_rerunning_a_chunk_sends_nothing_twice(company, draft, outbox, settings):
    settings.SEND_CHUNK_SIZE = 2
    ContactFactory.create_batch(5, company=company)
    chunks = plan_campaign(campaign_id=draft.pk)
    assert len(chunks) == 3
    for chunk_id in chunks + chunks:
        send_chunk(chunk_id=chunk_id)
    # A redelivered task finds its chunk done; so does a task for a reset chunk.
    draft.chunks.update(done_at=None)
    for chunk_id in chunks:
        send_chunk(chunk_id=chunk_id)

    assert len(outbox) == 5
    assert len({sms.to for sms in outbox}) == 5
    assert Message.objects.filter(campaign=draft).count() == 5
    draft.refresh_from_db()
    assert draft.status == Campaign.Status.SENT


def test_optout_after_messages_are_made_still_wins(company, draft, outbox, settings):
    """The suppression list is checked again at hand-off, not only when rows are made."""
    contact = ContactFactory(company=company)
    chunk_id = plan_campaign(campaign_id=draft.pk)[0]
    # Rows exist (as after a crash between creating and handing off) ...
    _create_messages(draft, draft.chunks.get(pk=chunk_id))
    assert Message.objects.get(campaign=draft).status == Message.Status.QUEUED
    # ... then the person opts out before the hand-off.
    record_optout(company=company, address=contact.phone, source="landing_page")
    send_chunk(chunk_id=chunk_id)

    assert outbox == []
    assert Message.objects.get(campaign=draft).status == Message.Status.SKIPPED


def test_campaign_without_contacts_finishes(company, draft, outbox):
    _run(draft)
    assert draft.status == Campaign.Status.SENT
    assert outbox == []


def test_send_twice_starts_once(company, django_capture_on_commit_callbacks):
    campaign = CampaignFactory(company=company)
    with django_capture_on_commit_callbacks() as callbacks:
        assert send_campaign(campaign=campaign) is True
        assert send_campaign(campaign=campaign) is False
    assert len(callbacks) == 1


def test_unknown_placeholder_is_refused(marketer_client):
    response = marketer_client.post(
        "/campaigns/new/", {"name": "Oops", "channel": "sms", "body": "Hi {{ firstname }}!"}
    )
    assert response.status_code == 400
    assert "Unknown placeholder {{ firstname }}" in response.content.decode()
    assert not Campaign.objects.exists()


def test_draft_page_previews_each_country_and_the_skips(marketer_client, company):
    ContactFactory(company=company, first_name="Sanne")
    ContactFactory(company=company, first_name="Camille", phone="+33612345678", country="FR")
    gone = ContactFactory(company=company, phone="+27711234567", country="ZA")
    record_optout(company=company, address=gone.phone, source="api")
    campaign = CampaignFactory(company=company, body="Hi {{ first_name }}!")

    page = marketer_client.get(f"/campaigns/{campaign.pk}/").content.decode()

    assert "<strong>2</strong> of 3 contacts will get this SMS" in page
    assert "1 opted out and will be skipped" in page
    assert "Hi Sanne!\nAfmelden: SMS STOP naar 3010" in page
    assert "Hi Camille!\nSTOP au 36111" in page
    assert "Send to 2 contacts" in page


@pytest.mark.parametrize(
    "body, error",
    [
        ('{% include "secrets.txt" %}', "not {% tags %}"),
        ("{% debug %}", "not {% tags %}"),
        ("{{ first_name|safe }}", "Unknown filter |safe"),
    ],
)
def test_tags_and_unknown_filters_are_refused(marketer_client, body, error):
    response = marketer_client.post(
        "/campaigns/new/", {"name": "Sneaky", "channel": "sms", "body": body}
    )
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Campaign.objects.exists()


def test_placeholder_fallback(company, draft, outbox):
    draft.body = 'Hi {{ first_name|default:"there" }}!'
    draft.save()
    ContactFactory(company=company, first_name="")
    _run(draft)
    assert outbox[0].body.startswith("Hi there!\n")


def test_chunk_held_by_another_worker_is_left_alone(company, draft, outbox):
    ContactFactory(company=company)
    chunk_id = plan_campaign(campaign_id=draft.pk)[0]
    assert _take_lease(chunk_id)  # another worker is on it
    with pytest.raises(ChunkBusy):
        send_chunk(chunk_id=chunk_id)
    assert outbox == [] and not Message.objects.exists()


def test_messages_of_a_worker_that_died_mid_hand_off_are_not_sent_again(company, draft, outbox):
    contacts = ContactFactory.create_batch(2, company=company)
    chunk_id = plan_campaign(campaign_id=draft.pk)[0]
    chunk = draft.chunks.get(pk=chunk_id)
    _create_messages(draft, chunk)
    # The first worker claimed one message, then died: its lease has run out.
    Message.objects.filter(contact=contacts[0]).update(status=Message.Status.SENDING)

    send_chunk(chunk_id=chunk_id)

    assert [sms.to for sms in outbox] == [contacts[1].phone]
    lost = Message.objects.get(contact=contacts[0])
    assert lost.status == Message.Status.FAILED and lost.error.startswith("Unknown")
    draft.refresh_from_db()
    assert draft.status == Campaign.Status.SENT


class FlakyBackend(BaseSmsBackend):
    calls = 0

    def send_messages(self, batch):
        FlakyBackend.calls += 1
        if FlakyBackend.calls == 1:
            raise TransientGatewayError("503 from the gateway")
        return InMemoryBackend().send_messages(batch)


def test_transient_gateway_error_puts_the_batch_back_for_a_retry(company, draft, outbox, settings):
    settings.SMS_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.calls = 0
    ContactFactory.create_batch(3, company=company)
    chunk_id = plan_campaign(campaign_id=draft.pk)[0]

    with pytest.raises(TransientGatewayError):
        send_chunk(chunk_id=chunk_id)
    assert set(Message.objects.values_list("status", flat=True)) == {Message.Status.QUEUED}

    send_chunk(chunk_id=chunk_id)  # the task's retry
    assert len(outbox) == 3
    assert set(Message.objects.values_list("status", flat=True)) == {Message.Status.SENT}


def test_last_attempt_marks_the_batch_failed_with_the_reason(company, draft, outbox, settings):
    settings.SMS_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.calls = 0
    ContactFactory(company=company)
    chunk_id = plan_campaign(campaign_id=draft.pk)[0]

    send_chunk(chunk_id=chunk_id, last_attempt=True)

    message = Message.objects.get()
    assert (message.status, message.error) == (Message.Status.FAILED, "503 from the gateway")
    draft.refresh_from_db()
    assert draft.status == Campaign.Status.SENT
