"""Sending now or scheduling goes through a confirmation page that names the audience, the
parts and who waits for their sending hours; the send itself refuses an unconfirmed post."""

from datetime import UTC, datetime

import pytest

from addressbook.models import AuditEvent
from campaigns.held import held_before_send
from campaigns.models import Campaign
from optout.services import record_optout
from tests.factories import CampaignFactory, ContactFactory

Status = Campaign.Status
# A Sunday: the Netherlands and France send no marketing SMS; Germany has no hours rule.
SUNDAY_NOON = "2030-01-13T12:00:00+00:00"


@pytest.fixture
def campaign(company):
    ContactFactory(company=company, first_name="Ada")
    ContactFactory(company=company, first_name="Bo")
    ContactFactory(company=company, first_name="Cleo", phone="+33612345678", country="FR")
    ContactFactory(company=company, first_name="Dirk", phone="+4915112345678", country="DE")
    record_optout(company=company, address="+33612345678", source="sms_keyword")
    return CampaignFactory(company=company, name="Spring beans")


def _confirm(client, campaign, **params):
    return client.get(f"/campaigns/{campaign.pk}/confirm/", params)


def test_send_now_on_the_page_leads_to_the_confirmation(marketer_client, campaign):
    page = marketer_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert f'<form method="get" action="/campaigns/{campaign.pk}/confirm/">' in page
    assert f'action="/campaigns/{campaign.pk}/send/"' not in page


def test_confirmation_names_audience_skipped_parts_and_countries(marketer_client, campaign):
    response = _confirm(marketer_client, campaign)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Send “Spring beans” now?" in page
    assert "<strong>3</strong> contacts will get this SMS" in page
    assert "<strong>1</strong> opted out and will be skipped" in page
    assert '<p data-confirm="parts"><strong>3</strong> SMS parts in all.</p>' in page
    assert '<tr data-country="NL"><td>NL</td><td>2</td><td>2</td>' in page
    assert '<tr data-country="FR"><td>FR</td><td>0</td><td>0</td>' in page
    assert "Every recipient is within their country's sending hours now." in page
    assert "Yes, send to 3 contacts" in page
    assert Campaign.objects.get(pk=campaign.pk).status == Status.DRAFT  # a look sends nothing


def test_confirmation_counts_who_sending_hours_hold_per_country(
    marketer_client, campaign, settings
):
    settings.SEND_HOURS_AT = SUNDAY_NOON

    page = _confirm(marketer_client, campaign).content.decode()

    # Monday 09:00 in Amsterdam; the opted-out French contact is nobody to hold.
    assert '<td data-held="2">2</td>' in page
    assert '<tr data-country="FR"><td>FR</td><td>0</td><td>0</td><td data-held="0">none' in page
    assert '<tr data-country="DE"><td>DE</td><td>1</td><td>1</td><td data-held="0">none' in page
    assert (
        "2 recipients would wait for their sending hours, in their own time zone, if sent now"
        in (" ".join(page.replace("<strong data-held-total>", "").replace("</strong>", "").split()))
    )
    assert "in the Netherlands from Monday 09:00 Amsterdam time" in page


def test_held_before_send_per_country_judges_the_moment_given(company, campaign):
    sunday = datetime.fromisoformat(SUNDAY_NOON)
    held = held_before_send(campaign=campaign, at=sunday)
    assert held.per_country() == {"NL": 2}
    assert [g.opens_at for g in held.groups] == [datetime(2030, 1, 14, 8, 0, tzinfo=UTC)]
    monday = datetime(2030, 1, 14, 10, 0, tzinfo=UTC)
    assert held_before_send(campaign=campaign, at=monday).per_country() == {}


def test_held_before_send_follows_each_number_s_own_time_zone(company):
    ContactFactory(company=company, phone="+12015550123", country="US")  # New York
    ContactFactory(company=company, phone="+12015550124", country="US")
    ContactFactory(company=company, phone="+12135550123", country="US")  # Los Angeles
    campaign = CampaignFactory(company=company)
    # 10:30 in New York, 07:30 in Los Angeles: US marketing SMS go from 08:00 local.
    at = datetime(2030, 1, 15, 15, 30, tzinfo=UTC)
    [group] = held_before_send(campaign=campaign, at=at).groups
    assert (group.country, group.zone, group.recipients) == ("US", "America/Los_Angeles", 1)
    assert group.opens_at == datetime(2030, 1, 15, 16, 0, tzinfo=UTC)


def test_confirmed_send_starts_sending(marketer_client, campaign):
    response = marketer_client.post(
        f"/campaigns/{campaign.pk}/send/", {"confirm": "yes"}, follow=True
    )
    assert "“Spring beans” is being sent." in response.content.decode()
    assert Campaign.objects.get(pk=campaign.pk).status == Status.SENDING
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CAMPAIGN_SENT).count() == 1


