"""Erasing a person: the contact and its texts go, the opt-out stays, the address never
comes back through an import."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from addressbook.models import AuditEvent, Contact, Group
from addressbook.services.imports import create_import, run_import
from api.models import WebhookDelivery
from campaigns.models import Campaign, Message
from optout.consent import Actor
from optout.models import ConsentEvent, InboundMessage, ReplyRoute, Source, Suppression
from optout.selectors import suppressed_among
from optout.services import record_optout
from privacy.hashing import ADDRESS_COLUMNS, ERASED_PREFIX, erasure_hash
from privacy.services import erase_person
from tests.campaigns.running import run_campaign
from tests.factories import CampaignFactory, ContactFactory

from .conftest import EMAIL, PHONE, REASON, REPLY


def erase(contact, user=None):
    return erase_person(
        contact=contact,
        source=Source.DASHBOARD,
        actor=Actor.user(user) if user else Actor("system"),
        user=user,
    )


def test_the_contact_its_custom_values_and_groups_go(anna, company, marketer):
    erase(anna, marketer)

    assert not Contact.objects.filter(company=company).exists()
    vip = Group.objects.get(company=company, name="VIP")
    assert not vip.contacts.exists()


def test_message_bodies_and_reply_texts_are_blanked_and_the_rows_kept(anna, company, marketer):
    message = Message.objects.get(company=company)

    erase(anna, marketer)

    message.refresh_from_db()
    assert (message.body, message.subject, message.short_code) == ("", "", None)
    assert message.to == erasure_hash(PHONE)
    assert message.status == Message.Status.SENT  # the campaign's counts still hold
    assert message.contact_id is None
    reply = InboundMessage.objects.get(company=company)
    assert reply.text == ""
    assert reply.sender == reply.sender_e164 == erasure_hash(PHONE)
    # Nothing left to review, and nothing to route a number by.
    assert reply.status == InboundMessage.Status.DISMISSED
    assert not ReplyRoute.objects.filter(address=PHONE).exists()


def test_the_opt_out_and_its_events_stay_without_what_the_person_wrote(anna, company, marketer):
    before = set(ConsentEvent.objects.filter(company=company).values_list("pk", flat=True))

    done = erase(anna, marketer)

    # She was reachable: the erasure opts both addresses out (the email as linked).
    assert done.suppressed == 1
    assert set(Suppression.objects.filter(company=company).values_list("address", flat=True)) == {
        PHONE,
        EMAIL,
    }
    events = ConsentEvent.objects.filter(company=company)
    assert before < set(events.values_list("pk", flat=True))
    newest = events.filter(address=PHONE).first()
    assert (newest.kind, newest.source, newest.actor_label) == (
        ConsentEvent.Kind.OPT_OUT,
        Source.DASHBOARD,
        marketer.username,
    )
    for event in events:
        assert (event.reason_text, event.raw_text, event.user_agent, event.ip_address) == (
            "",
            "",
            "",
            None,
        )
    landing = events.get(source=Source.LANDING_PAGE, kind=ConsentEvent.Kind.OPT_OUT)
    # What is no free text stays: the proof of what happened.
    assert (landing.reason, landing.wording_version, landing.address) == ("other", "v3", PHONE)


def test_no_kept_row_holds_the_address_or_the_words(anna, company, marketer):
    erase(anna, marketer)

    hashed = erasure_hash(PHONE)
    audit = AuditEvent.objects.get(company=company, action="optout.recorded")
    assert (audit.target, audit.details) == (hashed, {"reply": ""})
    deliveries = WebhookDelivery.objects.filter(company=company)
    for delivery in deliveries.exclude(status=WebhookDelivery.Status.PENDING):
        text = json.dumps(delivery.payload)
        assert PHONE not in text and EMAIL not in text and REASON not in text
    # The erasure's own opt-out is still to be sent: the company's systems hear of it.
    pending = deliveries.get(status=WebhookDelivery.Status.PENDING)
    assert pending.payload["data"]["address"] == PHONE
    # Only the ledger and the suppression list keep the address, and nothing she wrote.
    for model, field in [(f.model, f.name) for f in ADDRESS_COLUMNS]:
        assert not model.objects.filter(**{field: PHONE}).exists(), (model, field)
    rows = [
        *Message.objects.values_list("body", flat=True),
        *InboundMessage.objects.values_list("text", flat=True),
        *AuditEvent.objects.values_list("details", flat=True),
    ]
    assert not any(REPLY in str(row) or "Anna" in str(row) for row in rows)


def test_the_erasure_is_on_the_audit_log_without_the_address(anna, company, marketer):
    pk = anna.pk
    erase(anna, marketer)

    event = AuditEvent.objects.get(company=company, action=AuditEvent.Action.PERSON_ERASED)
    assert (event.target, event.actor, event.object_id) == (f"Contact #{pk}", marketer, str(pk))
    assert event.details["addresses"] == [erasure_hash(PHONE), erasure_hash(EMAIL)]
    assert event.details["messages"] == 1 and event.details["replies"] == 1
    assert PHONE not in json.dumps(event.details) and "Anna" not in event.target


# Real transactions, as the worker has: each chunk's messages are written in their own.
@pytest.mark.django_db(transaction=True)
def test_erased_then_reimported_stays_suppressed_and_is_never_sent_to(
    anna, company, marketer, outbox, settings, tmp_path
):
    settings.IMPORT_DIR = tmp_path
    erase(anna, marketer)
    outbox.clear()

    csv = b"phone;first name;email\n06 12345678;Anna;anna@Example.com\n"
    job = create_import(
        company=company, upload=SimpleUploadedFile("again.csv", csv, content_type="text/csv")
    )
    job = run_import(job_id=job.pk, suppressed_of=suppressed_among)
    assert job.counts == {"created": 1, "opted_out": 1}
    back = Contact.objects.get(company=company)
    assert (back.phone, back.email) == (PHONE, EMAIL)

    campaign = CampaignFactory(company=company, status=Campaign.Status.SENDING)
    run_campaign(campaign)
    assert outbox == []
    assert Message.objects.get(campaign=campaign).status == Message.Status.SKIPPED


def test_an_address_already_opted_out_gets_no_second_opt_out(company, marketer):
    contact = ContactFactory(company=company, phone=PHONE)
    first = record_optout(company=company, address=PHONE, source=Source.SMS_KEYWORD)

    done = erase(contact, marketer)

    assert done.suppressed == 0
    assert list(ConsentEvent.objects.filter(company=company)) == [first]
    assert Suppression.objects.get(company=company, address=PHONE).event == first


def test_a_queued_message_of_the_person_is_never_sent(company, marketer, outbox):
    contact = ContactFactory(company=company, phone=PHONE)
    campaign = CampaignFactory(company=company, status=Campaign.Status.SENDING)
    queued = Message.objects.create(
        company=company, campaign=campaign, contact=contact, to=PHONE, body="Hi", country="NL"
    )

    erase(contact, marketer)

    queued.refresh_from_db()
    assert (queued.status, queued.to, queued.body) == (
        Message.Status.SKIPPED,
        erasure_hash(PHONE),
        "",
    )


def test_another_company_keeps_its_own_data_of_the_same_number(
    anna, namesake, company, other_company, marketer
):
    theirs = Message.objects.get(company=other_company)
    event = ConsentEvent.objects.get(company=other_company)

    erase(anna, marketer)

    namesake.refresh_from_db()
    theirs.refresh_from_db()
    event.refresh_from_db()
    assert (theirs.to, theirs.contact_id) == (PHONE, namesake.pk)
    assert theirs.body.startswith("Hello Anna")
    assert (event.reason_text, event.ip_address) == ("Globex, stop", "198.51.100.7")


def test_the_old_link_leads_nowhere(company, marketer, client, seeded_defaults):
    # Brazil has no rule of its own: its messages end with the link.
    contact = ContactFactory(company=company, phone="+5511987654321", country="BR")
    run_campaign(CampaignFactory(company=company, status=Campaign.Status.SENDING))
    code = Message.objects.get(company=company).short_code
    assert client.get(f"/s/{code}").status_code == 200

    erase(contact, marketer)

    assert client.get(f"/s/{code}").status_code == 404
    assert not Message.objects.filter(short_code=code).exists()


def test_a_contact_erased_meanwhile_is_not_erased_twice(company, marketer):
    contact = ContactFactory(company=company, phone=PHONE)
    twin = Contact.objects.get(pk=contact.pk)
    erase(contact, marketer)

    with pytest.raises(Contact.DoesNotExist):
        erase(twin, marketer)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PERSON_ERASED).count() == 1


def test_the_hash_is_keyed_recognisable_and_fits_every_column(settings):
    hashed = erasure_hash(PHONE)
    assert hashed.startswith(ERASED_PREFIX)
    assert hashed == erasure_hash(PHONE) != erasure_hash("+31612345679")
    assert all(len(hashed) <= field.max_length for field in ADDRESS_COLUMNS)
    settings.ERASURE_HASH_KEY = "another key"
    assert erasure_hash(PHONE) != hashed
