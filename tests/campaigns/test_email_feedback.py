"""Bounces and spam complaints from the email services, as their webhooks post them.

Payloads follow each service's documented examples (and django-anymail's own tests):
Amazon SES through SNS, Mailgun's signed JSON events, Postmark's bounce and spam-complaint
webhooks, SendGrid's signed event webhook.
"""

import base64
import hashlib
import hmac
import json
import uuid

import pytest
from anymail.backends.test import EmailBackend as AnymailTestBackend
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core import mail
from django.test import Client

from campaigns.models import Campaign, EmailFeedback, Message
from campaigns.services import create_campaign
from optout.models import ConsentEvent, Source, Suppression
from optout.services import record_optout
from tests.factories import ContactFactory

from .running import run_campaign

WEBHOOK_AUTH = "anymail-user:a-long-random-webhook-password-for-tests"
MAILGUN_KEY = "mailgun-webhook-signing-key-for-tests"
ADDRESS = "sanne@example.nl"


class ServiceBackend(AnymailTestBackend):
    """anymail's test backend, with message ids shaped like a real service's."""

    def get_esp_message_id(self, message):
        return f"<{uuid.uuid4().hex}@mg.example.com>"


_sendgrid_key = ec.generate_private_key(ec.SECP256R1())


def _sendgrid_public_key() -> str:
    der = _sendgrid_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


@pytest.fixture(autouse=True)
def _services(settings):
    settings.EMAIL_BACKEND = f"{__name__}.ServiceBackend"
    settings.ANYMAIL = {
        "WEBHOOK_SECRET": WEBHOOK_AUTH,
        "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY,
        "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": _sendgrid_public_key(),
    }
    settings.EMAIL_SOFT_BOUNCE_LIMIT = 3


def _auth(secret: str = WEBHOOK_AUTH) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


@pytest.fixture
def contact(company):
    return ContactFactory(company=company, first_name="Sanne", email=ADDRESS)


def _send_email_campaign(company, name="Spring") -> Message:
    campaign = create_campaign(
        company=company, name=name, channel="email", subject="Beans", body="Hi {{ first_name }}"
    )
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
    run_campaign(campaign)
    return Message.objects.get(campaign=campaign, to=ADDRESS)


@pytest.fixture
def message(company, contact) -> Message:
    return _send_email_campaign(company)


# --- the services' payloads ------------------------------------------------------------
def _ses(message: Message, kind: str, *, bounce_type: str = "Permanent") -> dict:
    """An SES event (configuration set event publishing) wrapped in its SNS notification."""
    mail_object = {
        "timestamp": "2026-12-07T10:00:00.000Z",
        "source": "marketing@localhost",
        "messageId": message.gateway_reference,
        "destination": [message.to],
        "headers": [
            {
                "name": "X-Metadata",
                "value": json.dumps(
                    {"company": str(message.company_id), "message": str(message.pk)}
                ),
            }
        ],
    }
    if kind == "Bounce":
        event = {
            "eventType": "Bounce",
            "bounce": {
                "bounceType": bounce_type,
                "bounceSubType": "General",
                "bouncedRecipients": [
                    {
                        "emailAddress": message.to,
                        "action": "failed",
                        "status": "5.1.1",
                        "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                    }
                ],
                "timestamp": "2026-12-07T10:00:01.000Z",
                "feedbackId": "0100016e-bounce-feedback",
            },
            "mail": mail_object,
        }
    else:
        event = {
            "eventType": "Complaint",
            "complaint": {
                "complainedRecipients": [{"emailAddress": message.to}],
                "timestamp": "2026-12-07T10:05:00.000Z",
                "feedbackId": "0100016e-complaint-feedback",
                "userAgent": "Mozilla/5.0",
                "complaintFeedbackType": "abuse",
            },
            "mail": mail_object,
        }
    return {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": "arn:aws:sns:eu-west-1:111122223333:ses-events",
        "Message": json.dumps(event),
        "Timestamp": "2026-12-07T10:05:01.000Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLE",
        "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService.pem",
        "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe",
    }


def post_ses(client: Client, payload: dict, auth: dict) -> int:
    return client.post(
        "/hooks/email/amazon_ses/tracking/",
        json.dumps(payload),
        content_type="text/plain; charset=UTF-8",  # as SNS posts it
        HTTP_X_AMZ_SNS_MESSAGE_TYPE=payload["Type"],
        HTTP_X_AMZ_SNS_MESSAGE_ID=payload["MessageId"],
        **auth,
    ).status_code


def _mailgun(message: Message, kind: str, *, key: str = MAILGUN_KEY, severity="permanent") -> dict:
    timestamp, token = "1765101600", uuid.uuid4().hex
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    event = {
        "id": uuid.uuid4().hex,
        "timestamp": 1765101600.5,
        "recipient": message.to,
        "message": {"headers": {"message-id": message.gateway_reference.strip("<>")}},
        "user-variables": {"company": str(message.company_id), "message": str(message.pk)},
        "tags": ["marketing"],
    }
    if kind == "bounce":
        event |= {
            "event": "failed",
            "severity": severity,
            "reason": "bounce",
            "delivery-status": {"code": 550, "message": "5.1.1 The email account does not exist"},
        }
    else:
        event |= {"event": "complained"}
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": event,
    }


