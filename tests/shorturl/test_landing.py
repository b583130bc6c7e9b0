import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone

from campaigns.models import Campaign, Message
from optout.models import ConsentEvent, Suppression
from tests.factories import CampaignFactory, ContactFactory

NUMBER = "+27711234567"


@pytest.fixture
def message(company):
    contact = ContactFactory(company=company, phone=NUMBER, country="ZA")
    campaign = CampaignFactory(company=company, status=Campaign.Status.SENT)
    return Message.objects.create(
        company=company,
        campaign=campaign,
        contact=contact,
        to=NUMBER,
        country="ZA",
        short_code="Xk7pQ2ab",
        body="Hi\nOpt out: https://no-s.test/Xk7pQ2ab",
        status=Message.Status.SENT,
        sent_at=timezone.now() - timedelta(hours=2),
    )


def test_page_shows_company_and_masked_number(client, message):
    response = client.get("/s/Xk7pQ2ab")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Acme Coffee" in page
    assert "+27 7 •••• 4567" in page
    assert NUMBER not in page and "711234567" not in page


def test_get_does_not_optout(client, message):
    client.get("/s/Xk7pQ2ab")
    assert not Suppression.objects.exists()
    assert not ConsentEvent.objects.exists()


def test_wrong_number_changes_nothing(client, message):
    response = client.post("/s/Xk7pQ2ab", {"phone": "+27 71 000 0000"})
    assert response.status_code == 400
    assert "not the number this message was sent to" in response.content.decode()
    assert not Suppression.objects.exists()
    assert not ConsentEvent.objects.exists()


def test_garbage_number_gets_a_clear_error(client, message):
    response = client.post("/s/Xk7pQ2ab", {"phone": "not a number"})
    assert response.status_code == 400
    assert "look like a phone number" in response.content.decode()
    assert not Suppression.objects.exists()


