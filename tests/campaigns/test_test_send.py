"""A draft sent as a test to the marketer's own phone or inbox: marked, with the opt-out
text recipients get, never suppressed, never in the campaign's figures, and limited."""

import pytest
from django.core import mail

from addressbook.models import AuditEvent
from campaigns.models import Campaign, Message, SentTally
from campaigns.selectors import audience_counts, campaign_counters
from campaigns.services import RefusedTestSend, send_test_messages
from campaigns.services.testsend import TEST_SENDS_PER_HOUR
from optout.services import record_optout
from tests.factories import CampaignFactory, ContactFactory

Status = Campaign.Status
TESTED = AuditEvent.Action.CAMPAIGN_TEST_SENT


@pytest.fixture
def campaign(company):
    ContactFactory(company=company, first_name="Ada")
    return CampaignFactory(
        company=company,
        name="Spring beans",
        sender="AcmeCoffee",
        body='Hi {{ first_name }} {{ last_name|default:"friend" }}, beans from {{ company }}!',
    )


@pytest.fixture
def marketer(marketer):
    marketer.first_name, marketer.last_name = "Marta", "Jansen"
    marketer.save()
    return marketer


def _test(client, campaign, to: str, **kwargs):
    return client.post(f"/campaigns/{campaign.pk}/test/", {"to": to}, **kwargs)


def test_a_draft_offers_the_test_send_to_marketers(marketer_client, campaign):
    page = marketer_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "<h2>Send a test</h2>" in page
    assert f'action="/campaigns/{campaign.pk}/test/"' in page
    assert "20 of 20 left this hour." in page


def test_test_goes_to_each_number_marked_with_the_country_s_optout_text(
    marketer_client, campaign, outbox
):
    typed = "06 87654321\n+33 6 11 22 33 44, +34 612 345 678"
    response = _test(marketer_client, campaign, typed, follow=True)

    page = response.content.decode()
    assert "Test sent to +31687654321, +33611223344, +34612345678." in page
    assert [(sms.to, sms.sender) for sms in outbox] == [
        ("+31687654321", "AcmeCoffee"),
        ("+33611223344", "AcmeCoffee"),
        ("+34612345678", "AcmeCoffee"),
    ]
    hello = "[Test] Hi Marta Jansen, beans from Acme Coffee!\n"
    dutch, french, spanish = (sms.body for sms in outbox)
    assert dutch == f"{hello}Afmelden: SMS STOP naar 3010"
    assert french.startswith(hello) and "STOP au 36111" in french
    # Where the way out is a link, the test's is a sample: it opts nobody out.
    assert spanish.startswith(hello) and "https://no-s.test/xxxxxxxx" in spanish
    messages = Message.objects.filter(company=campaign.company)
    assert {(m.kind, m.campaign_id, m.status) for m in messages} == {
        (Message.Kind.TRANSACTIONAL, None, Message.Status.SENT)
    }


def test_test_reaches_an_opted_out_number(marketer_client, campaign, company, outbox):
    record_optout(company=company, address="+31687654321", source="sms_keyword")
    response = _test(marketer_client, campaign, "+31687654321", follow=True)
    assert "Test sent to +31687654321." in response.content.decode()
    assert [sms.to for sms in outbox] == ["+31687654321"]


def test_a_test_counts_in_none_of_the_campaign_s_figures(marketer_client, campaign, outbox):
    before = campaign_counters(campaign=campaign)
    _test(marketer_client, campaign, "+31687654321, +31687654322")

    assert len(outbox) == 2
    assert campaign_counters(campaign=campaign) == before
    assert audience_counts(campaign=campaign) == (1, 0)
    assert not campaign.messages.exists() and not SentTally.objects.exists()
    page = marketer_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "Nothing sent yet." in page
    assert "18 of 20 left this hour." in page
    assert Campaign.objects.get(pk=campaign.pk).status == Status.DRAFT


def test_a_test_is_on_the_audit_log(marketer_client, marketer, campaign):
    _test(marketer_client, campaign, "+31687654321\n+31687654322")
    event = AuditEvent.objects.get(action=TESTED)
    assert (event.actor, event.target, event.object_id) == (
        marketer,
        "Spring beans",
        str(campaign.pk),
    )
    assert event.details == {"channel": "sms", "to": "+31687654321, +31687654322", "messages": 2}
    assert "to: +31687654321, +31687654322" in event.details_text  # as the audit log shows


@pytest.mark.parametrize(
    "to, error",
    [
        ("", "This field is required."),
        ("12", "“12” is not a valid NL phone number"),
        ("+31 6 1234", "“+31 6 1234” is not a valid NL phone number"),
        ("ada@example.com", "“ada@example.com” is an email address; this campaign is an SMS."),
        (",".join(f"+3168765432{i}" for i in range(6)), "At most 5 addresses at a time."),
    ],
)
def test_bad_addresses_are_a_form_error_and_nothing_is_sent(
    marketer_client, campaign, outbox, to, error
):
    response = _test(marketer_client, campaign, to)
    assert response.status_code == 400
    page = response.content.decode()
    assert error in page
    assert '<p class="error" role="alert">' in page
    assert not outbox and not AuditEvent.objects.filter(action=TESTED).exists()