def post_mailgun(client: Client, payload: dict, auth: dict) -> int:
    return client.post(
        "/hooks/email/mailgun/tracking/", payload, content_type="application/json", **auth
    ).status_code


def _postmark(message: Message, kind: str, *, bounce_type: str = "HardBounce") -> dict:
    common = {
        "MessageID": message.gateway_reference,
        "Metadata": {"company": str(message.company_id), "message": str(message.pk)},
        "Tag": "marketing",
        "ServerID": 23,
        "MessageStream": "outbound",
        "From": "marketing@localhost",
        "Subject": "Beans",
    }
    if kind == "bounce":
        return common | {
            "RecordType": "Bounce",
            "ID": 4323372036854775807,
            "Type": bounce_type,
            "TypeCode": 1 if bounce_type == "HardBounce" else 4096,
            "Name": "Hard bounce",
            "Description": "The server was unable to deliver your message (ex: unknown user).",
            "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
            "Email": message.to,
            "BouncedAt": "2026-12-07T10:00:01.9070259Z",
            "DumpAvailable": True,
            "Inactive": True,
            "CanActivate": True,
        }
    return common | {
        "RecordType": "SpamComplaint",
        "ID": 42,
        "Type": "SpamComplaint",
        "TypeCode": 512,
        "Name": "Spam complaint",
        "Description": "The subscriber explicitly marked this message as spam.",
        "Details": "Test spam complaint details",
        "Email": message.to,
        "BouncedAt": "2026-12-07T10:05:00Z",
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": False,
    }


def post_postmark(client: Client, payload: dict, auth: dict) -> int:
    return client.post(
        "/hooks/email/postmark/tracking/", payload, content_type="application/json", **auth
    ).status_code


def _sendgrid(message: Message, kind: str, *, bounce_type: str = "bounce") -> list:
    event = {
        "email": message.to,
        "timestamp": 1765101600,
        "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
        "sg_event_id": uuid.uuid4().hex,
        "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
        "category": ["marketing"],
        # anymail's SendGrid backend sends its message id and the metadata as custom args,
        # which SendGrid puts back into each event.
        "anymail_id": message.gateway_reference,
        "company": str(message.company_id),
        "message": str(message.pk),
    }
    if kind == "bounce":
        return [
            event
            | {
                "event": "bounce",
                "type": bounce_type,
                "reason": "500 unknown recipient",
                "status": "5.0.0",
            }
        ]
    return [event | {"event": "spamreport"}]


