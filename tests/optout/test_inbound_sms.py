import json
import logging
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from optout.models import ConsentEvent, InboundMessage, ReplyRoute, Suppression
from optout.services import note_marketing_sent, record_optout
from tests.webhooks import signed_post

URL = "/hooks/sms/inbound/"
NUMBER = "+33612345678"


@pytest.fixture
def route(company):
    note_marketing_sent(company=company, campaign_id=41, shortcode="36111", addresses=[NUMBER])


@pytest.mark.parametrize("text", ["stop", "Stop.", " STOP ", "ARRÊT", "stop 🙏"])
def test_stop_replies_opt_out(post_inbound_sms, route, company, text):
    response = post_inbound_sms(sender="33612345678", recipient="36111", text=text)
    assert response.status_code == 200
    assert Suppression.objects.filter(company=company, address=NUMBER).exists()
    event = ConsentEvent.objects.get()
    assert (event.source, event.campaign_id, event.raw_text) == ("sms_keyword", 41, text)
    # When the marketing it answers went out: the time from send to opt-out starts there.
    assert event.message_sent_at is not None
    assert event.message_sent_at == ReplyRoute.objects.get(address=NUMBER).sent_at


def test_other_text_is_kept_for_review(post_inbound_sms, route, company):
    response = post_inbound_sms(sender="+33612345678", recipient="36111", text="Hello")
    assert response.status_code == 200
    assert not Suppression.objects.exists()
    inbound = InboundMessage.objects.get()
    assert (inbound.status, inbound.company, inbound.text) == ("unmatched", company, "Hello")


def test_start_brings_the_number_back(post_inbound_sms, route, company):
    post_inbound_sms(sender=NUMBER, recipient="36111", text="STOP")
    post_inbound_sms(sender=NUMBER, recipient="36111", text="start")
    assert not Suppression.objects.exists()
    assert list(ConsentEvent.objects.order_by("id").values_list("kind", flat=True)) == [
        "opt_out",
        "opt_in",
    ]


def test_shared_shortcode_goes_to_the_last_marketing_sender(
    post_inbound_sms, company, other_company
):
    earlier = timezone.now() - timezone.timedelta(hours=1)
    note_marketing_sent(
        company=company, campaign_id=1, shortcode="36111", addresses=[NUMBER], sent_at=earlier
    )
    note_marketing_sent(company=other_company, campaign_id=2, shortcode="36111", addresses=[NUMBER])
    post_inbound_sms(sender=NUMBER, recipient="36111", text="STOP")
    assert list(Suppression.objects.values_list("company", flat=True)) == [other_company.pk]
    event = ConsentEvent.objects.get()
    assert event.campaign_id == 2 and event.message_sent_at > earlier


def test_unattributed_reply_is_kept_for_staff(post_inbound_sms, db):
    response = post_inbound_sms(sender=NUMBER, recipient="36111", text="STOP")
    assert response.status_code == 200
    assert not Suppression.objects.exists()
    assert InboundMessage.objects.get().status == "unattributed"


def test_unsigned_request_is_refused(client, route):
    response = client.post(
        "/hooks/sms/inbound/",
        json.dumps({"from": NUMBER, "to": "36111", "text": "STOP"}),
        content_type="application/json",
    )
    assert response.status_code == 401
    assert not InboundMessage.objects.exists() and not Suppression.objects.exists()


def test_wrongly_signed_request_is_refused(post_inbound_sms, route):
    response = post_inbound_sms(sender=NUMBER, recipient="36111", text="STOP", secret="guess")
    assert response.status_code == 401
    assert "Signature does not match" in response.json()["error"]
    assert not InboundMessage.objects.exists() and not Suppression.objects.exists()


def test_missing_field_is_refused(client, route):
    body = json.dumps({"from": NUMBER, "text": "STOP"}).encode()
    response = signed_post(client, URL, body)
    assert response.status_code == 400
    assert response.json()["error"] == "Missing or non-text field(s): to."
    assert not InboundMessage.objects.exists()


def test_oversized_body_is_refused(post_inbound_sms, route):
    response = post_inbound_sms(sender=NUMBER, recipient="36111", text="STOP" + "x" * 70_000)
    assert response.status_code == 413
    assert not InboundMessage.objects.exists()


