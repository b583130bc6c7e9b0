"""An address whose mail bounces: suppressed as undeliverable, a reason of its own, shown as
such, and lifted by staff (on the record) once the address is fixed."""

import pytest
from django.contrib.auth.models import Permission

from optout.consent import Actor
from optout.models import ConsentEvent, Source, Suppression
from optout.services import (
    NotUndeliverable,
    record_optin,
    record_optout,
    record_undeliverable,
    restore_deliverable,
)
from tests.factories import ContactFactory, UserFactory

ADDRESS = "sanne@example.nl"


@pytest.fixture
def sanne(company):
    return ContactFactory(company=company, first_name="Sanne", email=ADDRESS)


@pytest.fixture
def bounced(company, sanne):
    return record_undeliverable(
        company=company,
        address=ADDRESS,
        raw_text="550 5.1.1 user unknown",
        actor=Actor.gateway("Postmark"),
    )


def _mark_deliverable(admin_client, *suppressions):
    return admin_client.post(
        "/admin/optout/suppression/",
        {"action": "mark_deliverable", "_selected_action": [s.pk for s in suppressions]},
        follow=True,
    )


def test_staff_mark_an_address_deliverable_again_on_the_record(
    admin_client, admin_user, company, bounced
):
    suppression = Suppression.objects.get(company=company, address=ADDRESS)
    response = _mark_deliverable(admin_client, suppression)
    assert "1 marked deliverable again." in response.content.decode()
    assert not Suppression.objects.filter(address=ADDRESS).exists()
    restored = ConsentEvent.objects.get(kind=ConsentEvent.Kind.DELIVERABLE)
    assert (restored.address, restored.source, restored.actor_type, restored.actor_id) == (
        ADDRESS,
        Source.ADMIN,
        "staff",
        admin_user.pk,
    )
    # The bounce stays on the record beside it.
    assert ConsentEvent.objects.filter(kind=ConsentEvent.Kind.UNDELIVERABLE).count() == 1


def test_marking_deliverable_leaves_an_opt_out_alone(admin_client, company, sanne):
    opted_out = record_optout(company=company, address=ADDRESS, source=Source.API)
    suppression = Suppression.objects.get(company=company, address=ADDRESS)
    page = _mark_deliverable(admin_client, suppression).content.decode()
    assert "1 left as they are" in page
    assert Suppression.objects.get(company=company, address=ADDRESS).event == opted_out


def test_staff_without_the_change_permission_get_no_such_action(client, company, bounced):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_suppression"))
    client.force_login(staff)
    assert "mark_deliverable" not in client.get("/admin/optout/suppression/").content.decode()
    _mark_deliverable(client, Suppression.objects.get())
    assert Suppression.objects.filter(address=ADDRESS).exists()


def test_restoring_what_is_not_undeliverable_is_refused(company, sanne):
    with pytest.raises(NotUndeliverable):
        restore_deliverable(company=company, address=ADDRESS, actor=Actor("staff", 1, "x"))
    assert not ConsentEvent.objects.exists()


def test_an_opt_in_does_not_make_a_bouncing_address_deliverable(company, bounced):
    record_optin(company=company, address=ADDRESS, source=Source.LANDING_PAGE)
    assert Suppression.objects.get(address=ADDRESS).reason == Suppression.Reason.UNDELIVERABLE


def test_the_person_who_opted_out_by_sms_stays_out_when_their_email_is_fixed(
    admin_client, company, sanne, bounced
):
    record_optout(company=company, address=sanne.phone, source=Source.SMS_KEYWORD)
    # Their email is covered by the opt-out now, not merely undeliverable.
    assert Suppression.objects.get(address=ADDRESS).reason == Suppression.Reason.OPTED_OUT


def test_the_suppression_list_shows_and_filters_by_reason(marketer_client, company, sanne, bounced):
    record_optout(company=company, address="+31612345678", source=Source.API)
    page = marketer_client.get("/opt-outs/").content.decode()
    assert "Undeliverable" in page and ADDRESS in page and "+31612345678" in page
    only = marketer_client.get("/opt-outs/?reason=undeliverable").content.decode()
    assert ADDRESS in only and "+31612345678" not in only
    opted = marketer_client.get("/opt-outs/?reason=opted_out").content.decode()
    assert ADDRESS not in opted and "+31612345678" in opted


def test_the_contact_page_says_the_email_is_undeliverable(marketer_client, sanne, bounced):
    page = marketer_client.get(f"/contacts/{sanne.pk}/").content.decode()
    assert "Undeliverable" in page and "Postmark" in page
    # Not an opt-out: the person may still get SMS.
    assert "Reachable for marketing." in page


def test_another_company_sees_nothing_of_it(outsider_client, bounced):
    page = outsider_client.get("/opt-outs/?reason=undeliverable").content.decode()
    assert ADDRESS not in page


def test_the_unsubscribe_link_of_a_bouncing_address_still_records_the_opt_out(
    company, sanne, bounced
):
    from campaigns.models import Message
    from shorturl.services import unsubscribe_email

    message = Message.objects.create(
        company=company, channel="email", to=ADDRESS, short_code="Xk7pQ2ab", status="sent"
    )
    event = unsubscribe_email(message=message, one_click=True)
    assert event is not None and event.source == Source.ONE_CLICK
    assert Suppression.objects.get(address=ADDRESS).reason == Suppression.Reason.OPTED_OUT


def test_the_address_page_of_an_undeliverable_one_offers_no_consent(
    marketer_client, company, bounced
):
    suppression = Suppression.objects.get(address=ADDRESS)
    page = marketer_client.get(f"/opt-outs/{suppression.pk}/").content.decode()
    assert "Undeliverable since" in page and "Opted out since" not in page
    assert "Record consent again" not in page
    response = marketer_client.post(
        f"/opt-outs/{suppression.pk}/consent/", {"method": "paper", "given_at": "2026-01-01"}
    )
    assert response.status_code == 404
    assert not ConsentEvent.objects.filter(kind=ConsentEvent.Kind.OPT_IN).exists()
