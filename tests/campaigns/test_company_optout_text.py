"""Marketing SMS end with the company's own opt-out text; the editor previews and counts it."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.models import Campaign, Message
from optout.models import CompanyOptoutText, ReplyRoute
from tests.factories import CampaignFactory, ContactFactory
from tests.optout.rules import one_rule_per_method

from .running import run_campaign

HTMX = {"HX-Request": "true"}
NL, FR, ZA = "+31612345678", "+33612345678", "+27821234567"


@pytest.fixture(autouse=True)
def rules(db):
    one_rule_per_method()


@pytest.fixture
def texts(company):
    CompanyOptoutText.objects.create(company=company, template="{company}: opt out at {link}")
    CompanyOptoutText.objects.create(
        company=company, country="FR", template="{company} : ARRET au {shortcode}"
    )


@pytest.fixture
def contacts(company):
    ContactFactory(company=company, phone=NL, country="NL")
    ContactFactory(company=company, phone=FR, country="FR")
    ContactFactory(company=company, phone=ZA, country="ZA")


def _sent(campaign: Campaign) -> dict[str, Message]:
    return {m.to: m for m in Message.objects.filter(campaign=campaign)}


def test_a_sent_campaign_message_ends_with_the_companys_text(company, texts, contacts, outbox):
    campaign = CampaignFactory(company=company, status=Campaign.Status.SENDING, body="Hi!")
    run_campaign(campaign)

    bodies = {sms.to: sms.body for sms in outbox}
    sent = _sent(campaign)
    link = f"https://no-s.test/{sent[NL].short_code}"
    assert bodies[NL] == f"Hi!\nAcme Coffee: opt out at {link}"
    assert bodies[FR] == "Hi!\nAcme Coffee : ARRET au 36111"
    # ZA needs STOP and the link: the text for all countries has no STOP, so ZA keeps its own.
    za_link = f"https://no-s.test/{sent[ZA].short_code}"
    assert bodies[ZA] == f"Hi!\nReply STOP to 31222 or opt out: {za_link}"


def test_keyword_and_link_makes_a_link_and_notes_the_reply_route(company, contacts, outbox):
    CompanyOptoutText.objects.create(
        company=company, country="ZA", template="{company}: SMS STOP to {shortcode} or {link}"
    )
    campaign = CampaignFactory(company=company, status=Campaign.Status.SENDING, body="Hi!")
    run_campaign(campaign)

    za = _sent(campaign)[ZA]
    assert re.fullmatch(r"[A-Za-z0-9]{8}", za.short_code)
    assert za.optout_shortcode == "31222"
    assert za.body == f"Hi!\nAcme Coffee: SMS STOP to 31222 or https://no-s.test/{za.short_code}"
    route = ReplyRoute.objects.get(shortcode="31222", address=ZA)
    assert (route.company, route.campaign_id) == (company, campaign.pk)
    # The link opens the landing page of this very message.
    assert za.short_code in za.body


def test_the_method_decides_link_and_reply_route(company, texts, contacts, outbox):
    campaign = CampaignFactory(company=company, status=Campaign.Status.SENDING)
    run_campaign(campaign)
    sent = _sent(campaign)
    assert (bool(sent[NL].short_code), sent[NL].optout_shortcode) == (True, "")
    assert (sent[FR].short_code, sent[FR].optout_shortcode) == (None, "36111")
    assert set(ReplyRoute.objects.values_list("address", flat=True)) == {FR, ZA}


def test_another_companys_texts_are_never_used(company, other_company, contacts, outbox):
    CompanyOptoutText.objects.create(company=other_company, template="Globex: {link}")
    CompanyOptoutText.objects.create(
        company=other_company, country="FR", template="Globex STOP {shortcode}"
    )
    campaign = CampaignFactory(company=company, status=Campaign.Status.SENDING, body="Hi!")
    run_campaign(campaign)
    assert not [sms for sms in outbox if "Globex" in sms.body]
    assert {sms.to: sms.body for sms in outbox}[FR] == "Hi!\nSTOP au 36111"


def test_the_texts_are_read_once_per_chunk_not_per_message(company, texts, outbox):
    def queries() -> int:
        campaign = CampaignFactory(company=company, status=Campaign.Status.SENDING)
        with CaptureQueriesContext(connection) as captured:
            run_campaign(campaign)
        assert campaign.chunks.count() == 1
        return sum("optout_companyoptouttext" in q["sql"] for q in captured.captured_queries)

    ContactFactory.create_batch(2, company=company)
    few = queries()
    ContactFactory.create_batch(30, company=company)
    assert queries() == few == 1


# --- the editor ------------------------------------------------------------------------
def _sms(**fields) -> dict:
    return {"name": "Spring", "channel": "sms", "body": "Hi {{ first_name }}!", **fields}


def test_the_editor_previews_each_countrys_footer_with_the_companys_text(
    marketer_client, company, texts, contacts
):
    page = marketer_client.post("/campaigns/preview/", _sms(), headers=HTMX).content.decode()
    fr = re.search(r'data-country="FR">(.*?)</figure>', page, re.S).group(1)
    assert "Acme Coffee : ARRET au 36111" in fr and "your opt-out text" in fr
    nl = re.search(r'data-country="NL">(.*?)</figure>', page, re.S).group(1)
    assert re.search(r"Acme Coffee: opt out at https://no-s\.test/x{8}", nl)
    za = re.search(r'data-country="ZA">(.*?)</figure>', page, re.S).group(1)
    assert "Reply STOP to 31222 or opt out" in za and "your opt-out text" not in za


def _preview(client, body: str) -> str:
    data = _sms(body=body, countries=["NL"])
    return client.post("/campaigns/preview/", data, headers=HTMX).content.decode()


def test_the_part_counter_counts_the_companys_text(marketer_client, company, contacts):
    body = "x" * 120
    # NL gets the link: "Opt out: <27-character link>" fits one part with the body.
    before = _preview(marketer_client, body)
    assert re.search(r'data-counter="parts">1<', before)
    CompanyOptoutText.objects.create(
        company=company,
        template="{company} sends you its news; to get no more of it, tap {link}",
    )
    after = _preview(marketer_client, body)
    assert re.search(r'data-counter="parts">2<', after)
    assert re.search(r'data-preview="parts">2<', after)


def test_the_parts_cap_at_save_counts_the_companys_text(marketer_client, company):
    company.sms_max_parts = 1
    company.save(update_fields=["sms_max_parts"])
    body = "x" * 120
    ok = marketer_client.post("/campaigns/new/", _sms(body=body, countries=["NL"]))
    assert ok.status_code == 302
    CompanyOptoutText.objects.create(
        company=company,
        template="{company} sends you its news; to get no more of it, tap {link}",
    )
    refused = marketer_client.post("/campaigns/new/", _sms(body=body, countries=["NL"]))
    assert refused.status_code == 400
    assert "With its opt-out text this SMS takes 2 parts" in refused.content.decode()
