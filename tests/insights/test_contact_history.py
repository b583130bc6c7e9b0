"""A contact's history: their messages, replies and consent events in one place, on
their page (loaded by htmx) and as a page of its own."""

import re
from datetime import UTC, datetime, timedelta

from campaigns.models import Campaign, Channel, Message
from optout.models import InboundMessage
from optout.services import record_optout
from tests.factories import CampaignFactory, ContactFactory

SENT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)  # 10:30 in Amsterdam


def _messages(company, contact, n: int, name: str = "Sale") -> list[Message]:
    """``n`` messages a day apart, the oldest transactional, each later one of its own
    campaign (``name`` and its number): a campaign sends a contact one message."""
    campaigns = Campaign.objects.bulk_create(
        Campaign(company=company, name=f"{name} {i}", body="Hi", status=Campaign.Status.SENT)
        for i in range(1, n)
    )
    return Message.objects.bulk_create(
        Message(
            company=company,
            campaign=campaigns[i - 1] if i else None,
            kind=Message.Kind.MARKETING if i else Message.Kind.TRANSACTIONAL,
            contact=contact,
            to=contact.phone,
            channel=Channel.SMS,
            status=Message.Status.DELIVERED if i % 2 else Message.Status.SENT,
            sent_at=SENT + timedelta(days=i),
        )
        for i in range(n)
    )


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr data-message="\d+">(.*?)</tr>', html, re.S)


def test_messages_name_their_campaign_in_the_companys_zone(marketer_client, company):
    company.timezone = "Europe/Amsterdam"
    company.save()
    contact = ContactFactory(company=company)
    _messages(company, contact, 2, name="Winter sale")
    campaign = Campaign.objects.get(name="Winter sale 1")
    html = marketer_client.get(f"/contacts/{contact.pk}/history/").content.decode()
    newest, oldest = _rows(html)
    assert f'<a href="/campaigns/{campaign.pk}/">Winter sale 1</a>' in newest
    assert "3 Nov 2026 10:30" in newest and "SMS" in newest and "Delivered" in newest
    assert "Transactional" in oldest and "2 Nov 2026 10:30" in oldest and "Sent" in oldest
    assert "When (Europe/Amsterdam)" in html


def test_the_contact_page_shows_the_latest_ten_and_links_to_all(marketer_client, company):
    contact = ContactFactory(company=company)
    _messages(company, contact, 23)
    page = marketer_client.get(f"/contacts/{contact.pk}/").content.decode()
    assert f'hx-get="/contacts/{contact.pk}/history/" hx-trigger="load"' in page
    fragment = marketer_client.get(
        f"/contacts/{contact.pk}/history/", headers={"HX-Request": "true"}
    ).content.decode()
    assert fragment.lstrip().startswith('<section id="history"') and "<html" not in fragment
    assert len(_rows(fragment)) == 10
    assert "23 Nov 2026" in fragment  # the newest first
    assert f'href="/contacts/{contact.pk}/history/" data-more>All 23 messages' in fragment
    whole = marketer_client.get(f"/contacts/{contact.pk}/history/").content.decode()
    assert len(_rows(whole)) == 23 and "data-more" not in whole


def test_the_history_page_goes_by_pages_of_fifty(marketer_client, company):
    contact = ContactFactory(company=company)
    _messages(company, contact, 51)
    first = marketer_client.get(f"/contacts/{contact.pk}/history/").content.decode()
    second = marketer_client.get(f"/contacts/{contact.pk}/history/", {"page": 2}).content.decode()
    assert len(_rows(first)) == 50 and len(_rows(second)) == 1
    assert "?page=2" in first


def test_replies_and_consent_are_beside_the_messages(marketer_client, company):
    contact = ContactFactory(company=company, email="ada@example.nl")
    campaign = CampaignFactory(company=company, name="Winter sale")
    InboundMessage.objects.create(
        company=company,
        sender=contact.phone,
        sender_e164=contact.phone,
        recipient="4000",
        text="who is this?",
        status=InboundMessage.Status.UNMATCHED,
        campaign_id=campaign.pk,
    )
    InboundMessage.objects.create(  # someone else's reply
        company=company, sender="+31699999999", sender_e164="+31699999999", text="not theirs"
    )
    record_optout(
        company=company, address=contact.email, source="email_link", campaign_id=campaign.pk
    )
    html = marketer_client.get(f"/contacts/{contact.pk}/history/").content.decode()
    assert "No messages sent to them yet." in html
    assert "“who is this?”" in html and "not theirs" not in html
    assert f'answering <a href="/campaigns/{campaign.pk}/">Winter sale</a>' in html
    assert f'from <a href="/campaigns/{campaign.pk}/">Winter sale</a>' in html
    assert "ada@example.nl" in html and "campaign #" not in html


def test_a_deleted_campaign_is_said_to_be_one(marketer_client, company):
    contact = ContactFactory(company=company)
    record_optout(company=company, address=contact.phone, source="landing_page", campaign_id=999)
    html = marketer_client.get(f"/contacts/{contact.pk}/history/").content.decode()
    assert "a deleted campaign" in html and "#999" not in html


def test_another_companys_messages_and_replies_never_show(marketer_client, company, other_company):
    contact = ContactFactory(company=company, phone="+31612345678")
    theirs = ContactFactory(company=other_company, phone="+31612345678")
    _messages(other_company, theirs, 3, name="Theirs")
    InboundMessage.objects.create(
        company=other_company, sender=theirs.phone, sender_e164=theirs.phone, text="their reply"
    )
    html = marketer_client.get(f"/contacts/{contact.pk}/history/").content.decode()
    assert _rows(html) == [] and "their reply" not in html and "Theirs" not in html


def test_outsider_gets_404(outsider_client, company):
    contact = ContactFactory(company=company)
    assert outsider_client.get(f"/contacts/{contact.pk}/history/").status_code == 404
    assert (
        outsider_client.get(
            f"/contacts/{contact.pk}/history/", headers={"HX-Request": "true"}
        ).status_code
        == 404
    )


def test_the_history_reads_campaign_names_with_the_messages_not_one_by_one(
    marketer_client, company, django_assert_max_num_queries
):
    contact = ContactFactory(company=company)
    _messages(company, contact, 40)  # 39 campaigns
    record_optout(company=company, address=contact.phone, source="api", campaign_id=1)
    # Session, user, membership, company, the contact, the page's count and rows (with
    # their campaigns), replies, consent events, their campaigns' names: not one a message.
    with django_assert_max_num_queries(14):
        html = marketer_client.get(f"/contacts/{contact.pk}/history/").content.decode()
    assert len(_rows(html)) == 40
