"""Roles mean something: viewers read, marketers work, owners run the company."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from addressbook.models import Contact, Group, ImportJob, Membership
from campaigns.models import Campaign
from optout.models import InboundMessage, Suppression
from optout.services import note_marketing_sent
from tests.factories import CampaignFactory, ContactFactory, MembershipFactory

# The confirmation page's button: a send without it is refused.
CONFIRM = {"confirm": "yes"}

NUMBER = "+12015550123"
REFUSED = "Viewers can look at everything but change nothing."


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


@pytest.fixture
def contact(company):
    return ContactFactory(company=company, first_name="Ada")


@pytest.fixture
def campaign(company, contact):
    return CampaignFactory(company=company, name="Beans")


@pytest.fixture
def reply(company, post_inbound_sms):
    note_marketing_sent(company=company, campaign_id=9, shortcode="44444", addresses=[NUMBER])
    post_inbound_sms(sender=NUMBER, recipient="44444", text="no more texts pls")
    return InboundMessage.objects.get()


def _csv() -> SimpleUploadedFile:
    return SimpleUploadedFile("c.csv", b"phone\n+31612345678\n", content_type="text/csv")


@pytest.mark.parametrize(
    "path",
    [
        "/contacts/",
        "/groups/",
        "/fields/",
        "/campaigns/",
        "/opt-outs/",
        "/replies/",
        "/imports/new/",
    ],
)
def test_viewer_reads_every_page(login, viewer, path):
    assert login(viewer).get(path).status_code == 200


def test_viewer_reads_a_contact_and_a_campaign(login, viewer, contact, campaign):
    client = login(viewer)
    assert "Ada" in client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "Beans" in client.get(f"/campaigns/{campaign.pk}/").content.decode()


def test_viewer_cannot_add_a_contact_and_is_told_why(login, viewer):
    response = login(viewer).post("/contacts/new/", {"phone": "+31612345678"})
    assert response.status_code == 403
    page = response.content.decode()
    assert REFUSED in page and "needs the marketer role in Acme Coffee" in page
    assert not Contact.objects.exists()


def test_viewer_cannot_change_or_delete_a_contact(login, viewer, contact):
    client = login(viewer)
    assert client.post(f"/contacts/{contact.pk}/", {"first_name": "Eve"}).status_code == 403
    assert client.post(f"/contacts/{contact.pk}/delete/").status_code == 403
    contact.refresh_from_db()
    assert contact.first_name == "Ada"


def test_viewer_cannot_create_a_group(login, viewer):
    assert login(viewer).post("/groups/", {"name": "VIP"}).status_code == 403
    assert not Group.objects.exists()


def test_viewer_cannot_upload_an_import(login, viewer):
    assert login(viewer).post("/imports/new/", {"file": _csv()}).status_code == 403
    assert not ImportJob.objects.exists()


def test_viewer_cannot_send_a_campaign(login, viewer, campaign):
    assert login(viewer).post(f"/campaigns/{campaign.pk}/send/", CONFIRM).status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


def test_viewer_cannot_opt_out_from_a_reply(login, viewer, reply):
    response = login(viewer).post(f"/replies/{reply.pk}/", {"action": "optout"})
    assert response.status_code == 403
    assert not Suppression.objects.exists()
    reply.refresh_from_db()
    assert reply.status == InboundMessage.Status.UNMATCHED


def test_viewer_sees_no_buttons_to_change_things(login, viewer, contact, campaign, reply):
    client = login(viewer)
    contacts = client.get("/contacts/").content.decode()
    assert "Add contact" not in contacts and "Import</a>" not in contacts
    assert "Export CSV" in contacts  # reading, not changing
    assert "New campaign" not in client.get("/campaigns/").content.decode()
    assert "Send now" not in client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'value="optout"' not in client.get("/replies/").content.decode()
    assert "Delete contact" not in client.get(f"/contacts/{contact.pk}/").content.decode()


def test_marketer_sees_the_buttons(marketer_client, contact, campaign, reply):
    assert "Add contact" in marketer_client.get("/contacts/").content.decode()
    assert "New campaign" in marketer_client.get("/campaigns/").content.decode()
    assert "Send now" in marketer_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'value="optout"' in marketer_client.get("/replies/").content.decode()


def test_marketer_works_contacts_imports_campaigns_and_replies(marketer_client, campaign, reply):
    assert marketer_client.post("/contacts/new/", {"phone": "+31612345679"}).status_code == 302
    assert Contact.objects.filter(phone="+31612345679").exists()
    assert marketer_client.post("/imports/new/", {"file": _csv()}).status_code == 302
    assert marketer_client.post(f"/campaigns/{campaign.pk}/send/", CONFIRM).status_code == 302
    campaign.refresh_from_db()
    assert campaign.status != Campaign.Status.DRAFT
    assert marketer_client.post(f"/replies/{reply.pk}/", {"action": "optout"}).status_code == 302
    assert Suppression.objects.filter(address=NUMBER).exists()


def test_owner_does_what_a_marketer_does(login, owner, campaign):
    client = login(owner)
    assert client.post("/contacts/new/", {"phone": "+31612345679"}).status_code == 302
    assert client.post(f"/campaigns/{campaign.pk}/send/", CONFIRM).status_code == 302


@pytest.mark.parametrize("path", ["/team/", "/audit/"])
def test_only_owners_reach_team_and_audit(login, owner, marketer, viewer, path):
    assert login(owner).get(path).status_code == 200
    for user in (marketer, viewer):
        response = login(user).get(path)
        assert response.status_code == 403
        assert "needs the owner role in Acme Coffee" in response.content.decode()


def test_only_owners_see_team_and_audit_in_the_menu(login, owner, marketer, viewer):
    assert 'href="/team/"' in login(owner).get("/contacts/").content.decode()
    assert 'href="/audit/"' in login(owner).get("/contacts/").content.decode()
    for user in (marketer, viewer):
        page = login(user).get("/contacts/").content.decode()
        assert 'href="/team/"' not in page and 'href="/audit/"' not in page


def test_viewer_may_switch_company_and_log_out(login, viewer, other_company):
    MembershipFactory(user=viewer, company=other_company, role=Membership.Role.VIEWER)
    client = login(viewer)
    assert client.post(f"/company/{other_company.pk}/switch/").status_code == 302
    assert "Globex Travel" in client.get("/contacts/").content.decode()
    assert client.post("/logout/").status_code == 302
    assert client.get("/contacts/").status_code == 302  # to the login page


def test_role_is_that_of_the_current_company(login, viewer, other_company, contact):
    # An owner elsewhere is still only a viewer here.
    MembershipFactory(user=viewer, company=other_company, role=Membership.Role.OWNER)
    client = login(viewer)
    client.post(f"/company/{contact.company.pk}/switch/")
    assert client.post(f"/contacts/{contact.pk}/delete/").status_code == 403
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_outsider_gets_404_on_this_company_rows(outsider_client, contact, campaign, reply):
    assert outsider_client.get(f"/contacts/{contact.pk}/").status_code == 404
    assert outsider_client.post(f"/contacts/{contact.pk}/delete/").status_code == 404
    assert outsider_client.post(f"/campaigns/{campaign.pk}/send/", CONFIRM).status_code == 404
    assert outsider_client.post(f"/replies/{reply.pk}/", {"action": "optout"}).status_code == 404
    assert Contact.objects.filter(pk=contact.pk).exists()
