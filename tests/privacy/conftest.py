"""A person with something of every kind held about them, and a namesake elsewhere."""

import pytest
import time_machine

from addressbook.models import CustomField, Group
from addressbook.services.audit import record_audit
from api.models import WebhookDelivery, WebhookEndpoint
from campaigns.models import Campaign, Message
from optout.consent import Seen
from optout.models import InboundMessage, Source
from optout.services import record_optin, record_optout
from tests.campaigns.running import run_campaign
from tests.factories import CampaignFactory, ContactFactory

PHONE = "+31612345678"
EMAIL = "anna@example.com"
REPLY = "Who is this? Call me back on 020 123 4567"
REASON = "Anna here: far too often"


@pytest.fixture(autouse=True)
def _daytime():
    """A Monday morning in the seeded countries' sending hours: campaigns go at once."""
    with time_machine.travel("2026-03-02 10:00Z"):
        yield


@pytest.fixture
def anna(company, seeded_defaults, post_inbound_sms):
    """Anna: custom values, a group, a campaign SMS, a free-text reply, an opt-out with her
    own words, IP and browser that she undid, webhook deliveries of both, and an audit
    event that quotes her reply. She is reachable when the test starts."""
    CustomField.objects.create(company=company, name="City", key="city")
    vip = Group.objects.create(company=company, name="VIP")
    contact = ContactFactory(
        company=company,
        phone=PHONE,
        email=EMAIL,
        first_name="Anna",
        last_name="de Vries",
        custom={"city": "Utrecht"},
    )
    contact.groups.add(vip)
    WebhookEndpoint.objects.create(company=company, url="https://crm.example.com/hook")
    campaign = CampaignFactory(
        company=company,
        name="Spring sale",
        status=Campaign.Status.SENDING,
        body="Hi {{ first_name }}, 20% off today.",
    )
    run_campaign(campaign)
    post_inbound_sms(sender=PHONE.lstrip("+"), recipient="3010", text=REPLY)
    reply = InboundMessage.objects.get(company=company)
    assert reply.status == InboundMessage.Status.UNMATCHED
    record_audit(
        company=company,
        action="optout.recorded",
        obj=reply,
        target=PHONE,
        details={"reply": REPLY},
    )
    record_optout(
        company=company,
        address=PHONE,
        source=Source.LANDING_PAGE,
        campaign_id=campaign.pk,
        reason="other",
        reason_text=REASON,
        seen=Seen(ip_address="203.0.113.9", user_agent="AnnaPhone/1.0", wording_version="v3"),
    )
    record_optin(company=company, address=PHONE, source=Source.LANDING_PAGE)
    # The endpoint has heard of both already: what is left of them is the log.
    WebhookDelivery.objects.filter(company=company).update(status=WebhookDelivery.Status.DELIVERED)
    assert Message.objects.get(campaign=campaign).body.startswith("Hi Anna, 20% off")
    return contact


@pytest.fixture
def namesake(other_company, seeded_defaults):
    """The same number at another company, with a message and an opt-out of its own."""
    contact = ContactFactory(
        company=other_company, phone=PHONE, first_name="Anna", last_name="Elsewhere", country="NL"
    )
    campaign = CampaignFactory(
        company=other_company, name="Globex deals", status=Campaign.Status.SENDING
    )
    run_campaign(campaign)
    record_optout(
        company=other_company,
        address=PHONE,
        source=Source.LANDING_PAGE,
        reason_text="Globex, stop",
        seen=Seen(ip_address="198.51.100.7", user_agent="Other/2.0"),
    )
    return contact
