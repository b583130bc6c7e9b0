import pytest

from optout.models import ConsentEvent, InboundMessage, ReplyRoute, Suppression
from optout.services import note_marketing_sent

NUMBER = "+12015550123"


@pytest.fixture
def reply(company, post_inbound_sms):
    note_marketing_sent(company=company, campaign_id=9, shortcode="44444", addresses=[NUMBER])
    post_inbound_sms(sender=NUMBER, recipient="44444", text="no more texts pls")
    return InboundMessage.objects.get()


def test_unmatched_reply_waits_in_the_inbox(marketer_client, reply):
    page = marketer_client.get("/replies/").content.decode()
    assert "no more texts pls" in page and NUMBER in page


def test_marketer_turns_a_reply_into_an_optout(marketer_client, reply, company, outbox):
    response = marketer_client.post(f"/replies/{reply.pk}/", {"action": "optout"})
    assert response.status_code == 302
    event = ConsentEvent.objects.get()
    assert (event.source, event.campaign_id, event.raw_text) == (
        "sms_reply",
        9,
        "no more texts pls",
    )
    assert event.message_sent_at == ReplyRoute.objects.get(address=NUMBER).sent_at
    assert Suppression.objects.filter(company=company, address=NUMBER).exists()
    assert [sms.to for sms in outbox] == [NUMBER]  # one confirmation
    assert "no more texts pls" not in marketer_client.get("/replies/").content.decode()


def test_a_reply_read_after_another_campaign_wrote_keeps_its_campaign_only(
    marketer_client, reply, company
):
    # Campaign 10 wrote to the number after the reply came: when 9's message went out is
    # no longer known, and no moment of 10's is taken for it.
    note_marketing_sent(company=company, campaign_id=10, shortcode="44444", addresses=[NUMBER])
    marketer_client.post(f"/replies/{reply.pk}/", {"action": "optout"})
    event = ConsentEvent.objects.get()
    assert (event.campaign_id, event.message_sent_at) == (9, None)


def test_dismissed_reply_leaves_the_inbox(marketer_client, reply):
    marketer_client.post(f"/replies/{reply.pk}/", {"action": "dismiss"})
    assert not Suppression.objects.exists()
    assert "no more texts pls" not in marketer_client.get("/replies/").content.decode()


def test_other_company_neither_sees_nor_acts_on_the_reply(outsider_client, reply):
    assert "no more texts pls" not in outsider_client.get("/replies/").content.decode()
    assert outsider_client.post(f"/replies/{reply.pk}/", {"action": "optout"}).status_code == 404
    assert not Suppression.objects.exists()