def test_form_encoded_reply_is_accepted(client, route):
    body = b"from=0033612345678&to=36111&text=Stop"
    response = signed_post(client, URL, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert Suppression.objects.filter(address=NUMBER).exists()


def test_malformed_content_length_is_refused(client, route):
    response = client.generic(
        "POST",
        "/hooks/sms/inbound/",
        b"{}",
        content_type="application/json",
        headers={"Content-Length": "lots"},
    )
    assert response.status_code == 400
    assert not InboundMessage.objects.exists()


def test_duplicate_delivery_is_acted_on_once(post_inbound_sms, route, outbox):
    first = post_inbound_sms(sender=NUMBER, recipient="36111", text="STOP", reference="gw-1")
    again = post_inbound_sms(sender=NUMBER, recipient="36111", text="STOP", reference="gw-1")
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert InboundMessage.objects.count() == 1
    assert ConsentEvent.objects.count() == 1
    assert len(outbox) == 1  # one confirmation


def test_stored_but_unprocessed_reply_is_acted_on_when_delivered_again(
    post_inbound_sms, route, company
):
    # The first delivery was stored, then the process died before acting on it.
    InboundMessage.objects.create(sender=NUMBER, recipient="36111", text="STOP", reference="gw-2")
    response = post_inbound_sms(sender=NUMBER, recipient="36111", text="STOP", reference="gw-2")
    assert response.json()["status"] == "opted_out"
    assert Suppression.objects.filter(company=company, address=NUMBER).exists()


def test_stop_is_confirmed_once_in_the_senders_language(post_inbound_sms, route, company, outbox):
    post_inbound_sms(sender=NUMBER, recipient="36111", text="STOP")
    post_inbound_sms(sender=NUMBER, recipient="36111", text="STOP")  # already out: no second
    assert len(outbox) == 1
    reply = outbox[0]
    assert (reply.to, reply.sender) == (NUMBER, "36111")
    assert company.name in reply.body and "START" in reply.body
    assert "unsubscribed" not in reply.body  # French, not English
    from campaigns.models import Message

    assert Message.objects.get(to=NUMBER).kind == Message.Kind.TRANSACTIONAL


def test_english_confirmation_for_a_british_number(post_inbound_sms, company, outbox):
    gb = "+447400123456"
    note_marketing_sent(company=company, campaign_id=3, shortcode="82228", addresses=[gb])
    post_inbound_sms(sender=gb, recipient="82228", text="stop")
    post_inbound_sms(sender=gb, recipient="82228", text="start")
    assert [sms.body for sms in outbox] == [
        "Acme Coffee: you are unsubscribed and will get no more marketing messages. "
        "Reply START to subscribe again.",
        "Acme Coffee: you are subscribed again. Reply STOP to unsubscribe.",
    ]


def test_help_names_the_company_and_contact_even_for_a_stranger(post_inbound_sms, company, outbox):
    from optout.models import DedicatedNumber

    company.help_contact = "help@acme.example"
    company.save()
    DedicatedNumber.objects.create(number="3197010000000", company=company)
    response = post_inbound_sms(sender="+447400999999", recipient="+3197010000000", text="HELP")
    assert response.json()["status"] == "help"
    [reply] = outbox
    assert reply.to == "+447400999999"
    assert "Acme Coffee" in reply.body and "help@acme.example" in reply.body
    assert "STOP" in reply.body


def test_reply_to_a_dedicated_number_goes_to_its_company(post_inbound_sms, other_company):
    from optout.models import DedicatedNumber

    DedicatedNumber.objects.create(number="3197010000001", company=other_company)
    post_inbound_sms(sender=NUMBER, recipient="0031 970 1000 0001", text="stop")
    assert list(Suppression.objects.values_list("company", flat=True)) == [other_company.pk]


def test_missing_text_is_refused(client, route):
    body = json.dumps({"from": NUMBER, "to": "36111", "text": 5}).encode()
    response = signed_post(client, URL, body)
    assert response.status_code == 400
    assert not InboundMessage.objects.exists()


def test_one_megabyte_body_is_refused(post_inbound_sms, route):
    response = post_inbound_sms(sender=NUMBER, recipient="36111", text="x" * 1_048_576)
    assert response.status_code == 413
    assert not InboundMessage.objects.exists()


@pytest.mark.parametrize(
    ("text", "kept"),
    [("STOP\u0000", "STOP"), ("ST\ud800OP", "STOP"), ("\udfffstop\u0000\u0000", "stop")],
)
def test_characters_the_database_cannot_store_are_dropped_and_the_reply_accepted(
    post_inbound_sms, route, company, text, kept
):
    response = post_inbound_sms(
        sender="+336123\u000045678", recipient="36111", text=text, reference="gw-\ud83d9"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "opted_out"
    inbound = InboundMessage.objects.get()
    assert (inbound.text, inbound.sender, inbound.reference) == (kept, NUMBER, "gw-9")
    assert ConsentEvent.objects.get().raw_text == kept
    assert Suppression.objects.filter(company=company, address=NUMBER).exists()


def test_nul_in_a_form_encoded_reply_is_dropped(client, route, company):
    body = b"from=0033612345678&to=36111&text=Stop%00%00please"
    response = signed_post(client, URL, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert InboundMessage.objects.get().text == "Stopplease"


def test_reply_that_is_not_utf8_form_data_is_kept_readable(client, route, company):
    body = b"from=0033612345678&to=36111&text=Stop%ff"
    response = signed_post(client, URL, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert InboundMessage.objects.get().text.startswith("Stop")


def test_replayed_start_after_a_stop_is_a_noop(client, route, company, outbox):
    def body(text: str) -> bytes:
        return json.dumps({"from": NUMBER, "to": "36111", "text": text}).encode()

    with time_machine.travel(timezone.now(), tick=False):
        now = int(time.time())
        signed_post(client, URL, body("STOP"), timestamp=now)
        first = signed_post(client, URL, body("START"), timestamp=now)
        signed_post(client, URL, body("Stop"), timestamp=now)

        # The START's bytes, exactly as captured, sent again inside the window.
        replayed = signed_post(client, URL, body("START"), timestamp=now)

    assert replayed.status_code == 200
    assert replayed.json() == first.json()
    assert Suppression.objects.filter(company=company, address=NUMBER).exists()
    assert InboundMessage.objects.count() == 3
    kinds = ConsentEvent.objects.order_by("id").values_list("kind", flat=True)
    assert list(kinds) == ["opt_out", "opt_in", "opt_out"]
    assert len(outbox) == 3


def test_replayed_start_with_a_reference_is_a_noop(post_inbound_sms, route, company):
    post_inbound_sms(sender=NUMBER, recipient="36111", text="STOP", reference="gw-1")
    post_inbound_sms(sender=NUMBER, recipient="36111", text="START", reference="gw-2")
    post_inbound_sms(sender=NUMBER, recipient="36111", text="STOP", reference="gw-3")

    again = post_inbound_sms(sender=NUMBER, recipient="36111", text="START", reference="gw-2")

    assert again.json()["status"] == "opted_in"
    assert Suppression.objects.filter(company=company, address=NUMBER).exists()
    assert ConsentEvent.objects.count() == 3


def test_same_words_signed_at_another_time_are_a_new_reply(client, route, company):
    stop = json.dumps({"from": NUMBER, "to": "36111", "text": "STOP"}).encode()
    now = int(time.time())
    first = signed_post(client, URL, stop, timestamp=now - 5)
    second = signed_post(client, URL, stop, timestamp=now)
    assert first.json()["id"] != second.json()["id"]
    assert InboundMessage.objects.count() == 2


def test_start_sent_before_a_later_stop_does_not_undo_it(post_inbound_sms, route, company, outbox):
    post_inbound_sms(sender=NUMBER, recipient="36111", text="STOP")
    # Replied a minute ago; the gateway delivers it only now, after the STOP.
    earlier = (timezone.now() - timedelta(minutes=1)).isoformat()

    response = post_inbound_sms(sender=NUMBER, recipient="36111", text="START", received_at=earlier)

    assert response.status_code == 200
    assert response.json()["status"] == "superseded"
    assert Suppression.objects.filter(company=company, address=NUMBER).exists()
    assert list(ConsentEvent.objects.values_list("kind", flat=True)) == ["opt_out"]
    assert InboundMessage.objects.get(text="START").text == "START"  # kept on the record
    assert len(outbox) == 1  # the STOP's confirmation only


def test_start_sent_before_a_later_email_unsubscribe_does_not_undo_it(
    post_inbound_sms, route, company
):
    from tests.factories import ContactFactory

    ContactFactory(company=company, phone=NUMBER, country="FR", email="ana@example.com")
    record_optout(company=company, address="ana@example.com", source="email_link")
    earlier = (timezone.now() - timedelta(minutes=1)).isoformat()

    response = post_inbound_sms(sender=NUMBER, recipient="36111", text="START", received_at=earlier)

    assert response.json()["status"] == "superseded"
    assert Suppression.objects.filter(company=company, address=NUMBER).exists()


def test_start_in_unix_seconds_before_a_later_stop_does_not_undo_it(
    post_inbound_sms, route, company
):
    post_inbound_sms(sender=NUMBER, recipient="36111", text="STOP")
    earlier = str(int(time.time()) - 60)

    response = post_inbound_sms(sender=NUMBER, recipient="36111", text="START", received_at=earlier)

    assert response.json()["status"] == "superseded"


def test_start_replied_after_the_stop_still_brings_the_number_back(
    post_inbound_sms, route, company
):
    post_inbound_sms(sender=NUMBER, recipient="36111", text="STOP")
    later = (timezone.now() + timedelta(seconds=2)).isoformat()

    response = post_inbound_sms(sender=NUMBER, recipient="36111", text="START", received_at=later)

    assert response.json()["status"] == "opted_in"
    assert not Suppression.objects.exists()


def test_stop_delivered_late_still_opts_out(post_inbound_sms, route, company):
    post_inbound_sms(sender=NUMBER, recipient="36111", text="STOP")
    post_inbound_sms(sender=NUMBER, recipient="36111", text="START")
    earlier = (timezone.now() - timedelta(minutes=1)).isoformat()

    # An opt-out wins every race: however late it arrives, it applies.
    response = post_inbound_sms(sender=NUMBER, recipient="36111", text="STOP", received_at=earlier)

    assert response.json()["status"] == "opted_out"
    assert Suppression.objects.filter(company=company, address=NUMBER).exists()


@pytest.mark.parametrize("received_at", ["yesterday", "99999999999999", "2026-13-45T00:00:00"])
def test_unreadable_received_at_falls_back_to_the_signing_time(
    post_inbound_sms, route, company, received_at
):
    post_inbound_sms(sender=NUMBER, recipient="36111", text="STOP")
    response = post_inbound_sms(
        sender=NUMBER, recipient="36111", text="START", received_at=received_at
    )
    assert response.status_code == 200
    assert response.json()["status"] == "opted_in"
    assert InboundMessage.objects.get(text="START").gateway_received_at == received_at


def test_inbound_log_names_the_reply_not_the_number(post_inbound_sms, route, caplog):
    with caplog.at_level(logging.INFO, logger="optout.services"):
        response = post_inbound_sms(sender=NUMBER, recipient="36111", text="STOP")
    assert f"Inbound SMS {response.json()['id']}" in caplog.text
    assert "+33 6 •••• 5678" in caplog.text
    assert "612345678" not in caplog.text


@pytest.mark.django_db(transaction=True)
def test_delivery_arriving_while_the_first_is_acted_on_is_acted_on_once(route, company):
    from optout.services import receive_inbound_sms

    inbound = InboundMessage.objects.create(
        sender=NUMBER, recipient="36111", text="STOP", reference="gw-7"
    )
    locked = threading.Event()
    answers = {}

    def first_delivery() -> None:
        # Stands for the first delivery, half-way through acting on the reply.
        try:
            with transaction.atomic():
                InboundMessage.objects.select_for_update().get(pk=inbound.pk)
                locked.set()
                time.sleep(1)
                record_optout(company=company, address=NUMBER, source="sms_keyword")
                InboundMessage.objects.filter(pk=inbound.pk).update(status="opted_out")
        finally:
            connection.close()

    def second_delivery() -> None:
        try:
            answers["second"] = receive_inbound_sms(
                sender=NUMBER, recipient="36111", text="STOP", reference="gw-7"
            ).status
        finally:
            connection.close()

    first = threading.Thread(target=first_delivery)
    first.start()
    assert locked.wait(10)
    second = threading.Thread(target=second_delivery)
    second.start()
    first.join(20)
    second.join(20)

    assert answers["second"] == "opted_out"
    assert ConsentEvent.objects.count() == 1
