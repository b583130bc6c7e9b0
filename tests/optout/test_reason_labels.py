"""The reason a recipient gave, as the marketer reads it on every page that shows it.

Two bugs these would have caught: a company's own leave reason was counted as "No
reason given", and the Reason columns called a method that does not exist, so they
always showed a dash.
"""

import re

import pytest
from django.test import Client

from campaigns.models import Campaign, Message
from optout.models import LeaveReason, reason_label
from tests.factories import CampaignFactory, ContactFactory


def _sent(company, campaign, phone: str, code: str) -> Message:
    contact = ContactFactory(company=company, phone=phone, country="ZA")
    return Message.objects.create(
        company=company,
        campaign=campaign,
        contact=contact,
        to=phone,
        country="ZA",
        short_code=code,
        body=f"Hi\nOpt out: https://no-s.test/{code}",
        status=Message.Status.SENT,
    )


@pytest.fixture
def left(company):
    """Three recipients of one campaign leave on the landing page: one with a default
    reason and one with none, then, once the company has reasons of its own, one with
    the company's own."""
    campaign = CampaignFactory(company=company, name="Spring sale", status=Campaign.Status.SENT)
    recipient = Client()
    for phone, code, reason in (
        ("+27711230001", "Aa000001", "too_many"),
        ("+27711230002", "Aa000002", ""),
        ("+27711230003", "Aa000003", "I moved abroad"),
    ):
        if reason == "I moved abroad":
            LeaveReason.objects.create(company=company, label=reason)
        _sent(company, campaign, phone, code)
        response = recipient.post(f"/s/{code}", {"phone": phone, "reason": reason})
        assert response.status_code == 302
    return campaign


def _text(html: bytes) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.decode()))


def test_labels_of_stored_reasons():
    assert reason_label("too_many") == "Too many messages"
    assert reason_label("I moved abroad") == "I moved abroad"
    assert reason_label("") == "No reason given"


def test_campaign_page_counts_the_companys_own_reason(marketer_client, left):
    page = _text(marketer_client.get(f"/campaigns/{left.pk}/").content)
    for label in ("I moved abroad", "Too many messages", "No reason given"):
        assert re.search(rf"{label} \W*1\b", page), label
    assert "No reason given 2" not in page


def test_optout_list_shows_each_reason(marketer_client, left):
    page = _text(marketer_client.get("/opt-outs/").content)
    assert "I moved abroad" in page
    assert "Too many messages" in page
