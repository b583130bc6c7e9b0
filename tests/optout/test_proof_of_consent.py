"""A marketer brings an address back only with proof of the person's consent; and what the
consent record keeps of who acted, from where, and what the person read."""

from datetime import timedelta
from html import unescape
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from addressbook.models import AuditEvent
from campaigns.models import Campaign, Message
from optout.consent import ConsentProofRequired
from optout.models import ConsentEvent, Source, Suppression
from optout.selectors import is_suppressed
from optout.services import record_optin, record_optout
from tests.factories import CampaignFactory, ContactFactory, MembershipFactory

NUMBER = "+31612345678"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
WORDING = "Yes, send me offers from Acme Coffee by SMS and email. I can stop at any time."


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def suppression(company) -> Suppression:
    record_optout(company=company, address=NUMBER, source=Source.LANDING_PAGE, reason="too_many")
    return Suppression.objects.get(company=company, address=NUMBER)


def consent_url(suppression: Suppression) -> str:
    return f"/opt-outs/{suppression.pk}/consent/"


YESTERDAY = timezone.now().replace(second=0, microsecond=0) - timedelta(days=1)


def in_form(moment, company_zone: str = "Europe/Amsterdam") -> str:
    """A moment as the form's date-time field takes it: in the company's zone."""
    return timezone.localtime(moment, ZoneInfo(company_zone)).strftime("%Y-%m-%dT%H:%M")


def proof(**fields) -> dict:
    return {"method": "paper", "given_at": in_form(YESTERDAY), "wording": WORDING, **fields}


def page_text(response) -> str:
    return unescape(response.content.decode())


# --- refused without proof -------------------------------------------------------------------
def test_the_service_refuses_a_marketers_optin_without_proof(company, suppression):
    for source in (Source.DASHBOARD, Source.API, Source.ADMIN):
        with pytest.raises(ConsentProofRequired):
            record_optin(company=company, address=NUMBER, source=source)
    assert is_suppressed(company=company, address=NUMBER)


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("wording", "Give the wording the person agreed to: it is what the consent means."),
        ("method", "Choose how the person consented."),
        ("given_at", "Give the date and time the person consented."),
    ],
)
def test_consent_without_its_proof_is_a_400_that_says_what_is_missing(
    marketer_client, company, suppression, missing, message
):
    data = proof()
    del data[missing]

    response = marketer_client.post(consent_url(suppression), data)

    assert response.status_code == 400
    assert message in page_text(response)
    assert is_suppressed(company=company, address=NUMBER)
    assert not ConsentEvent.objects.filter(kind="opt_in").exists()


def test_consent_in_the_future_is_refused(marketer_client, company, suppression):
    data = proof(given_at=in_form(timezone.now() + timedelta(hours=1), company.timezone))

    response = marketer_client.post(consent_url(suppression), data)

    assert response.status_code == 400
    assert "Consent cannot have been given in the future." in page_text(response)
    assert is_suppressed(company=company, address=NUMBER)


def test_a_blank_wording_is_no_wording(marketer_client, company, suppression):
    response = marketer_client.post(consent_url(suppression), proof(wording="   "))
    assert response.status_code == 400
    assert is_suppressed(company=company, address=NUMBER)


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("form.pdf", b"just text, named .pdf"), "must be a PDF, or a PNG"),
        (SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * (5 * 1024 * 1024)), "larger than 5 MB"),
    ],
)
def test_a_document_that_is_no_pdf_or_image_or_too_large_is_refused(
    marketer_client, company, suppression, upload, message
):
    response = marketer_client.post(consent_url(suppression), {**proof(), "document": upload})
    assert response.status_code == 400
    assert message in page_text(response)
    assert is_suppressed(company=company, address=NUMBER)