def test_reason_is_stored_with_the_campaign(client, message):
    response = client.post(
        "/s/Xk7pQ2ab",
        {"phone": "071 123 4567", "reason": "not_relevant", "reason_text": "  I moved  "},
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/s/Xk7pQ2ab/done?t=")
    event = ConsentEvent.objects.get()
    assert (event.kind, event.source, event.address) == ("opt_out", "landing_page", NUMBER)
    assert (event.reason, event.reason_text) == ("not_relevant", "I moved")
    assert (event.campaign_id, event.message_sent_at) == (message.campaign_id, message.sent_at)
    done = client.get(response["Location"])
    assert "You're unsubscribed" in done.content.decode()


def test_second_optout_is_idempotent_and_logged(client, message):
    for _ in range(2):
        assert client.post("/s/Xk7pQ2ab", {"phone": NUMBER}).status_code == 302
    assert Suppression.objects.filter(address=NUMBER).count() == 1
    assert ConsentEvent.objects.filter(address=NUMBER, kind="opt_out").count() == 2


def test_unknown_code_gets_a_friendly_404(client, db):
    response = client.get("/s/nope1234")
    assert response.status_code == 404
    assert "This link doesn't work" in response.content.decode()
    assert client.post("/s/nope1234", {"phone": NUMBER}).status_code == 404


def test_expired_code_gets_the_same_404(client, message, settings):
    settings.SHORT_LINK_TTL_DAYS = 90
    with time_machine.travel(timezone.now() + timedelta(days=91)):
        assert client.get("/s/Xk7pQ2ab").status_code == 404


def test_short_host_serves_only_landing_pages(client, message, settings):
    settings.SHORT_HOST = "no-s.test"
    settings.ALLOWED_HOSTS = ["no-s.test", "testserver"]
    assert client.get("/Xk7pQ2ab", headers={"host": "no-s.test"}).status_code == 200
    assert client.get("/admin/", headers={"host": "no-s.test"}).status_code == 404
    assert client.get("/contacts/", headers={"host": "no-s.test"}).status_code == 404


def _message(company, number: str, country: str, code: str) -> Message:
    contact = ContactFactory(company=company, phone=number, country=country)
    campaign = CampaignFactory(company=company, status=Campaign.Status.SENT)
    return Message.objects.create(
        company=company,
        campaign=campaign,
        contact=contact,
        to=number,
        country=country,
        short_code=code,
        status=Message.Status.SENT,
    )


@pytest.mark.parametrize(
    "number, country, language",
    [
        ("+33612345678", "FR", "fr"),
        ("+31612345678", "NL", "nl"),
        ("+4915123456789", "DE", "de"),
        ("+34612345678", "ES", "es"),
        ("+447400123456", "GB", "en"),
    ],
)
def test_page_speaks_the_language_of_the_numbers_country(
    client, company, number, country, language
):
    _message(company, number, country, "Lang2345")
    response = client.get("/s/Lang2345", headers={"accept-language": "en"})
    assert response["Content-Language"] == language
    assert f'<html lang="{language}">' in response.content.decode()


def test_browser_language_decides_where_the_country_has_several(client, company):
    _message(company, "+32470123456", "BE", "Belg2345")
    for accept, language in [("nl-BE,nl;q=0.9", "nl"), ("fr-BE,fr;q=0.9", "fr"), ("de", "de")]:
        response = client.get("/s/Belg2345", headers={"accept-language": accept})
        assert response["Content-Language"] == language


def test_recipient_can_switch_language(client, message):
    response = client.get("/s/Xk7pQ2ab?lang=es")
    assert response["Content-Language"] == "es"
    assert '<html lang="es">' in response.content.decode()
    # The choice is kept through the form.
    posted = client.post("/s/Xk7pQ2ab", {"phone": "+27 71 000 0000", "lang": "es"})
    assert posted["Content-Language"] == "es"


def test_unknown_code_page_in_the_browsers_language(client, db):
    response = client.get("/s/nope2345", headers={"accept-language": "de"})
    assert response.status_code == 404
    assert response["Content-Language"] == "de"


NEUTRAL = "If that is the number this message was sent to"


def test_past_the_wrong_number_limit_the_right_number_still_opts_out(client, message, settings):
    settings.LANDING_WRONG_NUMBERS_PER_CODE = 5
    for _ in range(5):
        assert client.post("/s/Xk7pQ2ab", {"phone": "+27 71 000 0000"}).status_code == 400
    response = client.post("/s/Xk7pQ2ab", {"phone": NUMBER, "reason": "too_many"})
    assert response.status_code == 200
    assert NEUTRAL in response.content.decode()
    assert "Acme Coffee" in response.content.decode()
    assert Suppression.objects.filter(company=message.company, address=NUMBER).exists()
    assert ConsentEvent.objects.get().reason == "too_many"


def test_past_the_wrong_number_limit_a_guess_learns_nothing(client, message, settings):
    settings.LANDING_WRONG_NUMBERS_PER_CODE = 5
    for _ in range(5):
        client.post("/s/Xk7pQ2ab", {"phone": "+27 71 000 0000"})
    wrong = client.post("/s/Xk7pQ2ab", {"phone": "+27 71 000 0001"})
    right = client.post("/s/Xk7pQ2ab", {"phone": NUMBER})
    assert (wrong.status_code, wrong.content) == (right.status_code, right.content)
    assert NEUTRAL in wrong.content.decode()
    assert "not the number" not in wrong.content.decode()
    # Only the right number is out.
    assert list(Suppression.objects.values_list("address", flat=True)) == [NUMBER]


def test_the_wrong_number_limit_is_per_link(client, message, company, settings):
    settings.LANDING_WRONG_NUMBERS_PER_CODE = 2
    _message(company, "+27711234568", "ZA", "Othr2345")
    for _ in range(3):
        client.post("/s/Xk7pQ2ab", {"phone": "+27 71 000 0000"})
    response = client.post("/s/Othr2345", {"phone": "+27 71 000 0000"})
    assert response.status_code == 400
    assert "not the number this message was sent to" in response.content.decode()


def test_past_the_per_address_limit_the_right_number_still_opts_out(client, message, settings):
    """Recipients share addresses behind mobile carriers' NAT: a busy one blocks nobody."""
    settings.LANDING_POSTS_PER_IP = 3
    for _ in range(3):
        client.post("/s/Xk7pQ2ab", {"phone": "+27 71 000 0000"})
    wrong = client.post("/s/Xk7pQ2ab", {"phone": "+27 71 000 0001"})
    right = client.post("/s/Xk7pQ2ab", {"phone": NUMBER})
    assert (wrong.status_code, wrong.content) == (right.status_code, right.content)
    assert NEUTRAL in right.content.decode()
    assert Suppression.objects.filter(address=NUMBER).exists()


def test_past_the_per_address_limit_one_tap_still_opts_out(client, company, settings):
    settings.LANDING_POSTS_PER_IP = 1
    _message(company, "+61412345678", "AU", "Aus23456")
    _message(company, "+61412345679", "AU", "Aus23457")
    assert client.post("/s/Aus23456", {}).status_code == 302
    response = client.post("/s/Aus23457", {})
    assert response.status_code == 200
    assert NEUTRAL in response.content.decode()
    assert Suppression.objects.filter(address="+61412345679").exists()


def test_undo_posts_per_address_are_limited(client, message, settings):
    settings.LANDING_POSTS_PER_IP = 2
    for _ in range(2):
        client.post("/s/Xk7pQ2ab/undo", {"t": "forged"})
    response = client.post("/s/Xk7pQ2ab/undo", {"t": "forged"})
    assert response.status_code == 429
    assert "Too many requests came from your connection" in response.content.decode()


def test_undo_right_after_leaving(client, message):
    done = client.post("/s/Xk7pQ2ab", {"phone": NUMBER}, follow=True)
    page = done.content.decode()
    token = re.search(r'name="t" value="([^"]+)"', page).group(1)

    response = client.post("/s/Xk7pQ2ab/undo", {"t": token}, follow=True)

    assert "You're subscribed again" in response.content.decode()
    assert not Suppression.objects.exists()
    assert list(ConsentEvent.objects.order_by("id").values_list("kind", "source")) == [
        ("opt_out", "landing_page"),
        ("opt_in", "landing_page"),
    ]
    # The consent is the undo button of the page they saw, in the version they saw.
    back = ConsentEvent.objects.get(kind="opt_in")
    assert (back.consent_method, back.consent_wording) == ("landing_undo", "done-2026-12/en")


def _leave(client) -> str:
    """Opt the link's number out; the done page's address."""
    return client.post("/s/Xk7pQ2ab", {"phone": NUMBER})["Location"]


@pytest.mark.parametrize("query", ["", "?t=", "?t=forged", "?t=MQ:1tQx:abcdef&lang=de"])
def test_done_page_without_a_real_token_sends_back_to_the_landing_page(client, message, query):
    response = client.get(f"/s/Xk7pQ2ab/done{query}")
    assert response.status_code == 302
    assert response["Location"].startswith("/s/Xk7pQ2ab")
    assert "/done" not in response["Location"]
    assert "unsubscribed" not in client.get(response["Location"]).content.decode()


def test_done_page_keeps_the_language_when_it_sends_back(client, message):
    response = client.get("/s/Xk7pQ2ab/done?t=forged&lang=de")
    assert response["Location"] == "/s/Xk7pQ2ab?lang=de"


def test_done_page_of_another_links_optout_sends_back(client, message, company):
    _message(company, "+27711234568", "ZA", "Othr2345")
    other = client.post("/s/Othr2345", {"phone": "+27711234568"})["Location"]
    token = other.split("?t=")[1]
    response = client.get(f"/s/Xk7pQ2ab/done?t={token}")
    assert response.status_code == 302
    assert "/done" not in response["Location"]


def test_done_page_for_an_optin_token_sends_back(client, message):
    from optout.services import record_optin
    from shorturl.services import undo_token

    event = record_optin(company=message.company, address=NUMBER, source="sms_keyword")
    response = client.get(f"/s/Xk7pQ2ab/done?t={undo_token(event)}")
    assert response.status_code == 302


def test_done_page_after_the_undo_window_sends_back(client, message):
    done = _leave(client)
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        response = client.get(done)
    assert response.status_code == 302
    assert "/done" not in response["Location"]


def test_done_page_with_its_token_confirms(client, message):
    response = client.get(_leave(client))
    assert response.status_code == 200
    assert "You're unsubscribed" in response.content.decode()


@pytest.mark.parametrize("query", ["", "?t=forged"])
def test_back_page_without_a_real_undo_sends_back_to_the_landing_page(client, message, query):
    response = client.get(f"/s/Xk7pQ2ab/back{query}")
    assert response.status_code == 302
    assert response["Location"] == "/s/Xk7pQ2ab"


def test_back_page_does_not_take_the_done_pages_token(client, message):
    token = _leave(client).split("?t=")[1]
    assert client.get(f"/s/Xk7pQ2ab/back?t={token}").status_code == 302


def test_forged_or_late_undo_changes_nothing(client, message):
    done = client.post("/s/Xk7pQ2ab", {"phone": NUMBER}, follow=True)
    token = re.search(r'name="t" value="([^"]+)"', done.content.decode()).group(1)
    forged = client.post("/s/Xk7pQ2ab/undo", {"t": token[:-2] + "xx"})
    assert forged.status_code == 400
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        late = client.post("/s/Xk7pQ2ab/undo", {"t": token})
    assert late.status_code == 400
    assert "still unsubscribed" in late.content.decode()
    assert Suppression.objects.filter(address=NUMBER).exists()


def test_one_tap_where_asking_for_the_number_is_not_allowed(client, company):
    _message(company, "+61412345678", "AU", "Aus23456")
    page = client.get("/s/Aus23456").content.decode()
    assert 'name="phone"' not in page
    response = client.post("/s/Aus23456", {"reason": "too_many"})
    assert response.status_code == 302
    assert Suppression.objects.filter(address="+61412345678").exists()
    assert ConsentEvent.objects.get().reason == "too_many"


def test_company_reasons_replace_the_defaults(client, message):
    from optout.models import LeaveReason

    LeaveReason.objects.create(company=message.company, label="I moved abroad")
    page = client.get("/s/Xk7pQ2ab").content.decode()
    assert "I moved abroad" in page and "Too many messages" not in page
    client.post("/s/Xk7pQ2ab", {"phone": NUMBER, "reason": "I moved abroad"})
    assert ConsentEvent.objects.get().reason == "I moved abroad"


def test_post_needs_no_cookie(marketer_client, message):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/s/Xk7pQ2ab", {"phone": NUMBER}).status_code == 302
    # The marketer's contact page says so.
    page = marketer_client.get(f"/contacts/{message.contact_id}/").content.decode()
    assert "Opted out since" in page and "via landing page" in page


def test_page_with_its_css_is_small(client, message):
    from django.contrib.staticfiles import finders

    page = client.get("/s/Xk7pQ2ab").content
    css = Path(finders.find("css/landing.css")).read_bytes()
    assert b"<script" not in page
    assert len(page) + len(css) < 30 * 1024


def test_undo_does_not_override_a_later_stop(client, message, post_inbound_sms):
    done = client.post("/s/Xk7pQ2ab", {"phone": NUMBER}, follow=True)
    token = re.search(r'name="t" value="([^"]+)"', done.content.decode()).group(1)
    from optout.services import record_optout

    record_optout(company=message.company, address=NUMBER, source="sms_keyword")
    assert client.post("/s/Xk7pQ2ab/undo", {"t": token}).status_code == 400
    assert Suppression.objects.filter(address=NUMBER).exists()


def test_an_email_messages_code_does_not_open_the_sms_page(client, company):
    contact = ContactFactory(company=company, email="ada@example.nl")
    campaign = CampaignFactory(company=company, status=Campaign.Status.SENT, channel="email")
    Message.objects.create(
        company=company,
        campaign=campaign,
        contact=contact,
        channel="email",
        to="ada@example.nl",
        short_code="Mail2345",
        status=Message.Status.SENT,
    )
    for response in (
        client.get("/s/Mail2345"),
        client.post("/s/Mail2345", {"phone": "ada@example.nl"}),
        client.get("/s/Mail2345/done"),
        client.get("/s/Mail2345/back"),
    ):
        assert response.status_code == 404
        assert "This link doesn't work" in response.content.decode()
    assert not Suppression.objects.exists()


@pytest.mark.parametrize("code", ["x" * 5000, "Xk7pQ2a", "Xk7pQ2ab9", "Xk7p Q2a", "Xk7pQ2a\u00e9"])
def test_codes_that_cannot_exist_get_the_404(client, message, code):
    response = client.get(f"/s/{code}")
    assert response.status_code == 404
    assert "This link doesn't work" in response.content.decode()


def test_mask_hides_what_is_not_a_phone_number():
    from addressbook.addresses import mask_phone

    assert mask_phone("+31612345678") == "+31 6 •••• 5678"
    assert mask_phone("ada@example.nl") == "••••"


def test_the_right_number_opts_out_while_the_rate_limit_store_is_down(client, message, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    response = client.post("/s/Xk7pQ2ab", {"phone": NUMBER})
    assert response.status_code == 302
    assert Suppression.objects.filter(address=NUMBER).exists()
