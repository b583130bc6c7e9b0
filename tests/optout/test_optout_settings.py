"""Owners keep their company's opt-out texts and leave reasons on the opt-out settings page."""

import re
from html import unescape

import pytest

from addressbook.models import AuditEvent
from campaigns.models import Campaign, Message
from optout.models import CompanyOptoutText, LeaveReason
from tests.campaigns.running import run_campaign
from tests.factories import CampaignFactory, ContactFactory

from .rules import one_rule_per_method

PAGE = "/company/settings/opt-out/"
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def rules(db):
    one_rule_per_method()


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def _text(response) -> str:
    return unescape(re.sub(r"\s+", " ", response.content.decode()))


def _audited(company) -> list[tuple[str, str]]:
    events = AuditEvent.objects.filter(company=company, action="company.changed").order_by("pk")
    return [(e.target, e.details_text) for e in events]


# --- texts ------------------------------------------------------------------------------
def test_owner_adds_a_text_and_the_page_shows_where_it_is_used(owner_client, company, owner):
    response = owner_client.post(
        f"{PAGE}texts/new/",
        {"country": "fr", "language": "", "template": "{company} : ARRET au {shortcode}"},
        follow=True,
    )
    page = _text(response)
    assert "Saved. Marketing SMS to FR end with it." in page
    text = CompanyOptoutText.objects.get(company=company)
    assert (text.country, text.language) == ("FR", "")
    assert re.search(r'data-country="FR">.*?your text.*?Acme Coffee : ARRET au 36111', page)
    assert _audited(company) == [
        ("Opt-out text for FR, all languages", "— → {company} : ARRET au {shortcode}")
    ]
    assert AuditEvent.objects.get().actor == owner


def test_a_text_without_the_way_out_is_refused_with_the_reason(owner_client, company):
    response = owner_client.post(
        f"{PAGE}texts/new/", {"country": "FR", "template": "Désinscription : {link}"}
    )
    assert response.status_code == 400
    assert "It would leave no way out: FR (a reply to 36111) needs {shortcode}" in _text(response)
    assert not CompanyOptoutText.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_text_for_all_countries_warns_of_those_it_cannot_serve(owner_client, company):
    response = owner_client.post(
        f"{PAGE}texts/new/", {"template": "{company}: opt out at {link}"}, follow=True
    )
    page = _text(response)
    assert "Saved. Marketing SMS to Countries without a rule of their own end with it." in page
    assert "Not used for FR, ZA: they keep their standard text." in page


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ({"country": "XX", "template": "Opt out: {link}"}, "“XX” is not a country code"),
        ({"country": "ZZ", "template": "Opt out: {link}"}, "“ZZ” is not a country code"),
        ({"language": "tlh", "template": "Opt out: {link}"}, "Select a valid choice"),
        ({"template": "x" * 161}, "at most 160 characters"),
        ({"template": "Opt out: {url}"}, "{url} is not a placeholder here"),
    ],
)
def test_bad_input_is_a_400_saying_why(owner_client, data, said):
    response = owner_client.post(f"{PAGE}texts/new/", data)
    assert response.status_code == 400
    assert said in _text(response)


def test_owner_edits_and_removes_a_text(owner_client, company):
    text = CompanyOptoutText.objects.create(company=company, template="Opt out: {link}")
    page = owner_client.get(f"{PAGE}texts/{text.pk}/")
    assert page.status_code == 200 and "Opt out: {link}" in page.content.decode()
    owner_client.post(f"{PAGE}texts/{text.pk}/", {"template": "{company}: leave at {link}"})
    text.refresh_from_db()
    assert text.template == "{company}: leave at {link}"

    response = owner_client.post(f"{PAGE}texts/{text.pk}/remove/", follow=True)
    assert "Removed: those messages end with the standard text again." in _text(response)
    assert not CompanyOptoutText.objects.exists()
    assert [details for _, details in _audited(company)] == [
        "Opt out: {link} → {company}: leave at {link}",
        "{company}: leave at {link} → — (the standard text)",
    ]


def test_the_live_preview_shows_each_country_it_serves_with_its_size(owner_client, company):
    response = owner_client.post(
        f"{PAGE}texts/preview/",
        {"country": "", "language": "", "template": "{company}: STOP to {shortcode} or {link}"},
        headers=HTMX,
    )
    page = _text(response)
    assert 'id="text-preview"' in page and "<html" not in page
    za = re.search(r'data-country="ZA">(.*?)</figure>', page).group(1)
    link = "https://no-s.test/xxxxxxxx"
    footer = f"Acme Coffee: STOP to 31222 or {link}"
    assert footer in za
    assert f'GSM-7</span>, <span data-counter="units">{len(footer)}</span> characters' in za
    assert f'<span data-counter="room">{160 - len(footer) - 1}</span> of 160' in za
    # Not where it cannot be filled: FR makes no link, elsewhere there is no shortcode.
    assert 'data-country="FR"' not in page and 'data-country="ZZ"' not in page
    assert "FR (a reply to 36111) cannot fill {link}" in page


def test_the_live_preview_says_why_a_text_is_refused(owner_client):
    response = owner_client.post(
        f"{PAGE}texts/preview/", {"country": "ZA", "template": "Opt out: {link}"}, headers=HTMX
    )
    assert response.status_code == 200
    assert "ZA (a reply to 31222 and a short link) needs {shortcode}" in _text(response)


def test_preview_without_javascript_is_the_form_page_again(owner_client):
    response = owner_client.post(f"{PAGE}texts/preview/", {"template": "Opt out: {link}"})
    page = response.content.decode()
    assert "<html" in page and 'id="text-preview"' in page and "Opt out: https://" in page


