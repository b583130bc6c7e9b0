"""A company's own opt-out text: accepted only where it keeps the way out, chosen per message."""

import pytest

from addressbook.models import AuditEvent
from optout.models import CompanyOptoutText, CountryRule
from optout.texts import (
    OptoutTextRefused,
    check_optout_text,
    optout_texts,
    remove_optout_text,
    save_optout_text,
)
from tests.factories import MembershipFactory

from .rules import Method, one_rule_per_method


@pytest.fixture
def rules(db):
    one_rule_per_method()


def _check(company, template, country="", language=""):
    text = CompanyOptoutText(company=company, country=country, language=language, template=template)
    return check_optout_text(texts=optout_texts(company=company), text=text)


def _save(company, owner, template, country="", language="", text=None):
    return save_optout_text(
        company=company,
        actor=owner,
        country=country,
        language=language,
        template=template,
        text=text,
    )[0]


@pytest.mark.parametrize(
    ("country", "template"),
    [
        ("US", "{company}: no more offers? {link}"),  # link (everywhere else)
        ("FR", "{company} : ARRET au {shortcode}"),  # keyword, in French
        ("FR", "Envoyez STOP au {shortcode}"),
        ("ZA", "{company}: SMS STOP to {shortcode} or tap {link}"),  # keyword and link
    ],
)
def test_a_text_keeping_its_countrys_way_out_is_accepted(company, rules, country, template):
    assert _check(company, template, country).used_in == [country]


@pytest.mark.parametrize(
    ("country", "template", "said"),
    [
        ("US", "{company}: reply STOP to leave", "US (a short link) needs {link}."),
        ("US", "Leave: {link} or STOP to {shortcode}", "cannot fill {shortcode}"),
        ("FR", "Désinscription : {link}", "FR (a reply to 36111) needs {shortcode} and the reply"),
        ("FR", "Plus de SMS ? {shortcode}", "needs the reply word in capitals, as in “STOP”"),
        ("FR", "Répondez stop au {shortcode}", "the reply word in capitals"),
        ("FR", "STOP au {shortcode} ou {link}", "cannot fill {link} (no link is made there)"),
        ("ZA", "Opt out: {link}", "ZA (a reply to 31222 and a short link) needs {shortcode}"),
        ("ZA", "Reply STOP to {shortcode}", "needs {link}"),
        ("ZA", "Opt out at {link}, {shortcode}", "needs the reply word in capitals"),
    ],
)
def test_a_text_without_its_countrys_way_out_is_refused_saying_what_is_missing(
    company, rules, country, template, said
):
    with pytest.raises(OptoutTextRefused) as refused:
        _check(company, template, country)
    assert str(refused.value).startswith("It would leave no way out:")
    assert said in str(refused.value)


@pytest.mark.parametrize(
    ("template", "said"),
    [
        ("Opt out: {url}", "{url} is not a placeholder here"),
        ("Opt out: {}", "{} is not a placeholder here"),
        ("Opt out: {link", "A { or } is not closed"),
        ("Opt out: {link!r}", "Write the placeholder plainly, as {link}"),
        ("Opt out: {link.__class__}", "is not a placeholder here"),
        ("   ", "Write the text."),
    ],
)
def test_only_the_three_placeholders_are_understood(company, rules, template, said):
    with pytest.raises(OptoutTextRefused) as refused:
        _check(company, template, "US")
    assert said in str(refused.value)


def test_a_language_the_country_is_not_written_to_in_is_refused(company, rules):
    with pytest.raises(OptoutTextRefused) as refused:
        _check(company, "STOP an {shortcode}", "FR", "de")
    assert "Numbers of FR are written to in Français" in str(refused.value)


def test_a_text_for_all_countries_serves_those_it_fits_and_names_the_others(company, rules):
    check = _check(company, "{company}: opt out at {link}")
    assert check.used_in == ["ZZ"]
    assert list(check.unserved) == ["FR", "ZA"]
    assert "Not used for FR, ZA: they keep their standard text." in check.notice


