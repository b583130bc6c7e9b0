"""Double opt-in: the person who asked to come back confirms it, by the link or by START.

Nothing about their consent changes until they do; the link works once, for seven days,
on the short host; a GET (a link scanner) never confirms.
"""

import re
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
import requests
import time_machine
from django.core import mail
from django.utils import timezone

from addressbook.models import AuditEvent
from optout.consent import NOTHING_SEEN, Actor
from optout.doubleoptin import (
    OptinClosed,
    OptinNotSent,
    OptinRefused,
    confirm_double_optin,
    request_double_optin,
)
from optout.models import (
    ConsentEvent,
    CountryRule,
    DedicatedNumber,
    OptinRequest,
    Source,
    Suppression,
)
from optout.selectors import is_suppressed
from optout.services import record_optout
from tests.conftest import SHORT_HOST
from tests.factories import CompanyFactory, ContactFactory, MembershipFactory

NUMBER = "+31612345678"
EMAIL = "anna@example.com"
JAPAN = "+819012345678"
KEY = SimpleNamespace(pk=7, name="CRM sync")
LINK = re.compile(rf"https://{re.escape(SHORT_HOST)}(/c/[\w-]+)")


def opted_out_earlier(company, address: str, hours: float = 2) -> Suppression:
    with time_machine.travel(timezone.now() - timedelta(hours=hours), tick=False):
        record_optout(company=company, address=address, source=Source.SMS_KEYWORD)
    return Suppression.objects.get(company=company, address=address)


@pytest.fixture
def suppressed(company, seeded_defaults):
    return opted_out_earlier(company, NUMBER)


def ask(company, address: str = NUMBER, channel: str = "sms") -> OptinRequest:
    return request_double_optin(
        company=company, address=address, actor=Actor.api_key(KEY), channel=channel
    )


def link_path(text: str) -> str:
    found = LINK.search(text)
    assert found, text
    return found.group(1)


# --- the request ---------------------------------------------------------------------------
def test_request_sends_one_sms_with_the_link_and_start_and_changes_nothing(
    company, suppressed, outbox
):
    optin = ask(company)

    assert [sms.to for sms in outbox] == [NUMBER]
    sms = outbox[0]
    # From the Dutch shortcode, where a START reply reaches us, in the person's language.
    assert sms.sender == "3010"
    assert "START" in sms.body and "wil je onze marketingberichten weer ontvangen" in sms.body
    assert link_path(sms.body) == f"/c/{optin.token}"
    assert optin.wording == sms.body
    assert (optin.status, optin.channel) == ("pending", "sms")
    assert abs(optin.expires_at - optin.created_at - timedelta(days=7)) < timedelta(seconds=5)
    # Nothing changed: the person has not confirmed.
    assert is_suppressed(company=company, address=NUMBER)
    assert not ConsentEvent.objects.filter(kind="opt_in").exists()


def test_where_no_reply_reaches_us_the_sms_offers_only_the_link(company, seeded_defaults, outbox):
    CountryRule.objects.update_or_create(
        country="JP", defaults={"method": "link", "shortcode": "", "template": "Stop: {link}"}
    )
    opted_out_earlier(company, JAPAN)

    optin = ask(company, JAPAN)

    assert "START" not in outbox[0].body
    assert outbox[0].sender == company.default_sender
    assert link_path(outbox[0].body) == f"/c/{optin.token}"


def test_a_dedicated_number_takes_the_replies(company, seeded_defaults, outbox):
    DedicatedNumber.objects.create(company=company, number="+3197010000001")
    opted_out_earlier(company, JAPAN)

    ask(company, JAPAN)

    assert outbox[0].sender == "+3197010000001"
    assert "START" in outbox[0].body


def test_one_request_at_a_time_per_address(company, suppressed, outbox):
    first = ask(company)

    with pytest.raises(OptinRefused) as refused:
        ask(company)
    assert refused.value.code == "pending"
    assert "already sent to this address and works until" in str(refused.value)
    assert len(outbox) == 1

    # Once the first has expired, another may go; a third within 30 days may not.
    with time_machine.travel(first.expires_at + timedelta(minutes=1)):
        second = ask(company)
        assert OptinRequest.objects.get(pk=first.pk).status == "expired"
    later = time_machine.travel(second.expires_at + timedelta(minutes=1))
    with later, pytest.raises(OptinRefused) as refused:
        ask(company)
    assert refused.value.code == "limit"
    assert len(outbox) == 2


def test_no_request_within_30_minutes_of_an_opt_out(company, seeded_defaults, outbox):
    opted_out_earlier(company, NUMBER, hours=0.25)

    with pytest.raises(OptinRefused) as refused:
        ask(company)

    assert refused.value.code == "too_soon"
    assert "less than 30 minutes ago" in str(refused.value)
    assert outbox == []
    assert not OptinRequest.objects.exists()


