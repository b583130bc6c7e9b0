from addressbook.models import Contact
from tests.factories import ContactFactory


def test_national_number_uses_company_country(marketer_client, company):
    response = marketer_client.post(
        "/contacts/new/", {"first_name": "Sanne", "phone": "06-12 34 56 78", "email": "S@Ex.NL"}
    )
    assert response.status_code == 302
    contact = Contact.objects.get()
    assert (contact.phone, contact.country, contact.email) == ("+31612345678", "NL", "S@ex.nl")


def test_invalid_number_is_refused_with_the_reason(marketer_client):
    response = marketer_client.post("/contacts/new/", {"first_name": "X", "phone": "+999 123"})
    assert response.status_code == 400
    assert "has no valid country code" in response.content.decode()
    assert not Contact.objects.exists()


def test_contact_needs_an_address(marketer_client):
    response = marketer_client.post("/contacts/new/", {"first_name": "Nobody"})
    assert response.status_code == 400
    assert "needs a phone number or an email address" in response.content.decode()


def test_duplicate_number_is_refused(marketer_client, company):
    ContactFactory(company=company, phone="+31612345678")
    response = marketer_client.post("/contacts/new/", {"phone": "0612345678"})
    assert response.status_code == 400
    assert "Another contact already has this phone number" in response.content.decode()
    assert Contact.objects.count() == 1


def test_search_finds_a_number_typed_any_way(marketer_client, company):
    ContactFactory(company=company, phone="+31612345678", first_name="Sanne")
    ContactFactory(company=company, first_name="Daan")
    page = marketer_client.get("/contacts/", {"q": "06 1234 5678"}).content.decode()
    assert "Sanne" in page and "Daan" not in page


def test_htmx_search_returns_the_results_fragment(marketer_client, company):
    ContactFactory(company=company, first_name="Sanne")
    response = marketer_client.get("/contacts/", {"q": "san"}, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="results">')
    assert "Sanne" in page and "<html" not in page


def test_list_shows_opted_out_status(marketer_client, company):
    from optout.services import record_optout

    contact = ContactFactory(company=company, first_name="Gone")
    record_optout(company=company, address=contact.phone, source="landing_page")
    assert "Opted out" in marketer_client.get("/contacts/").content.decode()
    detail = marketer_client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "Opted out since" in detail and "landing page" in detail


def test_an_opted_out_address_cannot_be_edited_away(marketer_client, company):
    from optout.services import record_optout

    contact = ContactFactory(company=company, phone="+31612345678")
    record_optout(company=company, address=contact.phone, source="sms_keyword")
    response = marketer_client.post(f"/contacts/{contact.pk}/", {"phone": "+31687654321"})
    assert response.status_code == 400
    assert "opted out; it stays on the contact" in response.content.decode()
    contact.refresh_from_db()
    assert contact.phone == "+31612345678"


def test_bulk_action_does_not_redirect_elsewhere(marketer_client, company):
    from addressbook.models import Group

    group = Group.objects.create(company=company, name="G")
    response = marketer_client.post(
        "/contacts/bulk/", {"target_group": group.pk, "ids": [], "next": "https://evil.example/"}
    )
    assert response["Location"] == "/contacts/"