# --- accepted with proof ---------------------------------------------------------------------
def test_consent_with_proof_brings_the_address_back_with_the_proof_on_its_event(
    marketer_client, marketer, company, suppression, media
):
    ContactFactory(company=company, phone=NUMBER, email="anna@example.com")
    record_optout(company=company, address=NUMBER, source=Source.LANDING_PAGE)  # links the email
    assert is_suppressed(company=company, address="anna@example.com")
    data = {**proof(), "document": SimpleUploadedFile("signed form.pdf", PDF)}

    response = marketer_client.post(
        consent_url(suppression), data, HTTP_USER_AGENT="Firefox/140", REMOTE_ADDR="203.0.113.7"
    )

    event = ConsentEvent.objects.get(kind="opt_in", address=NUMBER)
    assert response.status_code == 302
    assert response["Location"] == f"/opt-outs/events/{event.pk}/"
    assert not is_suppressed(company=company, address=NUMBER)
    assert not is_suppressed(company=company, address="anna@example.com")
    assert (event.source, event.actor_type, event.actor_id, event.actor_label) == (
        "dashboard",
        "user",
        marketer.pk,
        marketer.username,
    )
    assert (event.ip_address, event.user_agent) == ("203.0.113.7", "Firefox/140")
    assert (event.consent_method, event.consent_wording) == ("paper", WORDING)
    assert event.consent_given_at == YESTERDAY
    # Kept under a name of our own, outside anything served as a file.
    stored = Path(media) / event.consent_document.name
    assert stored.read_bytes() == PDF
    assert "signed form" not in event.consent_document.name
    assert event.consent_document.name.endswith(".pdf")
    audit = AuditEvent.objects.get(company=company, action=AuditEvent.Action.CONSENT_RECORDED)
    assert (audit.actor, audit.target, audit.ip) == (marketer, NUMBER, "203.0.113.7")
    assert audit.details["method"] == "Paper form"

    shown = page_text(marketer_client.get(response["Location"]))
    assert "may receive marketing again: consent recorded (paper form)" in shown
    assert WORDING in shown and "Download the document" in shown


def test_the_document_is_served_to_the_company_only(
    marketer_client, client, outsider, company, suppression
):
    marketer_client.post(
        consent_url(suppression), {**proof(), "document": SimpleUploadedFile("f.pdf", PDF)}
    )
    event = ConsentEvent.objects.get(kind="opt_in")
    url = f"/opt-outs/events/{event.pk}/document"

    answer = marketer_client.get(url)
    assert answer.status_code == 200
    assert b"".join(answer.streaming_content) == PDF
    assert answer["Content-Type"] == "application/pdf"
    assert answer["Content-Disposition"].startswith("attachment;")
    assert "no-store" in answer["Cache-Control"]
    # Nothing serves the stored file by its path.
    assert marketer_client.get(f"/{event.consent_document.name}").status_code == 404
    assert marketer_client.get(f"/media/{event.consent_document.name}").status_code == 404

    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert client.get(f"/opt-outs/events/{event.pk}/").status_code == 404


def test_an_event_without_a_document_points_to_itself(marketer_client, company, suppression):
    event = suppression.event
    answer = marketer_client.get(f"/opt-outs/events/{event.pk}/document")
    assert (answer.status_code, answer["Location"]) == (302, f"/opt-outs/events/{event.pk}/")


def test_other_company_gets_404(outsider_client, company, suppression):
    for url in (f"/opt-outs/{suppression.pk}/", f"/opt-outs/events/{suppression.event.pk}/"):
        assert outsider_client.get(url).status_code == 404
    assert outsider_client.post(consent_url(suppression), proof()).status_code == 404
    assert is_suppressed(company=company, address=NUMBER)


def test_a_viewer_reads_but_cannot_record(client, company, suppression):
    client.force_login(MembershipFactory(company=company, role="viewer").user)
    page = page_text(client.get(f"/opt-outs/{suppression.pk}/"))
    assert "Record consent again" not in page
    assert client.post(consent_url(suppression), proof()).status_code == 403
    assert is_suppressed(company=company, address=NUMBER)


# --- the page ----------------------------------------------------------------------------
def test_the_list_leads_to_the_address_and_its_two_ways_back(marketer_client, company, suppression):
    listing = page_text(marketer_client.get("/opt-outs/"))
    assert f'href="/opt-outs/{suppression.pk}/"' in listing

    page = page_text(marketer_client.get(f"/opt-outs/{suppression.pk}/"))

    assert "Opted out since" in page and "Too many messages" in page
    assert "Record consent again" in page
    assert "Ask the person to confirm (double opt-in)" in page
    assert "Web form" in page and "Paper form" in page and "Phone call" in page
    assert "contact them" not in page.lower()
    assert "Consent history" in page