def post_sendgrid(client: Client, payload: list, auth: dict, *, key=None) -> int:
    body = json.dumps(payload).encode()
    timestamp = "1765101600"
    signature = (key or _sendgrid_key).sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return client.post(
        "/hooks/email/sendgrid/tracking/",
        body,
        content_type="application/json",
        HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE=base64.b64encode(signature).decode(),
        HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP=timestamp,
        **auth,
    ).status_code


SERVICES = {
    "ses": (_ses, post_ses, {"bounce": "Bounce", "complaint": "Complaint"}),
    "mailgun": (_mailgun, post_mailgun, {"bounce": "bounce", "complaint": "complaint"}),
    "postmark": (_postmark, post_postmark, {"bounce": "bounce", "complaint": "complaint"}),
    "sendgrid": (_sendgrid, post_sendgrid, {"bounce": "bounce", "complaint": "spamreport"}),
}


# --- sending through a service --------------------------------------------------------
def test_the_service_gets_our_ids_and_its_message_id_is_kept(message, company):
    [email] = mail.outbox
    assert email.anymail_test_params["metadata"] == {
        "company": str(company.pk),
        "message": str(message.pk),
    }
    assert message.gateway_reference == email.anymail_status.message_id
    assert message.status == Message.Status.SENT


# --- complaints and hard bounces, each service ------------------------------------------
@pytest.mark.parametrize("service", SERVICES)
def test_spam_complaint_opts_the_address_out(client, service, message, company, contact):
    build, post, kinds = SERVICES[service]
    assert post(client, build(message, kinds["complaint"]), _auth()) == 200
    suppression = Suppression.objects.get(company=company, address=ADDRESS)
    assert suppression.reason == Suppression.Reason.OPTED_OUT
    event = suppression.event
    assert (event.kind, event.source, event.campaign_id) == (
        ConsentEvent.Kind.OPT_OUT,
        Source.COMPLAINT,
        message.campaign_id,
    )
    assert event.actor_type == "gateway"
    # An opt-out like any other: the person's phone is out of the company's marketing too.
    assert Suppression.objects.filter(company=company, address=contact.phone).exists()
    assert EmailFeedback.objects.get().kind == EmailFeedback.Kind.COMPLAINT


@pytest.mark.parametrize("service", SERVICES)
def test_hard_bounce_makes_the_address_undeliverable(client, service, message, company, contact):
    build, post, kinds = SERVICES[service]
    assert post(client, build(message, kinds["bounce"]), _auth()) == 200
    suppression = Suppression.objects.get(company=company, address=ADDRESS)
    assert suppression.reason == Suppression.Reason.UNDELIVERABLE
    assert (suppression.event.kind, suppression.event.source) == ("bounced", Source.BOUNCE)
    # Not an opt-out: the person's SMS still come, and no opt-out is on their record.
    assert not Suppression.objects.filter(address=contact.phone).exists()
    assert not ConsentEvent.objects.filter(kind=ConsentEvent.Kind.OPT_OUT).exists()


@pytest.mark.parametrize("service", SERVICES)
def test_forged_report_is_refused_and_changes_nothing(client, service, message):
    build, post, kinds = SERVICES[service]
    assert post(client, build(message, kinds["complaint"]), _auth("anymail-user:wrong")) in (
        400,
        401,
    )
    assert post(client, build(message, kinds["bounce"]), {}) in (400, 401)
    assert not Suppression.objects.exists() and not EmailFeedback.objects.exists()


def test_mailgun_report_with_a_wrong_signature_is_refused(client, message):
    payload = _mailgun(message, "complaint", key="not-the-signing-key")
    assert post_mailgun(client, payload, _auth()) == 400
    assert not Suppression.objects.exists()


def test_sendgrid_report_signed_by_another_key_is_refused(client, message):
    other = ec.generate_private_key(ec.SECP256R1())
    assert post_sendgrid(client, _sendgrid(message, "spamreport"), _auth(), key=other) == 400
    assert not Suppression.objects.exists()


