"""The campaign list: each campaign's sent, delivered, opted out and opt-out rate, read for
the whole page at once."""

import re

from campaigns.models import Campaign
from tests.campaigns.test_report import build_reported_campaign
from tests.factories import CampaignFactory


def _row(page: str, campaign: Campaign) -> dict[str, str]:
    row = re.search(rf'<tr data-campaign="{campaign.pk}">(.*?)</tr>', page, re.S).group(1)
    return dict(re.findall(r'data-count="(\w+)">([^<]*)</td>', row))


def test_shows_sent_delivered_opted_out_and_the_rate(marketer_client, company):
    sent = build_reported_campaign(company)
    draft = CampaignFactory(company=company, name="Spring draft")
    page = marketer_client.get("/campaigns/").content.decode()
    # The fixture's gateway took 7 messages, 4 were delivered, 5 people left because of it.
    assert _row(page, sent) == {
        "sent": "7",
        "delivered": "4",
        "optouts": "5",
        "rate": "71.43 %",
    }
    assert _row(page, draft) == {"sent": "—", "delivered": "—", "optouts": "—", "rate": "—"}
    assert '<th class="num">Opt-out rate</th>' in page


def test_another_companys_figures_never_count(marketer_client, company, other_company):
    ours = build_reported_campaign(company, name="Ours")
    build_reported_campaign(other_company, name="Theirs", serial=1)
    page = marketer_client.get("/campaigns/").content.decode()
    assert "Theirs" not in page
    assert _row(page, ours)["sent"] == "7"


def test_a_page_of_campaigns_costs_the_same_queries_as_one(
    marketer_client, company, django_assert_max_num_queries
):
    for serial in range(3):
        build_reported_campaign(company, name=f"Sale {serial}", serial=serial)
    CampaignFactory.create_batch(10, company=company)
    # Session, user, membership and company, the page's count and rows, and one grouped
    # read each for sent, delivered and opt-outs: not one per campaign.
    with django_assert_max_num_queries(12):
        page = marketer_client.get("/campaigns/").content.decode()
    assert page.count("data-campaign=") == 13
    assert {_row(page, c)["optouts"] for c in Campaign.objects.filter(name__startswith="Sale")} == {
        "5"
    }


def test_pages_of_fifty(marketer_client, company):
    CampaignFactory.create_batch(51, company=company)
    first = marketer_client.get("/campaigns/").content.decode()
    second = marketer_client.get("/campaigns/", {"page": 2}).content.decode()
    assert first.count("data-campaign=") == 50 and second.count("data-campaign=") == 1
    assert "?page=2" in first


def test_outsider_sees_none_of_our_campaigns(outsider_client, company):
    campaign = build_reported_campaign(company, name="Winter sale")
    assert "Winter sale" not in outsider_client.get("/campaigns/").content.decode()
    assert outsider_client.get(f"/campaigns/{campaign.pk}/").status_code == 404
