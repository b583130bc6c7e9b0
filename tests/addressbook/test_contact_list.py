from addressbook.models import Group
from optout.services import record_optout
from tests.factories import ContactFactory


def test_filters_by_group_country_and_status(marketer_client, company):
    group = Group.objects.create(company=company, name="Fair")
    ada = ContactFactory(company=company, first_name="Ada")
    bo = ContactFactory(company=company, first_name="Bo", phone="+33612345678", country="FR")
    cy = ContactFactory(company=company, first_name="Cy")
    ada.groups.add(group)
    record_optout(company=company, address=cy.phone, source="landing_page")

    def names(**params):
        page = marketer_client.get("/contacts/", params).content.decode()
        return {n for n in ("Ada", "Bo", "Cy") if f">{n} Tester<" in page}

    assert names() == {"Ada", "Bo", "Cy"}
    assert names(group=group.pk) == {"Ada"}
    assert names(country="FR") == {"Bo"}
    assert names(status="opted_out") == {"Cy"}
    assert names(status="reachable") == {"Ada", "Bo"}
    assert names(status="reachable", country="NL") == {"Ada"}
    assert names(country="FR", status="opted_out") == set()
    page = marketer_client.get("/contacts/", {"country": "FR"}).content.decode()
    assert bo.phone in page and ada.phone not in page and cy.phone not in page


def test_counts_show_matching_and_total(marketer_client, company):
    ContactFactory.create_batch(3, company=company)
    ContactFactory(company=company, phone="+33612345678", country="FR")
    page = marketer_client.get("/contacts/", {"country": "FR"}).content.decode()
    assert '<span data-count="matching">1</span> of 4 contacts match' in page


def test_pagination_keeps_the_filter(marketer_client, company):
    ContactFactory.create_batch(55, company=company)
    page = marketer_client.get("/contacts/", {"country": "NL"}).content.decode()
    assert "?country=NL&amp;page=2" in page


def test_detail_tells_when_how_why_and_from_which_campaign(marketer_client, company):
    contact = ContactFactory(company=company, email="ada@example.nl")
    record_optout(
        company=company,
        address=contact.phone,
        source="landing_page",
        campaign_id=7,
        reason="too_many",
        reason_text="Daily is a lot",
    )
    page = marketer_client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "Opted out since" in page and "landing page" in page
    assert "campaign <a" in page and "#7" in page
    assert "Too many messages" in page
    assert "Consent history" in page and "Daily is a lot" in page
