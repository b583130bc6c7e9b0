"""The audit log: what members did is recorded once, shown to owners, never edited."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from addressbook.models import AuditEvent, ImportJob
from addressbook.services.audit import Action, record_audit
from campaigns.models import Campaign
from optout.models import InboundMessage
from optout.services import note_marketing_sent
from tests.factories import CampaignFactory, ContactFactory, MembershipFactory

# The confirmation page's button: a send without it is refused.
CONFIRM = {"confirm": "yes"}

FILES = Path(__file__).parent / "files"
NUMBER = "+12015550123"


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def campaign(company):
    ContactFactory(company=company)
    return CampaignFactory(company=company, name="Beans")


def _events(company) -> list[tuple[str, str, str]]:
    return [
        (e.action, e.actor_name, e.target)
        for e in AuditEvent.objects.filter(company=company).order_by("id")
    ]


def test_starting_an_import_is_recorded(marketer_client, marketer, company):
    with open(FILES / "messy.csv", "rb") as f:
        url = marketer_client.post("/imports/new/", {"file": f})["Location"]
    job = ImportJob.objects.get()
    form = {f"col-{i}": v for i, v in job.mapping.items()}
    marketer_client.post(
        url, {**form, "action": "start", "encoding": "utf-8-sig", "delimiter": ";"}
    )
    assert _events(company) == [("import.started", marketer.username, "messy.csv")]
    # Starting it again changes nothing and records nothing more.
    marketer_client.post(url, {**form, "action": "start"})
    assert len(_events(company)) == 1


def test_sending_a_campaign_is_recorded_once(marketer_client, marketer, company, campaign):
    marketer_client.post(f"/campaigns/{campaign.pk}/send/", CONFIRM)
    marketer_client.post(f"/campaigns/{campaign.pk}/send/", CONFIRM)  # refused: already sending
    assert _events(company) == [("campaign.sent", marketer.username, "Beans")]
    event = AuditEvent.objects.get()
    assert (event.object_type, event.object_id, event.ip) == (
        "campaigns.Campaign",
        str(campaign.pk),
        "127.0.0.1",
    )


def test_scheduling_and_cancelling_are_recorded(marketer_client, marketer, company, campaign):
    at = timezone.localtime(timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    marketer_client.post(f"/campaigns/{campaign.pk}/schedule/", {"send_at": at, "confirm": "yes"})
    marketer_client.post(f"/campaigns/{campaign.pk}/unschedule/")
    sending = CampaignFactory(company=company, name="Live", status=Campaign.Status.SENDING)
    marketer_client.post(f"/campaigns/{sending.pk}/cancel/")
    assert _events(company) == [
        ("campaign.scheduled", marketer.username, "Beans"),
        ("campaign.unscheduled", marketer.username, "Beans"),
        ("campaign.cancelled", marketer.username, "Live"),
    ]
    assert "send_at" in AuditEvent.objects.get(action="campaign.scheduled").details


def test_optout_from_the_replies_inbox_is_recorded(
    marketer_client, marketer, company, post_inbound_sms
):
    note_marketing_sent(company=company, campaign_id=9, shortcode="44444", addresses=[NUMBER])
    post_inbound_sms(sender=NUMBER, recipient="44444", text="no more texts pls")
    reply = InboundMessage.objects.get()
    marketer_client.post(f"/replies/{reply.pk}/", {"action": "optout"})
    assert _events(company) == [("optout.recorded", marketer.username, NUMBER)]
    assert AuditEvent.objects.get().details == {"reply": "no more texts pls"}


def test_dismissing_a_reply_is_not_an_optout_on_record(marketer_client, company, post_inbound_sms):
    note_marketing_sent(company=company, campaign_id=9, shortcode="44444", addresses=[NUMBER])
    post_inbound_sms(sender=NUMBER, recipient="44444", text="who is this")
    marketer_client.post(f"/replies/{InboundMessage.objects.get().pk}/", {"action": "dismiss"})
    assert _events(company) == []


def test_owner_reads_the_log_newest_first(owner_client, owner, company):
    record_audit(company=company, action=Action.CAMPAIGN_SENT, actor=owner, target="First")
    record_audit(company=company, action=Action.MEMBER_INVITED, actor=owner, target="Second")
    page = owner_client.get("/audit/").content.decode()
    assert page.index("Second") < page.index("First")
    assert "Campaign sent" in page and owner.username in page


def test_log_filters_by_action(owner_client, owner, company):
    record_audit(company=company, action=Action.CAMPAIGN_SENT, actor=owner, target="Sent one")
    record_audit(company=company, action=Action.MEMBER_INVITED, actor=owner, target="Invited one")
    page = owner_client.get("/audit/", {"action": "member.invited"}).content.decode()
    assert "Invited one" in page and "Sent one" not in page
    unknown = owner_client.get("/audit/", {"action": "nonsense"})
    assert unknown.status_code == 200 and "Nothing recorded" in unknown.content.decode()


def test_log_is_paginated(owner_client, owner, company):
    AuditEvent.objects.bulk_create(
        AuditEvent(company=company, action=Action.CAMPAIGN_SENT, target=f"Campaign {n:02}")
        for n in range(60)
    )
    first = owner_client.get("/audit/").content.decode()
    assert "Page 1 of 2" in first and "Campaign 59" in first and "Campaign 09" not in first
    second = owner_client.get("/audit/", {"page": 2}).content.decode()
    assert "Campaign 09" in second and "Campaign 59" not in second


def test_log_shows_only_the_company_own_events(client, company, other_company, owner):
    record_audit(company=company, action=Action.CAMPAIGN_SENT, target="Ours")
    stranger = MembershipFactory(company=other_company, role="owner").user
    client.force_login(stranger)
    assert "Ours" not in client.get("/audit/").content.decode()


def test_outsider_marketer_cannot_read_the_log(outsider_client, company):
    record_audit(company=company, action=Action.CAMPAIGN_SENT, target="Ours")
    response = outsider_client.get("/audit/")
    assert response.status_code == 403 and "Ours" not in response.content.decode()


def test_deleted_actor_keeps_the_event_and_the_name(company, owner):
    event = record_audit(company=company, action=Action.CAMPAIGN_SENT, actor=owner, target="X")
    name = owner.username
    owner.delete()
    event.refresh_from_db()
    assert (event.actor, event.actor_name) == (None, name)


def test_address_that_is_no_ip_is_left_out(company):
    event = record_audit(company=company, action=Action.CAMPAIGN_SENT, ip="/run/gunicorn.sock")
    assert event.ip is None


def test_audit_log_is_read_only_in_admin(admin_client, company):
    event = record_audit(company=company, action=Action.CAMPAIGN_SENT, target="Kept")
    base = "/admin/addressbook/auditevent/"
    assert admin_client.get(base).status_code == 200
    assert admin_client.get(f"{base}add/").status_code == 403
    assert admin_client.post(f"{base}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    admin_client.post(f"{base}{event.pk}/change/", {"target": "Changed"})
    event.refresh_from_db()
    assert event.target == "Kept"
