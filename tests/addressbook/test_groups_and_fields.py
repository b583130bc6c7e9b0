from addressbook.models import Contact, CustomField, Group
from campaigns.models import Campaign
from tests.factories import ContactFactory


def test_create_rename_delete_a_group(marketer_client, company):
    assert marketer_client.post("/groups/", {"name": "VIP"}).status_code == 302
    group = Group.objects.get(company=company, name="VIP")
    duplicate = marketer_client.post("/groups/", {"name": "VIP"})
    assert duplicate.status_code == 400 and "already a group" in duplicate.content.decode()
    marketer_client.post(f"/groups/{group.pk}/", {"action": "rename", "name": "Gold"})
    group.refresh_from_db()
    assert group.name == "Gold"
    contact = ContactFactory(company=company)
    contact.groups.add(group)
    marketer_client.post(f"/groups/{group.pk}/", {"action": "delete"})
    assert not Group.objects.exists()
    assert Contact.objects.filter(pk=contact.pk).exists()  # the contacts stay


def test_bulk_add_ticked_and_all_matching(marketer_client, company):
    group = Group.objects.create(company=company, name="Fair")
    nl = ContactFactory.create_batch(3, company=company)
    fr = ContactFactory(company=company, phone="+33612345678", country="FR")
    marketer_client.post(
        "/contacts/bulk/", {"target_group": group.pk, "action": "add", "ids": [nl[0].pk]}
    )
    assert list(group.contacts.all()) == [nl[0]]
    marketer_client.post(
        "/contacts/bulk/",
        {"target_group": group.pk, "action": "add", "scope": "all", "country": "NL"},
    )
    assert set(group.contacts.all()) == set(nl)
    marketer_client.post(
        "/contacts/bulk/",
        {"target_group": group.pk, "action": "remove", "scope": "all", "q": nl[1].first_name},
    )
    assert set(group.contacts.all()) == {nl[0], nl[2]}
    assert fr not in group.contacts.all()


def test_bulk_never_touches_another_companys_contacts_or_groups(
    marketer_client, company, other_company
):
    mine = Group.objects.create(company=company, name="Mine")
    theirs = Group.objects.create(company=other_company, name="Theirs")
    stranger = ContactFactory(company=other_company)
    response = marketer_client.post(
        "/contacts/bulk/", {"target_group": theirs.pk, "action": "add", "ids": [stranger.pk]}
    )
    assert response.status_code == 404
    marketer_client.post(
        "/contacts/bulk/", {"target_group": mine.pk, "action": "add", "ids": [stranger.pk]}
    )
    assert not mine.contacts.exists() and not theirs.contacts.exists()


def test_custom_fields_on_the_contact(marketer_client, company):
    marketer_client.post("/fields/", {"name": "City", "type": "text"})
    marketer_client.post("/fields/", {"name": "Birthday", "type": "date"})
    marketer_client.post("/fields/", {"name": "Tier", "type": "choice", "choices": "Gold, Silver"})
    assert list(company.custom_fields.values_list("key", flat=True)) == ["city", "birthday", "tier"]
    response = marketer_client.post(
        "/contacts/new/",
        {
            "phone": "0612345678",
            "custom_city": "Delft",
            "custom_birthday": "1990-04-01",
            "custom_tier": "Gold",
        },
    )
    assert response.status_code == 302
    contact = Contact.objects.get()
    assert contact.custom == {"city": "Delft", "birthday": "1990-04-01", "tier": "Gold"}
    page = marketer_client.get(f"/contacts/{contact.pk}/").content.decode()
    assert 'value="Delft"' in page


def test_bad_custom_value_is_refused_with_the_reason(marketer_client, company):
    CustomField.objects.create(company=company, name="Visits", key="visits", type="number")
    response = marketer_client.post(
        "/contacts/new/", {"phone": "0612345678", "custom_visits": "many"}
    )
    assert response.status_code == 400
    assert "is not a number" in response.content.decode()
    assert not Contact.objects.exists()


def test_a_field_cannot_shadow_a_builtin_placeholder(marketer_client, company):
    response = marketer_client.post("/fields/", {"name": "First name", "type": "text"})
    assert response.status_code == 400 and "built-in field" in response.content.decode()


def test_custom_field_filters_contacts(marketer_client, company):
    CustomField.objects.create(company=company, name="City", key="city")
    ContactFactory(company=company, first_name="Ada", custom={"city": "Delft"})
    ContactFactory(company=company, first_name="Bo", custom={"city": "Gent"})
    page = marketer_client.get("/contacts/", {"field": "city", "value": "delf"}).content.decode()
    assert "Ada" in page and "Bo" not in page


def test_custom_field_is_a_campaign_placeholder(marketer_client, company, outbox):
    CustomField.objects.create(company=company, name="City", key="city")
    ContactFactory(company=company, first_name="Ada", custom={"city": "Delft"})
    response = marketer_client.post(
        "/campaigns/new/",
        {
            "name": "Local",
            "channel": "sms",
            "body": 'Hi {{ first_name }} in {{ city|default:"town" }}',
        },
    )
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    page = marketer_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "Hi Ada in Delft" in page
    unknown = marketer_client.post(
        "/campaigns/new/", {"name": "Oops", "channel": "sms", "body": "{{ town }}"}
    )
    assert "Unknown placeholder {{ town }}" in unknown.content.decode()


def test_groups_and_fields_are_per_company(outsider_client, company):
    group = Group.objects.create(company=company, name="Secret group")
    field = CustomField.objects.create(company=company, name="Secret field", key="secret")
    assert "Secret group" not in outsider_client.get("/groups/").content.decode()
    assert "Secret field" not in outsider_client.get("/fields/").content.decode()
    assert outsider_client.post(f"/groups/{group.pk}/", {"action": "delete"}).status_code == 404
    assert outsider_client.post(f"/fields/{field.pk}/delete/").status_code == 404
    assert Group.objects.exists() and CustomField.objects.exists()