def test_an_address_not_suppressed_gets_no_request(company, outbox):
    with pytest.raises(OptinRefused) as refused:
        ask(company)
    assert refused.value.code == "not_suppressed"
    assert outbox == []


def test_the_channel_is_the_addresses_own(company, suppressed, outbox):
    with pytest.raises(OptinRefused) as refused:
        ask(company, channel="email")
    assert refused.value.code == "wrong_channel"
    assert outbox == []


def test_a_gateway_that_is_down_starts_nothing(company, suppressed, fake_gateway, settings):
    settings.SMS_BACKEND = "campaigns.backends.cm.CmBackend"
    settings.CM_BASE_URL = fake_gateway.url
    settings.CM_PRODUCT_TOKEN = fake_gateway.token
    settings.CM_MAX_ATTEMPTS = 1
    fake_gateway.fail_next(1, status=503)

    with pytest.raises(OptinNotSent):
        ask(company)

    # Nothing stands in the way of the next try.
    assert not OptinRequest.objects.exists()
    assert ask(company).status == "pending"


# --- the person confirms by the link, on the short host --------------------------------------
@pytest.fixture
def live_company(transactional_db, seeded_defaults):
    return CompanyFactory(name="Acme Coffee", default_country="NL")


def short_host(live_server, path: str, method: str = "get", **kwargs) -> requests.Response:
    """A real HTTP request to the live server, as to the short host."""
    port = urlsplit(live_server.url).port
    headers = {
        "Host": f"{SHORT_HOST}:{port}",
        "User-Agent": "Phone/1.0",
        **kwargs.pop("headers", {}),
    }
    return getattr(requests, method)(
        f"{live_server.url}{path}", headers=headers, allow_redirects=False, timeout=10, **kwargs
    )


def test_the_link_confirms_only_when_the_person_presses_the_button(
    live_server, live_company, outbox
):
    company = live_company
    ContactFactory(company=company, phone=NUMBER, email=EMAIL)
    opted_out_earlier(company, NUMBER)  # and the email with it
    optin = ask(company)
    path = link_path(outbox[0].body)

    # A link scanner, or the person reading: the page says what they would confirm.
    for _ in range(2):
        page = short_host(live_server, path)
        assert page.status_code == 200
        assert "Acme Coffee" in page.text and "+31 6 •••• 5678" in page.text
        assert '<html lang="nl">' in page.text
        assert "no-store" in page.headers["Cache-Control"]
    assert is_suppressed(company=company, address=NUMBER)
    assert OptinRequest.objects.get().status == "pending"

    confirmed = short_host(live_server, path, "post", data={})

    assert confirmed.status_code == 200
    assert "Acme Coffee" in confirmed.text
    assert not is_suppressed(company=company, address=NUMBER)
    assert not is_suppressed(company=company, address=EMAIL)
    event = ConsentEvent.objects.get(address=NUMBER, kind="opt_in")
    assert (event.source, event.actor_type) == ("double_opt_in", "person")
    assert (event.consent_method, event.consent_wording) == ("double_opt_in_sms", optin.wording)
    assert event.consent_given_at is not None
    assert (event.ip_address, event.user_agent) == ("127.0.0.1", "Phone/1.0")
    assert event.wording_version == "optin-2026-12/nl"
    optin.refresh_from_db()
    assert (optin.status, optin.event) == ("confirmed", event)
    assert optin.confirmed_at is not None

    # The link works once.
    again = short_host(live_server, path, "post", data={})
    assert again.status_code == 410
    assert ConsentEvent.objects.filter(kind="opt_in", address=NUMBER).count() == 1


def test_an_expired_link_is_refused_and_changes_nothing(live_server, live_company, outbox):
    opted_out_earlier(live_company, NUMBER)
    optin = ask(live_company)
    OptinRequest.objects.filter(pk=optin.pk).update(expires_at=timezone.now() - timedelta(hours=1))

    for method in ("get", "post"):
        answer = short_host(live_server, f"/c/{optin.token}", method)
        assert answer.status_code == 410
        assert "verlopen" in answer.text  # "expired", in the person's Dutch
    assert is_suppressed(company=live_company, address=NUMBER)
    assert not ConsentEvent.objects.filter(kind="opt_in").exists()


def test_a_forged_link_is_a_404(live_server, live_company):
    opted_out_earlier(live_company, NUMBER)
    for method in ("get", "post"):
        answer = short_host(live_server, "/c/forged-token-0000000000000000000000", method)
        assert answer.status_code == 404
    assert is_suppressed(company=live_company, address=NUMBER)


