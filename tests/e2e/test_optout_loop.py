"""The whole loop a marketer and a recipient go through, with a real worker and broker."""

import re

import pytest

from addressbook.models import Contact
from campaigns.models import Campaign, Message
from optout.models import ConsentEvent, CountryRule, Suppression
from optout.services import record_optout

# The confirmation page's button: a send without it is refused.
CONFIRM = {"confirm": "yes"}

# Numbers typed the way people write them in each country (default country: NL).
TYPED = {
    "NL": ("Sanne", "06 12345678"),
    "FR": ("Camille", "+33 6 12 34 56 78"),
    "GB": ("Olivia", "+44 7400 123456"),
    "DE": ("Leon", "+49 1512 3456789"),
    "BE": ("Lotte", "+32 470 12 34 56"),
    "ZA": ("Thandi", "+27 71 123 4567"),
    "US": ("Emily", "+1 (201) 555-0123"),
}
E164 = {
    "NL": "+31612345678",
    "FR": "+33612345678",
    "GB": "+447400123456",
    "DE": "+4915123456789",
    "BE": "+32470123456",
    "ZA": "+27711234567",
    "US": "+12015550123",
}
FOOTERS = {
    "NL": "Afmelden: SMS STOP naar 3010",
    "FR": "STOP au 36111",
    "GB": "Reply STOP to 82228",
    "DE": "Abmelden: STOP an 44844",
    "BE": "STOP naar/au 8210",
}
# The link ends the footer, alone ("Opt out: <link>") or after STOP ("… or <link>").
LINK = re.compile(r"(?:\nOpt out: | or )https://no-s\.test/([A-Za-z0-9]{8})$")


def _send(client, wait_for, name: str) -> Campaign:
    response = client.post(
        "/campaigns/new/",
        {
            "name": name,
            "channel": "sms",
            "sender": "AcmeCoffee",
            "body": "Hi {{ first_name }}, fresh beans today!",
        },
    )
    assert response.status_code == 302, response.content
    campaign = Campaign.objects.get(name=name)
    assert client.post(f"/campaigns/{campaign.pk}/send/", CONFIRM).status_code == 302
    wait_for(
        lambda: Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.SENT).exists(),
        what=f"campaign {name!r} to finish",
    )
    return campaign


@pytest.mark.django_db(transaction=True)
def test_marketer_to_recipient_and_back(
    seeded_defaults, celery_worker, marketer_client, company, outbox, wait_for, post_inbound_sms
):
    client = marketer_client
    # Sending hours have tests of their own; this loop must not depend on the hour it runs.
    CountryRule.objects.update(send_hours={})

    # a. Contacts: national and international formats become E.164; a bad number is refused.
    for region, (name, typed) in TYPED.items():
        response = client.post(
            "/contacts/new/", {"first_name": name, "last_name": region, "phone": typed}
        )
        assert response.status_code == 302, (region, response.content)
    response = client.post("/contacts/new/", {"first_name": "Bad", "phone": "0612"})
    assert response.status_code == 400
    assert "is not a valid NL phone number: it is too short" in response.content.decode()
    assert dict(Contact.objects.values_list("country", "phone")) == E164

    extra = client.post("/contacts/new/", {"first_name": "Temp", "phone": "+31 6 87654321"})
    assert extra.status_code == 302
    temp = Contact.objects.get(first_name="Temp")
    edited = client.post(f"/contacts/{temp.pk}/", {"first_name": "Tim", "phone": "0687654321"})
    assert edited.status_code == 302
    assert Contact.objects.get(pk=temp.pk).first_name == "Tim"
    assert client.post(f"/contacts/{temp.pk}/delete/").status_code == 302
    assert not Contact.objects.filter(pk=temp.pk).exists()

    # d. Someone already on the suppression list (opted out by email, say).
    record_optout(company=company, address=E164["DE"], source="api")

    # b, c. First campaign: personalised, each country's opt-out text, DE skipped.
    first = _send(client, wait_for, "Spring beans")
    by_number = {sms.to: sms for sms in outbox}
    assert set(by_number) == set(E164.values()) - {E164["DE"]}
    assert len(outbox) == 6
    for region, footer in FOOTERS.items():
        if region == "DE":
            continue
        name = TYPED[region][0]
        assert by_number[E164[region]].body == f"Hi {name}, fresh beans today!\n{footer}"
    codes = {}
    for region in ("ZA", "US"):
        match = LINK.search(by_number[E164[region]].body)
        assert match, by_number[E164[region]].body
        codes[region] = match.group(1)
    assert codes["ZA"] != codes["US"]
    skipped = Message.objects.get(campaign=first, to=E164["DE"])
    assert skipped.status == Message.Status.SKIPPED

    # e. The ZA recipient opens their link, mistypes, then confirms with a reason.
    landing = client.get(f"/s/{codes['ZA']}")
    page = landing.content.decode()
    assert landing.status_code == 200
    assert company.name in page and "+27 7 •••• 4567" in page
    wrong = client.post(f"/s/{codes['ZA']}", {"phone": "+27 71 123 0000"})
    assert wrong.status_code == 400
    assert "not the number this message was sent to" in wrong.content.decode()
    assert not Suppression.objects.filter(address=E164["ZA"]).exists()
    done = client.post(
        f"/s/{codes['ZA']}",
        {"phone": "071 123 4567", "reason": "too_many", "reason_text": "Every day is a lot"},
        follow=True,
    )
    assert "You're unsubscribed" in done.content.decode()
    assert Suppression.objects.filter(company=company, address=E164["ZA"]).exists()

    # f. The FR recipient replies STOP to the French shortcode.
    reply = post_inbound_sms(sender="33612345678", recipient="36111", text="STOP")
    assert reply.status_code == 200 and reply.json()["status"] == "opted_out"

    # g. The campaign page tells the marketer what happened and why.
    detail = client.get(f"/campaigns/{first.pk}/").content.decode()
    stat = lambda key: re.search(rf'data-stat="{key}">([^<]*)<', detail).group(1)  # noqa: E731
    assert stat("recipients") == "7"
    assert stat("sent") == "6"
    assert stat("skipped") == "1"
    assert stat("failed") == "0"
    assert stat("optouts") == "2"
    assert "Too many messages" in detail and "Every day is a lot" in detail
    assert "SMS keyword reply" in detail
    events = ConsentEvent.objects.filter(campaign_id=first.pk, kind="opt_out")
    assert sorted(events.values_list("address", flat=True)) == sorted([E164["ZA"], E164["FR"]])

    # h. A second campaign skips exactly those who opted out.
    outbox.clear()
    second = _send(client, wait_for, "Summer beans")
    reached = {sms.to for sms in outbox}
    assert reached == set(E164.values()) - {E164["DE"], E164["ZA"], E164["FR"]}
    skipped = set(
        Message.objects.filter(campaign=second, status=Message.Status.SKIPPED).values_list(
            "to", flat=True
        )
    )
    assert skipped == {E164["DE"], E164["ZA"], E164["FR"]}