@pytest.mark.parametrize("data", [{}, {"confirm": ""}, {"confirm": "no"}])
def test_send_without_confirmation_is_refused_and_shows_the_confirmation(
    marketer_client, campaign, data
):
    response = marketer_client.post(f"/campaigns/{campaign.pk}/send/", data)

    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was sent: check who gets it below, then confirm." in page
    assert "Yes, send to 3 contacts" in page
    assert Campaign.objects.get(pk=campaign.pk).status == Status.DRAFT
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.CAMPAIGN_SENT).exists()


def test_a_second_confirmed_send_starts_nothing_more(marketer_client, campaign):
    marketer_client.post(f"/campaigns/{campaign.pk}/send/", {"confirm": "yes"})
    response = marketer_client.post(
        f"/campaigns/{campaign.pk}/send/", {"confirm": "yes"}, follow=True
    )
    assert "cannot be sent now: it is sending" in response.content.decode()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CAMPAIGN_SENT).count() == 1


def test_schedule_confirmation_judges_hours_at_the_chosen_time(marketer_client, campaign):
    # 13:00 on a Sunday in Amsterdam: the Dutch wait for Monday.
    page = _confirm(marketer_client, campaign, send_at="2030-01-13T13:00").content.decode()

    assert "Schedule “Spring beans” for 13 Jan 2030, 13:00?" in page
    assert "on 13 Jan 2030, 13:00 (Europe/Amsterdam)" in page
    assert '<td data-held="2">2</td>' in page
    assert "if sent then" in page
    assert "in the Netherlands from Monday 09:00 Amsterdam time" in page
    assert '<input type="hidden" name="send_at" value="2030-01-13T13:00">' in page
    assert "Yes, schedule for 3 contacts" in page
    assert Campaign.objects.get(pk=campaign.pk).status == Status.DRAFT


@pytest.mark.parametrize(
    "send_at, error", [("2020-01-15T09:00", "Pick a time in the future."), ("soon", "Not sched")]
)
def test_schedule_confirmation_of_a_bad_time_says_why_on_the_campaign(
    marketer_client, campaign, send_at, error
):
    response = _confirm(marketer_client, campaign, send_at=send_at)
    assert response.status_code == 302
    page = marketer_client.get(response.url).content.decode()
    assert "Not scheduled:" in page and error in page


def test_schedule_without_confirmation_is_refused(marketer_client, campaign):
    response = marketer_client.post(
        f"/campaigns/{campaign.pk}/schedule/", {"send_at": "2030-01-15T09:00"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was sent: check who gets it below, then confirm." in page
    assert "Yes, schedule for 3 contacts" in page
    campaign.refresh_from_db()
    assert (campaign.status, campaign.scheduled_at) == (Status.DRAFT, None)


def test_confirmed_schedule_schedules(marketer_client, campaign):
    response = marketer_client.post(
        f"/campaigns/{campaign.pk}/schedule/",
        {"send_at": "2030-01-15T09:00", "confirm": "yes"},
        follow=True,
    )
    assert "will be sent on 15 Jan 2030, 09:00 (Europe/Amsterdam)" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == Status.SCHEDULED


def test_confirmation_of_a_sent_campaign_goes_back_and_says_why(marketer_client, campaign):
    Campaign.objects.filter(pk=campaign.pk).update(status=Status.SENT)
    response = _confirm(marketer_client, campaign)
    page = marketer_client.get(response.url).content.decode()
    assert "cannot be sent now: it is sent" in page


def test_nobody_reachable_offers_no_send_button(marketer_client, company):
    campaign = CampaignFactory(company=company)
    page = _confirm(marketer_client, campaign).content.decode()
    assert "there is nothing to send" in page and "Yes, send" not in page


def test_email_confirmation_has_no_parts_or_hours(marketer_client, company):
    ContactFactory(company=company, email="ada@example.com")
    campaign = CampaignFactory(company=company, channel="email", subject="News")
    page = _confirm(marketer_client, campaign).content.decode()
    assert "<strong>1</strong> contact will get this email" in page
    assert "SMS part" not in page and "sending hours" not in page
    assert "Yes, send to 1 contact" in page


def test_viewer_gets_403_on_the_confirmation_and_the_send(client, viewer, campaign):
    client.force_login(viewer)
    assert _confirm(client, campaign).status_code == 403
    send = client.post(f"/campaigns/{campaign.pk}/send/", {"confirm": "yes"})
    assert send.status_code == 403
    assert Campaign.objects.get(pk=campaign.pk).status == Status.DRAFT


def test_other_company_gets_404(outsider_client, campaign):
    assert _confirm(outsider_client, campaign).status_code == 404
    assert _confirm(outsider_client, campaign, send_at="2030-01-15T09:00").status_code == 404
    send = outsider_client.post(f"/campaigns/{campaign.pk}/send/", {"confirm": "yes"})
    assert send.status_code == 404
    assert Campaign.objects.get(pk=campaign.pk).status == Status.DRAFT
