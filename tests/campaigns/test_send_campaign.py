import pytest

from campaigns.models import Campaign, Message
from campaigns.services import plan_campaign, send_campaign, send_chunk
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
    from campaigns.services import _create_messages

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
        "/campaigns/new/", {"name": "Oops", "body": "Hi {{ firstname }}!"}
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
