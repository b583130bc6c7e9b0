import pytest

from campaigns.backends import BaseSmsBackend, SendResult, TransientGatewayError
from campaigns.backends.locmem import InMemoryBackend
from campaigns.models import Campaign, CampaignChunk, Message, SentTally
from campaigns.services import RetryLater, plan_campaign, send_campaign, send_chunk
from campaigns.services.messages import create_messages
from campaigns.services.sending import _take_lease
from optout.services import record_optout
from tests.factories import CampaignFactory, ContactFactory

from .running import run_campaign as _run


def _first_chunk(campaign: Campaign) -> CampaignChunk:
    plan_campaign(campaign_id=campaign.pk)
    return campaign.chunks.order_by("after_id").first()


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
    settings.SEND_CHUNKS_IN_FLIGHT = 3
    ContactFactory.create_batch(5, company=company)
    plan_campaign(campaign_id=draft.pk)
    chunks = list(draft.chunks.values_list("pk", "lease"))
    assert len(chunks) == 3
    for chunk_id, token in chunks + chunks:
        send_chunk(chunk_id=chunk_id, task_token=token)
    # A redelivered task finds its chunk done; so does a task for a reset chunk.
    draft.chunks.update(done_at=None, leased_until=None)
    for chunk_id, token in chunks:
        send_chunk(chunk_id=chunk_id, task_token=token)

    assert len(outbox) == 5
    assert len({sms.to for sms in outbox}) == 5
    assert Message.objects.filter(campaign=draft).count() == 5
    draft.refresh_from_db()
    assert draft.status == Campaign.Status.SENT


def test_optout_between_composing_and_writing_the_message_still_wins(
    company, draft, outbox, monkeypatch
):
    """Messages due now are written as they go out: the write itself checks the list."""
    from campaigns.services import sending as engine

    leaving, staying = ContactFactory.create_batch(2, company=company)
    real = engine.Drafts

    def composed_then_opted_out(campaign, chunk):
        drafts = real(campaign, chunk)
        assert all(d.reachable for d in drafts.pending)  # nobody had opted out yet
        record_optout(company=company, address=leaving.phone, source="landing_page")
        return drafts

    monkeypatch.setattr(engine, "Drafts", composed_then_opted_out)
    chunk = _first_chunk(draft)
    send_chunk(chunk_id=chunk.pk, task_token=chunk.lease)

    assert [sms.to for sms in outbox] == [staying.phone]
    assert Message.objects.get(contact=leaving).status == Message.Status.SKIPPED
    assert Message.objects.get(contact=staying).status == Message.Status.SENT


def test_optout_after_messages_are_made_still_wins(company, draft, outbox, settings):
    """The suppression list is checked again at hand-off, not only when rows are made."""
    contact = ContactFactory(company=company)
    chunk = _first_chunk(draft)
    # Rows exist (as after a crash between creating and handing off) ...
    create_messages(draft, chunk)
    assert Message.objects.get(campaign=draft).status == Message.Status.QUEUED
    # ... then the person opts out before the hand-off.
    record_optout(company=company, address=contact.phone, source="landing_page")
    send_chunk(chunk_id=chunk.pk, task_token=chunk.lease)

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
    assert "Send now (2 contacts)" in page


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
    chunk = _first_chunk(draft)
    assert _take_lease(chunk.pk, chunk.lease)  # a worker is on it
    send_chunk(chunk_id=chunk.pk, task_token=chunk.lease)  # a redelivered copy of its task
    send_chunk(chunk_id=chunk.pk)  # a task from anywhere else
    assert outbox == [] and not Message.objects.exists()


def test_messages_of_a_worker_that_died_mid_hand_off_are_not_sent_again(company, draft, outbox):
    contacts = ContactFactory.create_batch(2, company=company)
    chunk = _first_chunk(draft)
    create_messages(draft, chunk)
    # The first worker claimed one message, then died: its lease has run out.
    Message.objects.filter(contact=contacts[0]).update(status=Message.Status.SENDING)
    CampaignChunk.objects.filter(pk=chunk.pk).update(lease="dead-worker", leased_until=None)

    send_chunk(chunk_id=chunk.pk)

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
    chunk = _first_chunk(draft)

    with pytest.raises(RetryLater) as later:
        send_chunk(chunk_id=chunk.pk, task_token=chunk.lease)
    assert later.value.attempt == 1 and later.value.countdown > 0
    assert set(Message.objects.values_list("status", flat=True)) == {Message.Status.QUEUED}
    # Kept for the retry: no other task may take the chunk meanwhile.
    send_chunk(chunk_id=chunk.pk, task_token="another-task")
    assert outbox == []

    send_chunk(chunk_id=chunk.pk, task_token=chunk.lease, attempt=1)  # the task's retry
    assert len(outbox) == 3
    assert set(Message.objects.values_list("status", flat=True)) == {Message.Status.SENT}


def test_last_attempt_marks_the_batch_failed_with_the_reason(company, draft, outbox, settings):
    settings.SMS_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.calls = 0
    settings.SEND_MAX_ATTEMPTS = 3
    ContactFactory(company=company)
    chunk = _first_chunk(draft)

    send_chunk(chunk_id=chunk.pk, task_token=chunk.lease, attempt=2)

    message = Message.objects.get()
    assert (message.status, message.error) == (Message.Status.FAILED, "503 from the gateway")
    draft.refresh_from_db()
    assert draft.status == Campaign.Status.SENT


class MixedAnswersBackend(BaseSmsBackend):
    """Per message, in order: taken with the gateway's id, taken without one, refused,
    and no answer at all."""

    def send_messages(self, batch):
        taken_with_id, taken, refused, _unanswered = batch
        return [
            SendResult(taken_with_id.reference, True, gateway_reference="gw-1"),
            SendResult(taken.reference, True),
            SendResult(refused.reference, False, error="Unknown subscriber"),
        ]


def test_each_message_of_a_batch_keeps_its_own_answer(company, draft, settings):
    settings.SMS_BACKEND = f"{__name__}.MixedAnswersBackend"
    contacts = ContactFactory.create_batch(4, company=company)
    chunk = _first_chunk(draft)

    send_chunk(chunk_id=chunk.pk, task_token=chunk.lease)

    messages = {m.contact_id: m for m in Message.objects.filter(campaign=draft)}
    got = [
        (m.status, m.gateway_reference, m.error, m.sent_at is not None)
        for m in (messages[c.pk] for c in contacts)
    ]
    assert got == [
        (Message.Status.SENT, "gw-1", "", True),
        (Message.Status.SENT, "", "", True),
        (Message.Status.FAILED, "", "Unknown subscriber", True),
        (Message.Status.FAILED, "", "No answer from the gateway for this message", True),
    ]
    assert sum(SentTally.objects.filter(campaign=draft).values_list("sent", flat=True)) == 2
