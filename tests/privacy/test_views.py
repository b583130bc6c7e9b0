"""The contact page's privacy actions: the erase screen with its confirmation, the download."""

import json

import pytest

from addressbook.models import AuditEvent, Contact
from optout.models import ConsentEvent, Source, Suppression
from tests.factories import ContactFactory

from .conftest import EMAIL, PHONE


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


@pytest.fixture
def contact(company):
    return ContactFactory(company=company, phone=PHONE, email=EMAIL, first_name="Anna")


def test_the_contact_page_offers_the_download_and_the_erasure(login, marketer, contact):
    page = login(marketer).get(f"/contacts/{contact.pk}/").content.decode()
    assert f'action="/contacts/{contact.pk}/export.json"' in page
    assert f'href="/contacts/{contact.pk}/erase/"' in page


def test_a_viewer_may_download_but_is_not_offered_the_erasure(login, viewer, contact):
    client = login(viewer)
    page = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "export.json" in page and "/erase/" not in page
    assert client.post(f"/contacts/{contact.pk}/export.json").status_code == 200
    assert client.get(f"/contacts/{contact.pk}/erase/").status_code == 403
    assert client.post(f"/contacts/{contact.pk}/erase/", {"confirm": "on"}).status_code == 403
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_the_erase_screen_says_what_goes_and_what_stays(anna, login, marketer):
    response = login(marketer).get(f"/contacts/{anna.pk}/erase/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "The text of 1 message sent to them and of 1 reply they sent" in page
    assert "in 4 consent records. The records themselves stay." in page
    stays = f'{PHONE}</span> and <span class="mono">{EMAIL}</span> stay on your opt-out list'
    assert stays in page
    assert "cannot be undone" in page


def test_erasing_needs_the_box_ticked(login, marketer, contact):
    response = login(marketer).post(f"/contacts/{contact.pk}/erase/")
    assert response.status_code == 400
    assert "Tick the box to confirm the erasure." in response.content.decode()
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert not Suppression.objects.exists()


def test_a_marketer_erases_a_person(login, marketer, anna, company):
    client = login(marketer)
    response = client.post(f"/contacts/{anna.pk}/erase/", {"confirm": "on"}, follow=True)

    assert response.redirect_chain == [("/contacts/", 302)]
    assert "Erased Anna de Vries." in response.content.decode()
    assert not Contact.objects.filter(pk=anna.pk).exists()
    event = ConsentEvent.objects.filter(company=company, address=PHONE).first()
    assert (event.source, event.actor_label) == (Source.DASHBOARD, marketer.username)
    assert Suppression.objects.filter(company=company, address=EMAIL).exists()
    assert AuditEvent.objects.get(action=AuditEvent.Action.PERSON_ERASED).actor == marketer
    assert client.get(f"/contacts/{anna.pk}/erase/").status_code == 404


def test_the_download_is_a_json_file_of_the_person(login, marketer, contact):
    client = login(marketer)
    # Who takes a person's data out goes on the audit log: a GET does nothing.
    assert client.get(f"/contacts/{contact.pk}/export.json").status_code == 405
    response = client.post(f"/contacts/{contact.pk}/export.json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="contact-{contact.pk}-'
    )
    data = json.loads(response.content)
    assert (data["contact"]["phone"], data["contact"]["email"]) == (PHONE, EMAIL)


def test_other_company_gets_404(login, outsider, contact):
    client = login(outsider)
    assert client.post(f"/contacts/{contact.pk}/export.json").status_code == 404
    assert client.get(f"/contacts/{contact.pk}/erase/").status_code == 404
    assert client.post(f"/contacts/{contact.pk}/erase/", {"confirm": "on"}).status_code == 404
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PERSON_EXPORTED).exists()
