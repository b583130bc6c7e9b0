"""A marketer sees only their company's data; another company's rows are a 404."""

import pytest

from campaigns.models import Campaign, Message
from tests.factories import CampaignFactory, ContactFactory, MembershipFactory


@pytest.fixture
def rows(company):
    contact = ContactFactory(company=company, first_name="Secret")
    campaign = CampaignFactory(company=company, name="Secret campaign")
    message = Message.objects.create(
        company=company, campaign=campaign, contact=contact, to=contact.phone
    )
    return contact, campaign, message


@pytest.mark.parametrize(
    "method, url",
    [
        ("get", "/contacts/{contact}/"),
        ("post", "/contacts/{contact}/"),
        ("post", "/contacts/{contact}/delete/"),
        ("get", "/campaigns/{campaign}/"),
        ("post", "/campaigns/{campaign}/send/"),
        ("get", "/campaigns/messages/{message}/"),
    ],
)
def test_other_company_gets_404(outsider_client, rows, method, url):
    contact, campaign, message = rows
    path = url.format(contact=contact.pk, campaign=campaign.pk, message=message.pk)
    response = getattr(outsider_client, method)(path, {"phone": "+31687654321"})
    assert response.status_code == 404
    contact.refresh_from_db()
    assert contact.first_name == "Secret"
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT


def test_lists_show_only_own_company(outsider_client, other_company, rows):
    ContactFactory(company=other_company, first_name="Theirs")
    CampaignFactory(company=other_company, name="Their campaign")
    contacts = outsider_client.get("/contacts/")
    campaigns = outsider_client.get("/campaigns/")
    assert contacts.status_code == campaigns.status_code == 200
    page = contacts.content.decode()
    assert ">Theirs Tester<" in page and "Secret" not in page
    assert '<span data-count="matching">1</span> of 1 contact.' in page
    page = campaigns.content.decode()
    assert "Their campaign" in page and "Secret campaign" not in page


def test_colleague_sees_the_same_company(client, colleague, rows):
    contact, campaign, message = rows
    client.force_login(colleague)
    assert client.get(f"/contacts/{contact.pk}/").status_code == 200
    assert client.get(f"/campaigns/{campaign.pk}/").status_code == 200
    assert client.get(f"/campaigns/messages/{message.pk}/").status_code == 200


def test_member_of_two_companies_switches(client, marketer, company, other_company, rows):
    MembershipFactory(user=marketer, company=other_company)
    ContactFactory(company=other_company, first_name="Elsewhere")
    client.force_login(marketer)

    switched = client.post(f"/company/{other_company.pk}/switch/", follow=True)
    page = switched.content.decode()
    assert "Elsewhere" in page and "Secret" not in page
    assert client.get(f"/contacts/{rows[0].pk}/").status_code == 404


def test_cannot_switch_to_a_company_one_is_not_in(marketer_client, other_company):
    assert marketer_client.post(f"/company/{other_company.pk}/switch/").status_code == 404


def test_dashboard_requires_login(client, rows):
    for path in ("/contacts/", "/campaigns/", "/opt-outs/", f"/campaigns/{rows[1].pk}/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_user_without_company_is_told_so(client, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    page = client.get("/contacts/", follow=True).content.decode()
    assert "not a member of any company" in page


def test_optout_list_shows_only_own_company(outsider_client, company, other_company, rows):
    from optout.services import record_optout

    contact = rows[0]
    record_optout(company=company, address=contact.phone, source="landing_page")
    record_optout(company=other_company, address="+33612345678", source="api")
    page = outsider_client.get("/opt-outs/").content.decode()
    assert "+33612345678" in page and contact.phone not in page


def test_campaign_page_counts_only_own_company_optouts(
    marketer_client, company, other_company, rows
):
    from optout.services import record_optout

    campaign = rows[1]
    # The other company's opt-out carries a campaign id that happens to be ours.
    record_optout(
        company=other_company,
        address="+33612345678",
        source="api",
        campaign_id=campaign.pk,
        reason_text="theirs only",
    )
    record_optout(
        company=company,
        address="+31687654321",
        source="landing_page",
        campaign_id=campaign.pk,
        reason_text="ours",
    )
    response = marketer_client.get(f"/campaigns/{campaign.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Why people left" in page and "No opt-outs from this campaign" not in page
    assert "+31687654321" in page and "“ours”" in page
    assert "theirs only" not in page and "+33612345678" not in page