def test_without_a_webhook_secret_the_hooks_are_not_there(client, settings, message):
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY}
    assert post_postmark(client, _postmark(message, "complaint"), {}) == 404
    assert not Suppression.objects.exists()


def test_unreadable_body_is_a_400(client, message):
    response = client.post(
        "/hooks/email/postmark/tracking/", "{not json", content_type="application/json", **_auth()
    )
    assert response.status_code == 400


def test_a_report_delivered_twice_counts_once(client, message, company):
    payload = _postmark(message, "complaint")
    for _ in range(2):
        assert post_postmark(client, payload, _auth()) == 200
    assert ConsentEvent.objects.filter(address=ADDRESS, source=Source.COMPLAINT).count() == 1


# --- tenancy: a report reaches only its own company's rows ------------------------------
def test_report_naming_another_company_changes_nothing(client, message, other_company):
    payload = _postmark(message, "complaint")
    payload["Metadata"]["company"] = str(other_company.pk)
    assert post_postmark(client, payload, _auth()) == 200  # taken, so not retried
    assert not Suppression.objects.exists()


def test_report_about_an_unknown_message_changes_nothing(client, message, other_company):
    ContactFactory(company=other_company, email=ADDRESS)
    payload = _postmark(message, "complaint")
    payload["MessageID"] = str(uuid.uuid4())
    payload["Metadata"] = {}
    assert post_postmark(client, payload, _auth()) == 200
    assert not Suppression.objects.exists()


def test_the_same_address_at_another_company_is_untouched(client, message, company, other_company):
    ContactFactory(company=other_company, email=ADDRESS)
    assert post_mailgun(client, _mailgun(message, "complaint"), _auth()) == 200
    assert Suppression.objects.filter(company=company, address=ADDRESS).exists()
    assert not Suppression.objects.filter(company=other_company).exists()


# --- soft bounces -----------------------------------------------------------------------
def test_soft_bounces_count_up_to_undeliverable(client, company, contact):
    for n in range(3):
        message = _send_email_campaign(company, name=f"Week {n}")
        assert not Suppression.objects.exists()
        payload = _postmark(message, "bounce", bounce_type="SoftBounce")
        assert post_postmark(client, payload, _auth()) == 200
        # The service retrying: the same message's soft bounce counts once.
        retry = _mailgun(message, "bounce", severity="temporary")
        assert post_mailgun(client, retry, _auth()) == 200
    suppression = Suppression.objects.get(company=company, address=ADDRESS)
    assert suppression.reason == Suppression.Reason.UNDELIVERABLE
    assert EmailFeedback.objects.filter(kind=EmailFeedback.Kind.SOFT_BOUNCE).count() == 3


@pytest.mark.parametrize(
    ("service", "kwargs"),
    [
        ("ses", {"bounce_type": "Transient"}),
        ("mailgun", {"severity": "temporary"}),
        ("postmark", {"bounce_type": "SoftBounce"}),
        ("sendgrid", {"bounce_type": "blocked"}),
    ],
)
def test_one_soft_bounce_is_counted_not_suppressed(client, service, kwargs, message):
    build, post, kinds = SERVICES[service]
    assert post(client, build(message, kinds["bounce"], **kwargs), _auth()) == 200
    assert EmailFeedback.objects.get().kind == EmailFeedback.Kind.SOFT_BOUNCE
    assert not Suppression.objects.exists()


def test_undeliverable_address_gets_no_more_email(client, message, company):
    assert post_postmark(client, _postmark(message, "bounce"), _auth()) == 200
    mail.outbox.clear()
    _send_email_campaign(company, name="Summer")
    assert mail.outbox == []
    from campaigns.services import send_transactional_email

    receipt = send_transactional_email(company=company, to=ADDRESS, subject="Receipt", body="Paid")
    assert receipt.status == Message.Status.FAILED and "undeliverable" in receipt.error
    assert mail.outbox == []


