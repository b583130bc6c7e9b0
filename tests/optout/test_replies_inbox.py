import pytest

from optout.models import ConsentEvent, InboundMessage, Suppression
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
    assert Suppression.objects.filter(company=company, address=NUMBER).exists()
    assert [sms.to for sms in outbox] == [NUMBER]  # one confirmation
    assert "no more texts pls" not in marketer_client.get("/replies/").content.decode()


def test_dismissed_reply_leaves_the_inbox(marketer_client, reply):
    marketer_client.post(f"/replies/{reply.pk}/", {"action": "dismiss"})
    assert not Suppression.objects.exists()
    assert "no more texts pls" not in marketer_client.get("/replies/").content.decode()


def test_other_company_neither_sees_nor_acts_on_the_reply(outsider_client, reply):
    assert "no more texts pls" not in outsider_client.get("/replies/").content.decode()
    assert outsider_client.post(f"/replies/{reply.pk}/", {"action": "optout"}).status_code == 404
    assert not Suppression.objects.exists()
