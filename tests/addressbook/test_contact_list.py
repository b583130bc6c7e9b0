import re

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


def test_detail_tells_when_how_and_why_and_its_history_from_which_campaign(
    marketer_client, company
):
    from tests.factories import CampaignFactory

    contact = ContactFactory(company=company, email="ada@example.nl")
    campaign = CampaignFactory(company=company, name="Winter sale")
    record_optout(
        company=company,
        address=contact.phone,
        source="landing_page",
        campaign_id=campaign.pk,
        reason="too_many",
        reason_text="Daily is a lot",
    )
    page = marketer_client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "Opted out since" in page and "landing page" in page
    assert "Too many messages" in page
    assert f'hx-get="/contacts/{contact.pk}/history/"' in page
    history = marketer_client.get(f"/contacts/{contact.pk}/history/").content.decode()
    assert "Consent history" in history and "Daily is a lot" in history
    assert f'<a href="/campaigns/{campaign.pk}/">Winter sale</a>' in history
    assert f"#{campaign.pk}" not in history


def _names_in_order(client, **params) -> list[str]:
    """The contacts' names as the page lists them, top to bottom."""
    page = client.get("/contacts/", params).content.decode()
    return re.findall(r'<a href="/contacts/\d+/">([^<]+)</a>', page)


def test_sorts_by_each_column_both_ways(marketer_client, company):
    ContactFactory(company=company, first_name="cy", phone="+31610000003", email="a@example.nl")
    ada = ContactFactory(
        company=company, first_name="Ada", phone="+31610000002", email="c@example.nl"
    )
    ContactFactory(company=company, first_name="Bo", phone="+31610000001", email="b@example.nl")
    record_optout(company=company, address=ada.phone, source="landing_page")

    def order(sort):
        return [n.split()[0] for n in _names_in_order(marketer_client, sort=sort)]

    assert order("name") == ["Ada", "Bo", "cy"]  # letters, not upper before lower case
    assert order("-name") == ["cy", "Bo", "Ada"]
    assert order("phone") == ["Bo", "Ada", "cy"]
    assert order("-phone") == ["cy", "Ada", "Bo"]
    assert order("email") == ["cy", "Bo", "Ada"]
    assert order("created") == ["cy", "Ada", "Bo"]
    assert order("-created") == ["Bo", "Ada", "cy"]
    assert order("status") == ["cy", "Bo", "Ada"]  # reachable first, then by id
    assert order("-status") == ["Ada", "Bo", "cy"]


def test_an_unknown_sort_is_ignored(marketer_client, company):
    first, second = ContactFactory(company=company), ContactFactory(company=company)
    for sort in ("password", "-", "id;drop", "--name", "¹"):
        response = marketer_client.get("/contacts/", {"sort": sort})
        assert response.status_code == 200
        names = _names_in_order(marketer_client, sort=sort)
        assert names == [first.full_name, second.full_name]
        assert "aria-sort" not in response.content.decode()


def test_ties_are_broken_by_id_so_pages_neither_repeat_nor_lose(marketer_client, company):
    ContactFactory.create_batch(60, company=company, first_name="Same", last_name="Name")
    ids = []
    for page in (1, 2):
        html = marketer_client.get("/contacts/", {"sort": "name", "page": page}).content.decode()
        ids += [int(i) for i in re.findall(r'name="ids" value="(\d+)"', html)]
    assert len(ids) == 60 and ids == sorted(ids)


def test_the_sort_is_kept_with_the_filters_in_headers_pages_and_the_form(marketer_client, company):
    ContactFactory.create_batch(55, company=company)
    page = marketer_client.get("/contacts/", {"country": "NL", "sort": "-email"}).content.decode()
    assert "?country=NL&amp;sort=-email&amp;page=2" in page  # the next page
    assert 'href="?country=NL&amp;sort=email"' in page  # the header flips the direction
    assert 'href="?country=NL&amp;sort=name"' in page  # another header sorts by it
    assert 'aria-sort="descending"' in page
    assert '<input type="hidden" name="sort" value="-email">' in page  # filtering keeps it
    assert "/contacts/export.csv?country=NL&amp;sort=-email" in page


def test_the_page_has_a_select_all_box_beside_the_all_that_match_action(marketer_client, company):
    Group.objects.create(company=company, name="Fair")
    ContactFactory.create_batch(3, company=company)
    page = marketer_client.get("/contacts/").content.decode()
    assert 'data-select-all="ids"' in page and page.count('name="ids"') == 3
    assert '<option value="all">All 3 that match</option>' in page


def test_all_that_match_still_adds_every_match_whatever_the_sort(marketer_client, company):
    group = Group.objects.create(company=company, name="Fair")
    ContactFactory.create_batch(55, company=company, country="NL")
    ContactFactory(company=company, phone="+33612345678", country="FR")
    response = marketer_client.post(
        "/contacts/bulk/",
        {"target_group": group.pk, "scope": "all", "country": "NL", "sort": "-name"},
    )
    assert response.status_code == 302
    assert group.contacts.count() == 55


def test_groups_are_listed_by_name_everywhere(marketer_client, company):
    for name in ("zebra", "Alpha", "mango"):
        Group.objects.create(company=company, name=name)
    contact = ContactFactory(company=company)

    def order(html: str) -> list[str]:
        return sorted(("Alpha", "mango", "zebra"), key=html.index)

    expected = ["Alpha", "mango", "zebra"]
    assert order(marketer_client.get("/groups/").content.decode()) == expected
    assert order(marketer_client.get("/contacts/").content.decode()) == expected
    assert order(marketer_client.get(f"/contacts/{contact.pk}/").content.decode()) == expected
    assert order(marketer_client.get("/campaigns/new/").content.decode()) == expected


def test_outsider_sees_none_of_our_contacts_sorted_or_not(outsider_client, company):
    group = Group.objects.create(company=company, name="Fair")
    ContactFactory(company=company, first_name="Ours")
    for params in ({}, {"sort": "name"}, {"group": group.pk, "sort": "-status"}):
        page = outsider_client.get("/contacts/", params).content.decode()
        assert "Ours" not in page and "Fair" not in page
