"""Staff erase a person, or download their data, from the Contact admin."""

import json

from addressbook.models import AuditEvent, Contact
from optout.models import ActorType, ConsentEvent, Source
from tests.factories import ContactFactory

from .conftest import PHONE

CHANGELIST = "/admin/addressbook/contact/"


def act(client, action, contacts, **extra):
    data = {"action": action, "_selected_action": [c.pk for c in contacts], **extra}
    return client.post(CHANGELIST, data)


def test_staff_erase_after_a_confirmation(admin_client, admin_user, company):
    contact = ContactFactory(company=company, phone=PHONE, first_name="Anna")

    page = act(admin_client, "erase_people", [contact])
    assert page.status_code == 200
    assert "This cannot be undone." in page.content.decode()
    assert Contact.objects.filter(pk=contact.pk).exists()

    done = act(admin_client, "erase_people", [contact], apply="Erase", confirm="on")
    assert done.status_code == 302
    assert not Contact.objects.filter(pk=contact.pk).exists()
    event = ConsentEvent.objects.get(company=company, address=PHONE)
    assert (event.source, event.actor_type, event.actor_label) == (
        Source.ADMIN,
        ActorType.STAFF,
        admin_user.username,
    )
    assert AuditEvent.objects.get(action=AuditEvent.Action.PERSON_ERASED).actor == admin_user


def test_staff_download_one_persons_data(admin_client, company, other_company):
    contact = ContactFactory(company=company, phone=PHONE, first_name="Anna")
    ContactFactory(company=other_company, phone=PHONE, first_name="Someone")

    response = act(admin_client, "export_person", [contact])

    assert response["Content-Disposition"].startswith('attachment; filename="contact-')
    data = json.loads(response.content)
    assert (data["company"]["id"], data["contact"]["first_name"]) == (company.pk, "Anna")


def test_staff_download_one_person_at_a_time(admin_client, company):
    contacts = ContactFactory.create_batch(2, company=company)

    response = act(admin_client, "export_person", contacts)

    assert response.status_code == 302
    assert not AuditEvent.objects.exists()