def test_tests_are_limited_per_campaign_and_hour(marketer_client, campaign, outbox):
    five = ", ".join(f"+3168765432{i}" for i in range(5))
    for _ in range(TEST_SENDS_PER_HOUR // 5):
        assert _test(marketer_client, campaign, five).status_code == 302

    response = _test(marketer_client, campaign, "+31687654321")

    assert response.status_code == 429
    page = response.content.decode()
    assert "At most 20 test messages per campaign an hour; 0 left now." in page
    assert "0 of 20 left this hour." in page
    assert len(outbox) == TEST_SENDS_PER_HOUR
    other = CampaignFactory(company=campaign.company)
    assert _test(marketer_client, other, "+31687654321").status_code == 302


def test_tests_are_limited_whatever_the_split(company, marketer, campaign, outbox):
    send_test_messages(campaign=campaign, text="+31687654321\n" * 1, actor=marketer)
    many = ", ".join(f"+3168765432{i}" for i in range(5))
    for _ in range(3):
        send_test_messages(campaign=campaign, text=many, actor=marketer)
    with pytest.raises(RefusedTestSend, match="4 left now"):
        send_test_messages(campaign=campaign, text=many, actor=marketer)
    assert len(outbox) == 16


def test_repeated_addresses_are_sent_once(company, marketer, campaign, outbox):
    sent = send_test_messages(
        campaign=campaign, text="+31687654321, 06 87654321; 0031687654321", actor=marketer
    )
    assert [m.to for m in sent] == ["+31687654321"]
    assert len(outbox) == 1


def test_email_test_has_the_subject_marked_and_the_unsubscribe_link(
    marketer_client, company, outbox
):
    ContactFactory(company=company, email="ada@example.com")
    campaign = CampaignFactory(
        company=company, channel="email", subject="News for {{ first_name }}", body="Hi!"
    )
    response = _test(marketer_client, campaign, "Marta@Example.COM", follow=True)

    assert "Test sent to Marta@example.com." in response.content.decode()
    [email] = mail.outbox
    assert email.to == ["Marta@example.com"]
    assert email.subject == "[Test] News for Marta"
    assert "Unsubscribe: https://no-s.test/u/" in email.body
    assert not outbox  # no SMS
    assert (
        "is not a valid email address" in _test(marketer_client, campaign, "+316").content.decode()
    )


@pytest.mark.parametrize("status", [Status.SCHEDULED, Status.SENDING, Status.SENT])
def test_only_a_draft_is_tested(marketer_client, campaign, outbox, status):
    Campaign.objects.filter(pk=campaign.pk).update(status=status)
    page = marketer_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "Send a test" not in page
    response = _test(marketer_client, campaign, "+31687654321", follow=True)
    assert "Only a draft can be sent as a test." in response.content.decode()
    assert not outbox and not AuditEvent.objects.filter(action=TESTED).exists()


def test_viewer_neither_sees_nor_uses_the_test_send(client, viewer, campaign, outbox):
    client.force_login(viewer)
    page = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "Send a test" not in page and "/test/" not in page
    assert _test(client, campaign, "+31687654321").status_code == 403
    assert not outbox and not AuditEvent.objects.filter(action=TESTED).exists()


def test_other_company_gets_404(outsider_client, campaign, outbox):
    assert _test(outsider_client, campaign, "+31687654321").status_code == 404
    assert not outbox and not AuditEvent.objects.filter(action=TESTED).exists()


def test_a_campaign_sent_meanwhile_is_not_tested(company, marketer, campaign, outbox):
    Campaign.objects.filter(pk=campaign.pk).update(status=Status.SENDING)
    with pytest.raises(RefusedTestSend, match="Only a draft"):
        send_test_messages(campaign=campaign, text="+31687654321", actor=marketer)
    assert not outbox


def test_a_number_the_gateway_refuses_is_named_with_why(
    marketer_client, campaign, fake_gateway, settings
):
    settings.SMS_BACKEND = "campaigns.backends.cm.CmBackend"
    settings.CM_BASE_URL = fake_gateway.url
    settings.CM_PRODUCT_TOKEN = fake_gateway.token
    settings.CM_MAX_ATTEMPTS = 1
    fake_gateway.reject_numbers({"0031687654322"}, details="Recipient blocked")

    response = _test(marketer_client, campaign, "+31687654321, +31687654322", follow=True)

    page = response.content.decode()
    assert "Test sent to +31687654321." in page
    assert "Test to +31687654322 not sent:" in page and "Recipient blocked" in page