def test_the_company_text_reaches_the_sent_message(owner_client, company, outbox):
    owner_client.post(f"{PAGE}texts/new/", {"template": "{company}: opt out at {link}"})
    ContactFactory(company=company, phone="+31612345678", country="NL")
    campaign = CampaignFactory(company=company, status=Campaign.Status.SENDING, body="Hi!")
    run_campaign(campaign)
    message = Message.objects.get(campaign=campaign)
    assert outbox[0].body == f"Hi!\nAcme Coffee: opt out at https://no-s.test/{message.short_code}"


# --- leave reasons ---------------------------------------------------------------------
def test_owner_adds_renames_reorders_and_removes_reasons(owner_client, company, client):
    for label in ("Too expensive", "Moved away", "  Too  many texts "):
        owner_client.post(f"{PAGE}reasons/", {"label": label})
    reasons = list(LeaveReason.objects.filter(company=company))
    assert [r.label for r in reasons] == ["Too expensive", "Moved away", "Too many texts"]

    owner_client.post(f"{PAGE}reasons/{reasons[1].pk}/", {"label": "I moved abroad"})
    owner_client.post(f"{PAGE}reasons/{reasons[2].pk}/move/", {"direction": "up"})
    owner_client.post(f"{PAGE}reasons/{reasons[0].pk}/remove/")
    assert [r.label for r in LeaveReason.objects.filter(company=company)] == [
        "Too many texts",
        "I moved abroad",
    ]
    order = "Too expensive, I moved abroad, Too many texts"
    assert [details for _, details in _audited(company)] == [
        "— → Too expensive",
        "— → Moved away",
        "— → Too many texts",
        "Moved away → I moved abroad",
        f"{order} → Too expensive, Too many texts, I moved abroad",
        "Too expensive → —",
    ]

    # The landing page offers them, in that order.
    ContactFactory(company=company, phone="+31612345678", country="NL")
    campaign = CampaignFactory(company=company, status=Campaign.Status.SENDING)
    run_campaign(campaign)
    code = Message.objects.get(campaign=campaign).short_code
    landing = client.get(f"/s/{code}").content.decode()
    assert re.findall(r'name="reason" value="([^"]+)"', landing) == [
        "Too many texts",
        "I moved abroad",
    ]


def test_with_no_reasons_of_its_own_the_page_names_the_defaults(owner_client):
    page = _text(owner_client.get(PAGE))
    assert "the page offers the standard ones: Too many messages, Not relevant to me" in page


@pytest.mark.parametrize(
    ("label", "said"), [("", "Write the reason."), ("Too expensive", "is offered already")]
)
def test_a_bad_reason_is_a_400_saying_why(owner_client, company, label, said):
    LeaveReason.objects.create(company=company, label="Too expensive")
    response = owner_client.post(f"{PAGE}reasons/", {"label": label})
    assert response.status_code == 400
    assert said in _text(response)
    assert LeaveReason.objects.filter(company=company).count() == 1


def test_moving_needs_up_or_down(owner_client, company):
    reason = LeaveReason.objects.create(company=company, label="Too expensive")
    assert (
        owner_client.post(f"{PAGE}reasons/{reason.pk}/move/", {"direction": "x"}).status_code == 400
    )


# --- who may ------------------------------------------------------------------------------
def test_marketers_and_viewers_are_refused(client, marketer, viewer, company):
    text = CompanyOptoutText.objects.create(company=company, template="Opt out: {link}")
    reason = LeaveReason.objects.create(company=company, label="Too expensive")
    for user in (marketer, viewer):
        client.force_login(user)
        assert client.get(PAGE).status_code == 403
        assert client.get(f"{PAGE}texts/new/").status_code == 403
        assert client.post(f"{PAGE}texts/{text.pk}/remove/").status_code == 403
        assert client.post(f"{PAGE}reasons/{reason.pk}/remove/").status_code == 403
    assert CompanyOptoutText.objects.exists() and LeaveReason.objects.exists()


def test_the_page_is_linked_from_the_settings_and_the_navigation_for_owners(
    owner_client, client, marketer
):
    settings_page = owner_client.get("/company/settings/").content.decode()
    assert f'href="{PAGE}"' in settings_page
    assert settings_page.count(f'href="{PAGE}"') == 2  # the card and the navigation
    client.force_login(marketer)
    assert f'href="{PAGE}"' not in client.get("/campaigns/").content.decode()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "texts/{text}/"),
        ("post", "texts/{text}/"),
        ("post", "texts/{text}/preview/"),
        ("post", "texts/{text}/remove/"),
        ("post", "reasons/{reason}/"),
        ("post", "reasons/{reason}/move/"),
        ("post", "reasons/{reason}/remove/"),
    ],
)
def test_another_companys_texts_and_reasons_are_404(owner_client, other_company, method, path):
    text = CompanyOptoutText.objects.create(company=other_company, template="Globex: {link}")
    reason = LeaveReason.objects.create(company=other_company, label="Globex reason")
    url = PAGE + path.format(text=text.pk, reason=reason.pk)
    data = {"template": "Hijacked {link}", "label": "Hijacked", "direction": "up"}
    assert getattr(owner_client, method)(url, data).status_code == 404
    text.refresh_from_db()
    reason.refresh_from_db()
    assert (text.template, reason.label) == ("Globex: {link}", "Globex reason")


def test_the_page_shows_nothing_of_another_company(owner_client, other_company):
    CompanyOptoutText.objects.create(company=other_company, template="Globex: {link}")
    LeaveReason.objects.create(company=other_company, label="Globex reason")
    page = owner_client.get(PAGE).content.decode()
    assert "Globex" not in page