def test_no_page_or_text_offers_to_contact_a_suppressed_person_to_ask():
    root = Path(__file__).resolve().parents[2]
    offending = [
        str(path.relative_to(root))
        for folder in ("templates", "optout", "shorturl", "api", "addressbook", "campaigns")
        for path in (root / folder).rglob("*")
        if path.suffix in {".html", ".txt", ".py"}
        and "contact them to ask" in path.read_text(errors="ignore").lower()
    ]
    assert offending == []


# --- what the landing pages record ----------------------------------------------------------
@pytest.fixture
def message(company):
    contact = ContactFactory(company=company, phone="+27711234567", country="ZA")
    campaign = CampaignFactory(company=company, status=Campaign.Status.SENT)
    return Message.objects.create(
        company=company,
        campaign=campaign,
        contact=contact,
        to=contact.phone,
        country="ZA",
        short_code="Xk7pQ2ab",
        status=Message.Status.SENT,
        sent_at=timezone.now() - timedelta(hours=1),
    )


BROWSER = {"HTTP_USER_AGENT": "Mozilla/5.0 (iPhone)", "REMOTE_ADDR": "198.51.100.23"}


def test_the_landing_optout_records_ip_browser_and_wording(client, message):
    response = client.post("/s/Xk7pQ2ab?lang=fr", {"phone": "071 123 4567"}, **BROWSER)
    assert response.status_code == 302

    event = ConsentEvent.objects.get()
    assert (event.source, event.actor_type) == ("landing_page", "person")
    assert (event.ip_address, event.user_agent) == ("198.51.100.23", "Mozilla/5.0 (iPhone)")
    assert event.wording_version == "landing-2026-12/fr"

    # And the undo, from the page that confirmed it.
    done = client.get(response["Location"])
    token = done.context["token"]
    client.post("/s/Xk7pQ2ab/undo", {"t": token}, **BROWSER)
    undo = ConsentEvent.objects.get(kind="opt_in")
    assert (undo.source, undo.actor_type, undo.ip_address) == (
        "landing_page",
        "person",
        "198.51.100.23",
    )
    assert undo.wording_version == "done-2026-12/en"


def test_the_email_link_and_one_click_record_what_the_request_tells(client, company):
    from campaigns.personalize import unsubscribe_link

    campaign = CampaignFactory(company=company, status=Campaign.Status.SENT)
    for code, to in (("EmailAa1", "eva@example.com"), ("EmailBb2", "jan@example.com")):
        Message.objects.create(
            company=company,
            campaign=campaign,
            contact=ContactFactory(company=company, email=to),
            to=to,
            channel="email",
            short_code=code,
            status=Message.Status.SENT,
        )
    link = unsubscribe_link("EmailAa1").split("/u/")[1]
    client.post(f"/s/u/{link}", {}, HTTP_ACCEPT_LANGUAGE="nl", **BROWSER)
    by_link = ConsentEvent.objects.get(address="eva@example.com")
    assert (by_link.source, by_link.actor_type) == ("email_link", "person")
    assert by_link.wording_version == "email-2026-12/nl"
    assert by_link.ip_address == "198.51.100.23"

    # One-click: the mailbox provider posts for the person; its address is what we see.
    one_click = unsubscribe_link("EmailBb2").split("/u/")[1]
    client.post(
        f"/s/u/{one_click}",
        {"List-Unsubscribe": "One-Click"},
        HTTP_USER_AGENT="Mailbox-Provider",
        REMOTE_ADDR="192.0.2.10",
    )
    provider = ConsentEvent.objects.get(address="jan@example.com")
    assert (provider.source, provider.actor_type) == ("one_click", "person")
    assert (provider.ip_address, provider.user_agent) == ("192.0.2.10", "Mailbox-Provider")
    assert provider.wording_version == "one-click-rfc8058"


def test_a_linked_address_says_which_address_took_it_off(marketer_client, company):
    ContactFactory(company=company, phone=NUMBER, email="anna@example.com")
    record_optout(company=company, address=NUMBER, source=Source.SMS_KEYWORD)
    linked = Suppression.objects.get(company=company, address="anna@example.com")

    page = page_text(marketer_client.get(f"/opt-outs/{linked.pk}/"))

    assert "the same person's other address, opted out" in page
    assert NUMBER in page
