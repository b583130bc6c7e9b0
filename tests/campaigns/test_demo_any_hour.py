"""The README's "Try it" holds at any hour: the demo company's campaign prints some SMS at
once, among them SMS with a link to open, while the countries outside their sending hours
wait and the campaign page says until when."""

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command

from addressbook.models import Company, Contact
from campaigns.models import Campaign, Message
from campaigns.services import send_campaign
from optout.selectors import country_rules, is_suppressed
from optout.sendhours import SendHours
from optout.texts import optout_texts
from tests.factories import CampaignFactory

# The clock travels there: Wednesday 03:00 in Amsterdam, Paris and Johannesburg, 02:00 in
# London, 21:00 in New Jersey.
NIGHT = "2026-06-10T01:00:00+00:00"
# Christmas week, weekend included, when most countries with hours have holidays too.
CHRISTMAS_WEEK = [datetime(2026, 12, 21, tzinfo=UTC) + timedelta(hours=h) for h in range(168)]


@pytest.fixture
def demo(seeded_defaults) -> Company:
    call_command("seed_demo", stdout=io.StringIO())
    return Company.objects.get(slug="acme")


def test_at_every_hour_of_a_week_some_demo_sms_go_at_once_with_a_link(demo):
    footers = optout_texts(company=demo)
    contacts = list(Contact.objects.filter(company=demo).values_list("country", "phone"))
    rules = country_rules()
    for moment in CHRISTMAS_WEEK:
        hours = SendHours(rules, moment)
        now = {country for country, phone in contacts if hours.opens_at(country, phone) is None}
        with_link = {country for country in now if footers.footer(country).makes_link}
        assert with_link, f"no demo SMS with a link can go at {moment:%a %d %b %H:%M} UTC"
        assert {"AU", "DE", "BE"} <= now


@pytest.mark.send_hours_by_clock
def test_a_campaign_at_night_prints_some_sms_with_a_link_and_says_when_the_rest_go(
    demo, celery_worker, outbox, wait_for, client
):
    with time_machine.travel(NIGHT, tick=True):
        _send_at_night(demo, outbox, wait_for, client)


def _send_at_night(demo, outbox, wait_for, client) -> None:
    campaign = CampaignFactory(
        company=demo, sender="AcmeCoffee", body="Hi {{ first_name }}, fresh beans today!"
    )
    assert send_campaign(campaign=campaign)

    by_country = Contact.objects.filter(company=demo).values_list("phone", "country")
    country_of = dict(by_country)
    wait_for(lambda: len(outbox) == 21, what="the Australian, German and Belgian SMS")
    sent = {country_of[sms.to] for sms in outbox}
    assert sent == {"AU", "DE", "BE"}
    for sms in outbox:
        if country_of[sms.to] == "AU":
            assert re.search(r"Opt out: https://no-s\.test/\w+$", sms.body), sms.body
    assert any(sms.body.endswith("Abmelden: STOP an 44844") for sms in outbox)

    waiting = Message.objects.filter(campaign=campaign, status=Message.Status.QUEUED)
    assert set(waiting.values_list("country", flat=True)) == {"NL", "FR", "GB", "ZA", "US"}
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENDING

    client.force_login(demo.memberships.get(user__username="anna").user)

    def page() -> str:
        return client.get(f"/campaigns/{campaign.pk}/").content.decode()

    # Who waits, per country and zone, each from its own opening in its own time.
    shown = wait_for(
        lambda: "wait for their sending hours" in (html := page()) and html, what="who"
    )
    assert "in France from Wednesday 08:00 Paris time" in shown
    assert "in the United States from Wednesday 08:00 New York time" in shown

    # Australia's page asks for no number: one tap and that person is out.
    australian = next(sms for sms in outbox if country_of[sms.to] == "AU")
    code = australian.body.rsplit("/", 1)[1]
    landing = client.get(f"/s/{code}").content.decode()
    assert "Type that number" not in landing and 'name="phone"' not in landing
    assert client.post(f"/s/{code}", {"reason": ""}).status_code == 302
    assert is_suppressed(company=demo, address=australian.to)