def test_an_opt_out_wins_over_undeliverable(client, message, company):
    assert post_postmark(client, _postmark(message, "bounce"), _auth()) == 200
    record_optout(company=company, address=ADDRESS, source=Source.API)
    suppression = Suppression.objects.get(company=company, address=ADDRESS)
    assert suppression.reason == Suppression.Reason.OPTED_OUT


# --- the campaign report ----------------------------------------------------------------
def test_campaign_report_counts_bounced_and_complained(marketer_client, client, company):
    from .test_report import _table

    for n, name in enumerate(["sanne", "ben", "noor"]):
        ContactFactory(company=company, email=f"{name}@example.nl", phone=f"+3161000000{n}")
    campaign = create_campaign(
        company=company, name="Autumn", channel="email", subject="Beans", body="Hi"
    )
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
    run_campaign(campaign)
    sanne, ben = (
        Message.objects.get(campaign=campaign, to=f"{n}@example.nl") for n in ("sanne", "ben")
    )
    assert post_postmark(client, _postmark(sanne, "bounce"), _auth()) == 200
    assert post_postmark(client, _postmark(ben, "complaint"), _auth()) == 200

    html = marketer_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    rows = {row[0]: row[1] for row in _table(html, "funnel")}
    assert (rows["Sent"], rows["Bounced"], rows["Complained"], rows["Opted out"]) == (
        "3",
        "1",
        "1",
        "1",
    )


def test_erasing_the_person_leaves_no_address_in_the_reports(client, message, company, contact):
    from optout.consent import Actor
    from privacy.services import erase_person

    assert post_postmark(client, _postmark(message, "bounce"), _auth()) == 200
    erase_person(contact=contact, source=Source.DASHBOARD, actor=Actor("user", 1, "x"))
    feedback = EmailFeedback.objects.get()
    assert feedback.address.startswith("erased:") and feedback.description == ""
    # Still undeliverable, and still known as such by the address's hash only.
    assert Suppression.objects.filter(company=company, address=ADDRESS).exists()


@pytest.mark.parametrize("service", ["amazon_ses", "mailgun", "postmark", "sendgrid"])
@pytest.mark.parametrize(
    "body", ["", "{not json", "[]", "{}", '{"Type": "Notification"}', '"a string"', "\x00"]
)
def test_broken_bodies_get_a_4xx_and_change_nothing(client, service, body, message):
    response = client.post(
        f"/hooks/email/{service}/tracking/",
        body,
        content_type="application/json",
        HTTP_X_AMZ_SNS_MESSAGE_TYPE="Notification",
        HTTP_X_AMZ_SNS_MESSAGE_ID="x",
        **_auth(),
    )
    if body in ("", "{not json", "\x00"):
        assert 400 <= response.status_code < 500
    else:
        # JSON the service could have sent: refused, or read as no event of interest.
        assert response.status_code < 500
    assert not Suppression.objects.exists() and not EmailFeedback.objects.exists()


def test_a_failure_of_ours_is_a_5xx_so_the_service_tries_again(client, message, monkeypatch):
    from campaigns.services import feedback

    def broken(**kwargs):
        raise ValueError("a bug of ours")

    monkeypatch.setattr(feedback, "record_optout", broken)
    client.raise_request_exception = False
    response = post_postmark(client, _postmark(message, "complaint"), _auth())
    assert response == 500
    # Nothing half-kept: the service's retry is applied in full.
    assert not Suppression.objects.exists() and not EmailFeedback.objects.exists()


def test_the_persons_data_export_holds_the_reports_about_their_mail(client, message, contact):
    from privacy.selectors import person_data

    assert post_postmark(client, _postmark(message, "bounce"), _auth()) == 200
    data = person_data(contact=contact)
    [report] = data["email_reports"]
    assert (report["address"], report["kind"], report["service"]) == (
        ADDRESS,
        "hard_bounce",
        "Postmark",
    )
    assert {s["address"]: s["reason"] for s in data["suppressions"]} == {ADDRESS: "undeliverable"}
