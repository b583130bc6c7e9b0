"""The campaign editor, its live preview, and the actions on a campaign's page."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from addressbook.models import CustomField
from campaigns.models import Campaign
from campaigns.selectors import campaign_audience
from optout.services import record_optout
from tests.factories import CampaignFactory, ContactFactory

HTMX = {"HX-Request": "true"}
Status = Campaign.Status


def _sms(**fields) -> dict:
    return {"name": "Spring beans", "channel": "sms", "body": "Hi {{ first_name }}!", **fields}


def _preview_stat(page: str, key: str) -> str:
    return re.search(rf'data-preview="{key}">([^<]*)<', page).group(1)


@pytest.fixture
def audience(company):
    """Two groups, three countries and a custom field to narrow by."""
    CustomField.objects.create(company=company, name="City", key="city")
    regulars = company.groups.create(name="Regulars")
    company.groups.create(name="Wholesale")
    ada = ContactFactory(company=company, first_name="Ada", custom={"city": "Delft"})
    bo = ContactFactory(company=company, first_name="Bo", custom={"city": "Gent"})
    cleo = ContactFactory(
        company=company, first_name="Cleo", phone="+33612345678", country="FR", custom={}
    )
    ContactFactory(company=company, first_name="Dirk", phone="+4915112345678", country="DE")
    for contact in (ada, bo, cleo):
        contact.groups.add(regulars)
    return regulars


# --- the editor --------------------------------------------------------------------
def test_editor_offers_the_company_s_groups_countries_and_fields(
    marketer_client, audience, other_company
):
    other_company.groups.create(name="Their group")
    page = marketer_client.get("/campaigns/new/").content.decode()
    assert "Regulars" in page and "Wholesale" in page and "Their group" not in page
    for country in ("DE", "FR", "NL"):
        assert f'value="{country}"' in page
    assert '<option value="city">City</option>' in page
    assert page.count('name="condition_key_') == 3
    assert 'hx-post="/campaigns/preview/"' in page


def test_new_campaign_saves_its_audience(marketer_client, company, audience):
    response = marketer_client.post(
        "/campaigns/new/",
        _sms(
            groups=[audience.pk],
            countries=["NL", "FR"],
            condition_key_0="city",
            condition_op_0="contains",
            condition_value_0="delf",
        ),
    )

    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert list(campaign.groups.all()) == [audience]
    assert campaign.countries == ["FR", "NL"]
    assert campaign.field_conditions == [{"key": "city", "op": "contains", "value": "delf"}]
    assert [c.first_name for c in campaign_audience(campaign=campaign)] == ["Ada"]


def test_no_audience_ticked_means_every_contact(marketer_client, company, audience):
    assert marketer_client.post("/campaigns/new/", _sms()).status_code == 302
    campaign = Campaign.objects.get()
    assert campaign_audience(campaign=campaign).count() == 4


@pytest.mark.parametrize(
    "row, error",
    [
        ({"condition_key_0": "town", "condition_value_0": "Delft"}, "Select a valid choice"),
        ({"condition_key_0": "city", "condition_value_0": " "}, "Enter the value to match"),
        ({"condition_value_0": "Delft"}, "Pick the field to match"),
        ({"condition_key_0": "city", "condition_op_0": "regex", "condition_value_0": "."}, ""),
    ],
)
def test_only_known_fields_and_operators_make_a_condition(marketer_client, audience, row, error):
    response = marketer_client.post("/campaigns/new/", _sms(**row))
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Campaign.objects.exists()


def test_another_company_s_group_cannot_be_picked(marketer_client, other_company):
    theirs = other_company.groups.create(name="Their group")
    response = marketer_client.post("/campaigns/new/", _sms(groups=[theirs.pk]))
    assert response.status_code == 400
    assert not Campaign.objects.exists()


def test_bad_sms_sender_names_the_rule(marketer_client):
    response = marketer_client.post("/campaigns/new/", _sms(sender="Acme Coffee Roasters"))
    assert response.status_code == 400
    assert "up to 11 letters, digits and spaces, or a number of up to 16 digits" in (
        response.content.decode()
    )


def test_editing_a_draft_shows_and_saves_it(marketer_client, company, audience):
    campaign = CampaignFactory(
        company=company,
        countries=["FR"],
        field_conditions=[{"key": "city", "op": "is", "value": "Gent"}],
    )
    campaign.groups.add(audience)

    page = marketer_client.get(f"/campaigns/{campaign.pk}/edit/").content.decode()
    assert f'value="{campaign.name}"' in page
    assert re.search(rf'value="{audience.pk}"[^>]*checked', page)
    assert re.search(r'value="FR"[^>]*checked', page)
    assert 'value="Gent"' in page
    assert f'action="/campaigns/{campaign.pk}/edit/"' in page
    assert f'hx-post="/campaigns/{campaign.pk}/edit/preview/"' in page

    response = marketer_client.post(
        f"/campaigns/{campaign.pk}/edit/", _sms(name="Renamed", body="Bye {{ first_name }}")
    )
    assert response["Location"] == f"/campaigns/{campaign.pk}/"
    campaign.refresh_from_db()
    assert (campaign.name, campaign.body) == ("Renamed", "Bye {{ first_name }}")
    assert (campaign.countries, campaign.field_conditions) == ([], [])
    assert not campaign.groups.exists()


@pytest.mark.parametrize("status", [Status.SCHEDULED, Status.SENDING, Status.SENT])
def test_editing_a_campaign_that_is_no_draft_is_refused(marketer_client, company, status):
    campaign = CampaignFactory(company=company, name="Fixed", status=status)
    for response in (
        marketer_client.get(f"/campaigns/{campaign.pk}/edit/", follow=True),
        marketer_client.post(f"/campaigns/{campaign.pk}/edit/", _sms(name="Changed"), follow=True),
        marketer_client.post(f"/campaigns/{campaign.pk}/edit/preview/", _sms(), follow=True),
    ):
        assert response.redirect_chain == [(f"/campaigns/{campaign.pk}/", 302)]
        assert "Only a draft can be edited" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.name == "Fixed"


# --- the live preview ----------------------------------------------------------------
def test_preview_counts_the_audience_the_skips_and_the_parts(marketer_client, company):
    # NL: one part each. FR: a long name makes its sample two parts.
    body = "x" * 100 + " {{ first_name }}"
    ContactFactory(company=company, first_name="Sanne")
    ContactFactory(company=company, first_name="Daan")
    gone = ContactFactory(company=company, first_name="Gone")
    record_optout(company=company, address=gone.phone, source="api")
    ContactFactory(company=company, first_name="C" * 50, phone="+33612345678", country="FR")
    ContactFactory(company=company, first_name="Marie", phone="+33612345679", country="FR")

    page = marketer_client.post("/campaigns/preview/", _sms(body=body), headers=HTMX)

    assert page.status_code == 200
    page = page.content.decode()
    assert 'id="preview-panel"' in page and "<html" not in page
    assert _preview_stat(page, "total") == "5"
    assert _preview_stat(page, "opted-out") == "1"
    assert _preview_stat(page, "reachable") == "4"
    # FR: 2 reachable x 2 parts; NL: 2 reachable x 1 part.
    assert _preview_stat(page, "parts") == "6"


def test_preview_queries_do_not_grow_with_the_audience(marketer_client, company):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            marketer_client.post("/campaigns/preview/", _sms(), headers=HTMX)
        return len(captured)

    ContactFactory(company=company)
    ContactFactory(company=company, phone="+33612345678", country="FR")
    few = queries()
    ContactFactory.create_batch(20, company=company)
    for n in range(10):
        ContactFactory(company=company, phone=f"+3361234560{n}", country="FR")
    assert queries() == few


def test_preview_narrows_to_the_ticked_audience(marketer_client, audience):
    everyone = marketer_client.post("/campaigns/preview/", _sms(), headers=HTMX)
    assert _preview_stat(everyone.content.decode(), "total") == "4"

    narrowed = marketer_client.post(
        "/campaigns/preview/",
        _sms(
            groups=[audience.pk], countries=["NL"], condition_key_0="city", condition_value_0="gent"
        ),
        headers=HTMX,
    )
    assert _preview_stat(narrowed.content.decode(), "total") == "1"


def test_preview_shows_each_country_with_its_own_footer_and_counter(marketer_client, company):
    ContactFactory(company=company, first_name="Sanne")
    ContactFactory(company=company, first_name="Camille", phone="+33612345678", country="FR")

    page = marketer_client.post(
        "/campaigns/preview/", _sms(body="Hi {{ first_name }}!"), headers=HTMX
    ).content.decode()

    nl, fr = "Hi Sanne!\nAfmelden: SMS STOP naar 3010", "Hi Camille!\nSTOP au 36111"
    assert nl in page and fr in page
    assert f"GSM-7</span>, {len(nl)} characters, 1 part of 160" in page
    assert f"GSM-7</span>, {len(fr)} characters, 1 part of 160" in page
    # The message counter takes the longest opt-out text of the audience: NL's.
    assert f'data-counter="units">{len(nl)}<' in page
    assert "As the first contact in NL gets it" in page


def test_preview_names_what_forces_unicode_and_replaces_lookalikes(marketer_client, company):
    ContactFactory(company=company)
    body = "It’s “fresh” today"

    page = marketer_client.post(
        "/campaigns/preview/", _sms(body=body), headers=HTMX
    ).content.decode()
    assert 'data-counter="encoding">UCS-2<' in page
    assert "’ “ ” force Unicode (70 characters per part)" in page
    assert "Replace ’ “ ” with &#x27; &quot; &quot;" in page
    assert 'name="replace_lookalikes"' in page

    replaced = marketer_client.post(
        "/campaigns/preview/", _sms(body=body, replace_lookalikes="1"), headers=HTMX
    ).content.decode()
    assert 'data-counter="encoding">GSM-7<' in replaced
    assert "force Unicode" not in replaced
    # The body's field comes back out of band, with the replaced text in it.
    field = re.search(r'<div id="body-field" hx-swap-oob="true">.*?</textarea>', replaced, re.S)
    assert field and "It&#x27;s &quot;fresh&quot; today</textarea>" in field.group(0)


def test_preview_shows_errors_as_they_are_typed(marketer_client):
    page = marketer_client.post(
        "/campaigns/preview/",
        {"channel": "sms", "sender": "Far too long a sender", "body": "Hi {{ firstname }}"},
        headers=HTMX,
    ).content.decode()
    assert "Unknown placeholder {{ firstname }}" in page
    assert "An SMS sender is up to 11 letters" in page
    assert "This field is required" not in page  # the name is not typed yet
    assert _preview_stat(page, "parts") == "0"  # nobody to send to, yet a count


def test_preview_of_an_unreadable_body_still_counts_the_audience(marketer_client, company):
    ContactFactory(company=company)
    page = marketer_client.post(
        "/campaigns/preview/", _sms(body="{% debug %}"), headers=HTMX
    ).content.decode()
    assert "not {% tags %}" in page
    assert _preview_stat(page, "total") == "1"
    assert _preview_stat(page, "parts") == "—"


def test_preview_without_javascript_is_the_editor_again(marketer_client, company):
    ContactFactory(company=company)
    page = marketer_client.post(
        "/campaigns/preview/", _sms(body="It’s here", replace_lookalikes="1")
    ).content.decode()
    assert "<html" in page and 'action="/campaigns/new/"' in page
    assert "It&#x27;s here</textarea>" in page
    assert not Campaign.objects.exists()


def test_preview_ignores_another_company_s_groups(marketer_client, company, other_company):
    ContactFactory(company=company)
    theirs = other_company.groups.create(name="Their group")
    page = marketer_client.post(
        "/campaigns/preview/", _sms(groups=[theirs.pk]), headers=HTMX
    ).content.decode()
    assert "Select a valid choice" in page
    assert _preview_stat(page, "total") == "1"


# --- actions on the campaign's page -------------------------------------------------
def test_draft_page_offers_edit_send_and_schedule_in_the_company_s_zone(marketer_client, company):
    company.timezone = "America/New_York"
    company.save()
    ContactFactory(company=company)
    campaign = CampaignFactory(company=company)
    page = marketer_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert f'href="/campaigns/{campaign.pk}/edit/"' in page
    assert "Send now (1 contact)" in page
    assert 'type="datetime-local"' in page
    assert "Send at (America/New_York time)" in page


def test_send_buttons_are_disabled_when_nobody_is_reachable(marketer_client, company):
    campaign = CampaignFactory(company=company)
    page = marketer_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'class="primary" disabled>Send now (0 contacts)' in page


def test_schedule_reads_the_time_in_the_company_s_zone(marketer_client, company):
    company.timezone = "America/New_York"
    company.save()
    campaign = CampaignFactory(company=company)

    response = marketer_client.post(
        f"/campaigns/{campaign.pk}/schedule/",
        {"send_at": "2030-01-15T09:00", "confirm": "yes"},
        follow=True,
    )

    campaign.refresh_from_db()
    assert campaign.status == Status.SCHEDULED
    assert campaign.scheduled_at == datetime(2030, 1, 15, 14, 0, tzinfo=UTC)
    page = response.content.decode()
    assert "will be sent on 15 Jan 2030, 09:00 (America/New_York)" in page
    assert "Scheduled for <strong>15 Jan 2030, 09:00</strong> (America/New_York)" in page
    assert "Cancel schedule" in page and "Send now" not in page
    listing = marketer_client.get("/campaigns/").content.decode()
    assert "for 15 Jan 2030, 09:00" in listing


@pytest.mark.parametrize("send_at", ["2020-01-15T09:00", "yesterday", ""])
def test_schedule_refuses_a_past_or_unreadable_time(marketer_client, company, send_at):
    campaign = CampaignFactory(company=company)
    response = marketer_client.post(
        f"/campaigns/{campaign.pk}/schedule/", {"send_at": send_at, "confirm": "yes"}, follow=True
    )
    page = response.content.decode()
    assert "Not scheduled:" in page
    if send_at.startswith("2020"):
        assert "Pick a time in the future." in page
    campaign.refresh_from_db()
    assert (campaign.status, campaign.scheduled_at) == (Status.DRAFT, None)


def test_cancel_schedule_makes_a_draft_again(marketer_client, company):
    campaign = CampaignFactory(
        company=company, status=Status.SCHEDULED, scheduled_at=timezone.now() + timedelta(days=1)
    )
    response = marketer_client.post(f"/campaigns/{campaign.pk}/unschedule/", follow=True)
    assert "is a draft again" in response.content.decode()
    campaign.refresh_from_db()
    assert (campaign.status, campaign.scheduled_at) == (Status.DRAFT, None)


def test_pause_resume_and_cancel_from_the_page(marketer_client, company):
    campaign = CampaignFactory(company=company)
    Campaign.objects.filter(pk=campaign.pk).update(status=Status.SENDING)
    url = f"/campaigns/{campaign.pk}"

    page = marketer_client.get(f"{url}/").content.decode()
    assert ">Pause</button>" in page and "Yes, cancel sending" in page
    assert 'hx-trigger="every 2s"' in page

    page = marketer_client.post(f"{url}/pause/", follow=True).content.decode()
    assert "is paused" in page
    assert Campaign.objects.get(pk=campaign.pk).status == Status.PAUSED
    assert "<strong>Paused.</strong>" in page and ">Resume</button>" in page
    assert 'hx-trigger="every 2s"' in page  # still polled while paused

    page = marketer_client.post(f"{url}/resume/", follow=True).content.decode()
    assert "is sending again" in page
    assert Campaign.objects.get(pk=campaign.pk).status == Status.SENDING

    page = marketer_client.post(f"{url}/cancel/", follow=True).content.decode()
    assert "is cancelled" in page
    assert Campaign.objects.get(pk=campaign.pk).status == Status.CANCELLED
    assert "Pause</button>" not in page and "cancel sending" not in page
    assert 'hx-trigger="every 2s"' not in page


@pytest.mark.parametrize(
    "status, action, message",
    [
        (Status.DRAFT, "pause", "cannot be paused: it is draft"),
        (Status.SENDING, "resume", "cannot be resumed: it is sending"),
        (Status.SENT, "cancel", "cannot be cancelled: it is sent"),
        (Status.SENT, "send", "cannot be sent now: it is sent"),
        (Status.DRAFT, "unschedule", "cannot be unscheduled: it is draft"),
    ],
)
def test_an_action_the_status_does_not_allow_says_why(
    marketer_client, company, status, action, message
):
    campaign = CampaignFactory(company=company)
    Campaign.objects.filter(pk=campaign.pk).update(status=status)
    data = {"confirm": "yes"}  # what the send's confirmation page posts
    response = marketer_client.post(f"/campaigns/{campaign.pk}/{action}/", data, follow=True)
    assert message in response.content.decode()
    assert Campaign.objects.get(pk=campaign.pk).status == status


def test_progress_poll_shows_the_bar_and_reloads_when_the_status_moves_on(marketer_client, company):
    campaign = CampaignFactory(company=company)
    contacts = ContactFactory.create_batch(4, company=company)
    for i, contact in enumerate(contacts):
        campaign.messages.create(
            company=company,
            contact=contact,
            to=contact.phone,
            status=["sent", "delivered", "skipped", "queued"][i],
        )
    Campaign.objects.filter(pk=campaign.pk).update(status=Status.SENDING)
    url = f"/campaigns/{campaign.pk}/"

    poll = marketer_client.get(url, {"shown": "sending"}, headers=HTMX)
    fragment = poll.content.decode()
    assert fragment.lstrip().startswith('<section id="progress"')
    assert 'value="75"' in fragment
    assert 'data-progress="done">3<' in fragment and 'data-progress="total">4<' in fragment
    assert 'data-stat="delivered">1<' in fragment

    Campaign.objects.filter(pk=campaign.pk).update(status=Status.PAUSED)
    moved_on = marketer_client.get(url, {"shown": "sending"}, headers=HTMX)
    assert moved_on.headers["HX-Refresh"] == "true"


def test_sent_and_cancelled_campaigns_offer_no_actions(marketer_client, company):
    for status in (Status.SENT, Status.CANCELLED):
        campaign = CampaignFactory(company=company, status=status)
        page = marketer_client.get(f"/campaigns/{campaign.pk}/").content.decode()
        assert "campaign-actions" not in page and "/edit/" not in page


# --- tenancy ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "edit/"),
        ("post", "edit/"),
        ("post", "edit/preview/"),
        ("get", "confirm/"),
        ("post", "send/"),
        ("post", "schedule/"),
        ("post", "test/"),
        ("post", "unschedule/"),
        ("post", "pause/"),
        ("post", "resume/"),
        ("post", "cancel/"),
    ],
)
@pytest.mark.parametrize("status", [Status.DRAFT, Status.SCHEDULED, Status.SENDING, Status.PAUSED])
def test_other_company_gets_404(outsider_client, company, method, path, status):
    campaign = CampaignFactory(company=company, name="Secret campaign", status=status)
    data = {
        **_sms(name="Hijacked"),
        "send_at": "2030-01-15T09:00",
        "confirm": "yes",
        "to": "+31612345678",
    }
    response = getattr(outsider_client, method)(f"/campaigns/{campaign.pk}/{path}", data)
    assert response.status_code == 404
    campaign.refresh_from_db()
    assert (campaign.name, campaign.status) == ("Secret campaign", status)


def test_times_on_the_dashboard_are_the_companys(marketer_client, company):
    # 23:30 UTC on 30 June is 01:30 on 1 July in Amsterdam (UTC+2 in summer).
    company.timezone = "Europe/Amsterdam"
    company.save(update_fields=["timezone"])
    campaign = CampaignFactory(company=company, name="Summer")
    Campaign.objects.filter(pk=campaign.pk).update(
        created_at=datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    )
    page = marketer_client.get("/campaigns/").content.decode()
    assert "1 Jul 2026 01:30" in page and "30 Jun 2026 23:30" not in page


# --- the parts cap -------------------------------------------------------------------
# 2,000 characters of GSM-7 with the longest opt-out text: 14 parts of 153.
LONG = "Beans! " * 285


def test_a_body_over_the_companys_parts_is_refused_saying_why(marketer_client, company):
    page = marketer_client.post("/campaigns/new/", _sms(body=LONG)).content.decode()
    assert "With its opt-out text this SMS takes 14 parts; your company sends at most 8" in page
    assert not Campaign.objects.exists()


def test_the_editor_warns_as_the_body_passes_the_cap(marketer_client, company):
    ContactFactory(company=company)
    company.sms_max_parts = 2
    company.save(update_fields=["sms_max_parts"])
    short = marketer_client.post("/campaigns/preview/", _sms(body="Hi"), headers=HTMX)
    assert 'data-counter="over-limit"' not in short.content.decode()
    body = "Beans! " * 40  # 280 characters: 3 parts
    long = marketer_client.post("/campaigns/preview/", _sms(body=body), headers=HTMX)
    assert "3 parts is more than the 2 your company sends in one message" in long.content.decode()
    assert marketer_client.post("/campaigns/new/", _sms(body=body)).status_code == 400
    assert not Campaign.objects.exists()


def test_at_the_cap_it_saves(marketer_client, company):
    # 8 parts of 153 hold 1,224 characters; the longest opt-out text takes the rest.
    body = "x" * (8 * 153 - 60)
    assert marketer_client.post("/campaigns/new/", _sms(body=body)).status_code == 302