def test_a_text_for_all_countries_that_fits_none_is_refused(company, rules):
    with pytest.raises(OptoutTextRefused, match="It would serve no country"):
        _check(company, "Questions? Ask {company}.")


def test_countries_with_a_text_of_their_own_are_not_counted_against_an_all_countries_text(
    company, owner, rules
):
    _save(company, owner, "STOP au {shortcode}", country="FR")
    _save(company, owner, "Reply STOP to {shortcode} or {link}", country="ZA")
    check = _check(company, "{company}: opt out at {link}")
    assert (check.used_in, check.unserved, check.covered) == (["ZZ"], {}, ["FR", "ZA"])


def test_placeholders_are_filled_with_the_link_shortcode_and_company(company, owner, rules):
    _save(company, owner, "{company}: STOP to {shortcode}, or {link}", country="ZA")
    footer = optout_texts(company=company).footer("ZA")
    assert footer.text("https://no-s.test/Ab3dEf7h") == (
        "Acme Coffee: STOP to 31222, or https://no-s.test/Ab3dEf7h"
    )
    assert (footer.makes_link, footer.reply_shortcode) == (True, "31222")


def test_the_most_specific_text_wins(company, owner, rules):
    _save(company, owner, "All: {link}")
    _save(company, owner, "English: {link}", language="en")
    texts = optout_texts(company=company)
    assert texts.footer("US").text("L") == "English: L"  # US numbers are written to in English
    assert texts.footer("MX").text("L") == "All: L"  # Spanish
    _save(company, owner, "US: {link}", country="US")
    _save(company, owner, "US in English: {link}", country="US", language="en")
    texts = optout_texts(company=company)
    assert texts.footer("US").text("L") == "US in English: L"
    assert texts.footer("GB").text("L") == "English: L"
    assert texts.footer("").text("L") == "English: L"  # no country: the default language


def test_a_country_without_a_text_that_fits_gets_its_rules_own(company, owner, rules):
    _save(company, owner, "{company}: opt out at {link}")
    texts = optout_texts(company=company)
    fr = texts.footer("FR")
    assert (fr.text(""), fr.own, fr.makes_link, fr.reply_shortcode) == (
        "STOP au 36111",
        None,
        False,
        "36111",
    )


def test_a_text_the_rule_no_longer_fits_is_not_used(company, owner, rules):
    """Staff turn FR into a link country: the company's STOP text would strand people."""
    _save(company, owner, "{company} : STOP au {shortcode}", country="FR")
    CountryRule.objects.filter(country="FR").update(
        method=Method.LINK, shortcode="", template="Désinscription : {link}"
    )
    assert optout_texts(company=company).footer("FR").text("L") == "Désinscription : L"


def test_another_companys_text_is_never_used(company, other_company, rules):
    their_owner = MembershipFactory(company=other_company, role="owner").user
    _save(other_company, their_owner, "Globex: {link}")
    assert optout_texts(company=company).footer("US").text("L") == "Opt out: L"


def test_saving_changing_and_removing_is_audited(company, owner, rules):
    text = _save(company, owner, "{company}: opt out at {link}", country="US")
    _save(company, owner, "{company}: leave at {link}", country="US", text=text)
    remove_optout_text(text=text, actor=owner)
    assert not CompanyOptoutText.objects.filter(company=company).exists()
    events = AuditEvent.objects.filter(company=company, action="company.changed").order_by("pk")
    assert [(e.target, e.details_text) for e in events] == [
        ("Opt-out text for US, all languages", "— → {company}: opt out at {link}"),
        (
            "Opt-out text for US, all languages",
            "{company}: opt out at {link} → {company}: leave at {link}",
        ),
        (
            "Opt-out text for US, all languages",
            "{company}: leave at {link} → — (the standard text)",
        ),
    ]
    assert {e.actor for e in events} == {owner}


def test_a_second_text_for_the_same_place_is_refused(company, owner, rules):
    _save(company, owner, "Opt out: {link}", country="US")
    with pytest.raises(OptoutTextRefused, match="There is a text for this already"):
        _save(company, owner, "Leave: {link}", country="US")
