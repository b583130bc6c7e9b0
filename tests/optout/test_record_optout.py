import pytest

from optout.models import ConsentEvent, Suppression
from optout.selectors import reachable_for_marketing
from optout.services import record_optin, record_optout
from tests.factories import ContactFactory


def test_repeat_optout_keeps_one_suppression_and_logs_both(company):
    record_optout(company=company, address="+31612345678", source="landing_page")
    record_optout(company=company, address="+31612345678", source="sms_keyword")
    assert Suppression.objects.count() == 1
    assert ConsentEvent.objects.filter(kind="opt_out").count() == 2


def test_optout_covers_the_contacts_other_address(company):
    contact = ContactFactory(company=company, phone="+31612345678", email="a@example.nl")
    record_optout(company=company, address="+31612345678", source="sms_keyword")
    assert set(Suppression.objects.values_list("address", flat=True)) == {
        "+31612345678",
        "a@example.nl",
    }
    assert not reachable_for_marketing(company=company, contacts=company.contacts.all()).filter(
        pk=contact.pk
    )


def test_suppression_outlives_the_contact(company):
    contact = ContactFactory(company=company, phone="+31612345678")
    record_optout(company=company, address=contact.phone, source="landing_page")
    contact.delete()
    again = ContactFactory(company=company, phone="+31612345678")
    assert not reachable_for_marketing(company=company, contacts=company.contacts.all()).filter(
        pk=again.pk
    )


def test_optin_lifts_only_what_that_address_suppressed(company):
    ContactFactory(company=company, phone="+31612345678", email="a@example.nl")
    record_optout(company=company, address="+31612345678", source="sms_keyword")
    record_optout(company=company, address="b@example.nl", source="email_link")
    record_optin(company=company, address="+31612345678", source="sms_keyword")
    assert list(Suppression.objects.values_list("address", flat=True)) == ["b@example.nl"]


def test_phone_optin_keeps_an_email_unsubscribe_made_after_the_phone_stop(company):
    ContactFactory(company=company, phone="+31612345678", email="a@example.nl")
    record_optout(company=company, address="+31612345678", source="sms_keyword")
    record_optout(company=company, address="a@example.nl", source="email_link")
    record_optin(company=company, address="+31612345678", source="sms_keyword")
    assert list(Suppression.objects.values_list("address", flat=True)) == ["a@example.nl"]


def test_optout_needs_an_address(company):
    with pytest.raises(ValueError):
        record_optout(company=company, address="", source="api")
    assert not Suppression.objects.exists() and not ConsentEvent.objects.exists()
