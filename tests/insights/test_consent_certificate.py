"""The consent certificate a company hands to a regulator: one address's whole record."""

from datetime import UTC, datetime

import time_machine
from django.urls import reverse

from optout.consent import Actor, Proof, Seen
from optout.models import ConsentMethod, Source
from optout.services import record_optin, record_optout
from tests.factories import CampaignFactory, ContactFactory

URL = reverse("insights:consent-certificate")
NUMBER = "+31612345678"


def _history(company, marketer):
    campaign = CampaignFactory(company=company, name="Spring sale")
    with time_machine.travel(datetime(2026, 3, 1, 12, tzinfo=UTC), tick=False):
        record_optout(
            company=company,
            address=NUMBER,
            source=Source.LANDING_PAGE,
            campaign_id=campaign.pk,
            reason="too_many",
            seen=Seen(ip_address="203.0.113.9", user_agent="Firefox/140", wording_version="v1/nl"),
        )
    with time_machine.travel(datetime(2026, 4, 1, 12, tzinfo=UTC), tick=False):
        record_optin(
            company=company,
            address=NUMBER,
            source=Source.DASHBOARD,
            actor=Actor.user(marketer),
            proof=Proof(
                method=ConsentMethod.PAPER,
                given_at=datetime(2026, 3, 30, tzinfo=UTC),
                wording="Yes, text me the weekly offers.",
            ),
        )


def test_the_certificate_shows_the_state_on_a_date_and_every_event(
    marketer_client, company, marketer
):
    _history(company, marketer)

    page = marketer_client.get(URL, {"address": "06 12345678", "at": "2026-03-15"})

    assert page.status_code == 200
    text = page.content.decode()
    assert "Opted out" in text and NUMBER in text
    assert "Spring sale" in text and "203.0.113.9" in text and "v1/nl" in text
    assert "Paper form" in text and "Yes, text me the weekly offers." in text
    assert marketer.get_username() in text
    assert "Fingerprint" in text

    today = marketer_client.get(URL, {"address": NUMBER}).content.decode()
    assert "Consented" in today


def test_the_certificate_downloads_as_a_file(marketer_client, company, marketer):
    _history(company, marketer)
    answer = marketer_client.get(URL, {"address": NUMBER, "download": "1"})
    assert answer.status_code == 200
    assert answer["Content-Disposition"].startswith('attachment; filename="consent-')


def test_bad_or_unknown_addresses_are_4xx(marketer_client, company):
    ContactFactory(company=company, phone=NUMBER)
    assert marketer_client.get(URL).status_code == 400
    assert marketer_client.get(URL, {"address": "not a number"}).status_code == 400
    assert marketer_client.get(URL, {"address": NUMBER, "at": "yesterday"}).status_code == 400
    assert marketer_client.get(URL, {"address": NUMBER}).status_code == 404


def test_another_companys_record_is_not_there(marketer_client, other_company):
    record_optout(company=other_company, address=NUMBER, source=Source.SMS_KEYWORD)
    assert marketer_client.get(URL, {"address": NUMBER}).status_code == 404


def test_the_contact_page_links_its_addresses_certificates(marketer_client, company):
    contact = ContactFactory(company=company, phone=NUMBER, email="anna@example.com")
    record_optout(company=company, address=NUMBER, source=Source.SMS_KEYWORD, raw_text="STOP")

    page = marketer_client.get(reverse("addressbook:contact-edit", args=[contact.pk]))
    assert reverse("insights:contact-history", args=[contact.pk]) in page.content.decode()
    # The history the contact's page loads.
    page = marketer_client.get(reverse("insights:contact-history", args=[contact.pk]))

    text = page.content.decode()
    assert "Consent history" in text
    assert f"{URL}?address=%2B31612345678" in text
    assert "another address of the same person" in text