def test_the_link_also_works_under_the_trial_path(client, company, suppressed, outbox):
    optin = ask(company)
    assert client.get(f"/s/c/{optin.token}").status_code == 200
    assert client.post(f"/s/c/{optin.token}").status_code == 200
    assert not is_suppressed(company=company, address=NUMBER)


def test_confirmations_count_against_the_landing_limit_per_address(
    client, company, suppressed, outbox, settings
):
    settings.LANDING_POSTS_PER_IP = 0
    optin = ask(company)
    answer = client.post(f"/s/c/{optin.token}")
    assert answer.status_code == 429
    assert is_suppressed(company=company, address=NUMBER)


# --- the person confirms by replying START ---------------------------------------------------
def test_a_start_reply_confirms_the_request(company, suppressed, outbox, post_inbound_sms):
    optin = ask(company)

    post_inbound_sms(sender=NUMBER, recipient="3010", text="START")

    assert not is_suppressed(company=company, address=NUMBER)
    optin.refresh_from_db()
    assert optin.status == "confirmed"
    assert (optin.event.source, optin.event.actor_type) == ("sms_keyword", "person")
    # The link has done its work: it confirms nothing twice.
    with pytest.raises(OptinClosed):
        confirm_double_optin(token=optin.token, seen=NOTHING_SEEN)


def test_a_stop_reply_to_the_confirmation_closes_it(company, suppressed, outbox, post_inbound_sms):
    optin = ask(company)

    post_inbound_sms(sender=NUMBER, recipient="3010", text="STOP")

    optin.refresh_from_db()
    assert optin.status == "expired"
    with pytest.raises(OptinClosed):
        confirm_double_optin(token=optin.token, seen=NOTHING_SEEN)
    assert is_suppressed(company=company, address=NUMBER)


# --- by email ------------------------------------------------------------------------------
def test_an_email_address_confirms_by_email(client, company, outbox):
    opted_out_earlier(company, EMAIL)

    optin = ask(company, EMAIL, channel="email")

    assert outbox == []
    [sent] = mail.outbox
    assert sent.to == [EMAIL]
    assert "Acme Coffee" in sent.subject
    assert optin.wording.startswith(sent.subject)
    assert "List-Unsubscribe" not in sent.extra_headers  # transactional
    path = link_path(sent.body)
    assert client.post(f"/s{path}").status_code == 200
    event = ConsentEvent.objects.get(kind="opt_in")
    assert (event.consent_method, event.address) == ("double_opt_in_email", EMAIL)
    assert not is_suppressed(company=company, address=EMAIL)


# --- from the dashboard --------------------------------------------------------------------
def test_the_marketer_says_the_person_asked(marketer_client, marketer, company, suppressed, outbox):
    url = f"/opt-outs/{suppressed.pk}/double-opt-in/"

    refused = marketer_client.post(url, {})
    assert refused.status_code == 400
    assert "Tick that the person asked to come back" in refused.content.decode()
    assert outbox == []

    sent = marketer_client.post(url, {"asked": "on"})
    assert sent.status_code == 302
    page = marketer_client.get(sent["Location"]).content.decode()
    assert "Confirmation sent by SMS" in page
    assert "A confirmation went by SMS" in page
    # The page shows what it said, but never the link's token: only the person confirms.
    assert OptinRequest.objects.get().token not in page
    assert len(outbox) == 1
    optin = OptinRequest.objects.get()
    assert (optin.actor_type, optin.actor_id) == ("user", marketer.pk)
    audit = AuditEvent.objects.get(company=company, action=AuditEvent.Action.OPTIN_REQUESTED)
    assert (audit.actor, audit.target) == (marketer, NUMBER)

    again = marketer_client.post(url, {"asked": "on"})
    assert again.status_code == 409
    assert len(outbox) == 1


def test_the_dashboard_says_when_it_is_too_soon(marketer_client, company, seeded_defaults, outbox):
    suppression = opted_out_earlier(company, NUMBER, hours=0.1)
    answer = marketer_client.post(f"/opt-outs/{suppression.pk}/double-opt-in/", {"asked": "on"})
    assert answer.status_code == 409
    assert "less than 30 minutes ago" in answer.content.decode()
    assert outbox == []


def test_a_viewer_cannot_ask(client, company, suppressed, outbox):
    viewer = MembershipFactory(company=company, role="viewer").user
    client.force_login(viewer)
    url = f"/opt-outs/{suppressed.pk}/double-opt-in/"
    assert client.post(url, {"asked": "on"}).status_code == 403
    assert outbox == []


def test_other_company_gets_404(outsider_client, suppressed, outbox):
    url = f"/opt-outs/{suppressed.pk}/double-opt-in/"
    assert outsider_client.post(url, {"asked": "on"}).status_code == 404
    assert outbox == []
