"""Each country's opt-out rule as the research gives it: the text marketing SMS end with, the
way out it offers, the hours they may arrive in, the HELP answer; and territories that share
a numbering plan (+44, +1) get the rule of the country that runs it."""

import importlib
import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

import phonenumbers
import pytest
import time_machine
from django.apps import apps
from django.core.exceptions import ValidationError

from addressbook.addresses import country_of
from campaigns.models import Campaign
from campaigns.segments import count_segments
from optout.models import CountryRule, DedicatedNumber, Suppression
from optout.selectors import NUMBERING_PLAN_COUNTRY, country_rules, is_one_tap, rule_for_country
from optout.sendhours import SendHours
from tests.campaigns.running import run_campaign
from tests.factories import CampaignFactory, ContactFactory

MIGRATION = importlib.import_module("optout.migrations.0013_country_rules_per_research")
HOURS_MIGRATION = importlib.import_module("optout.migrations.0014_nl_and_gb_sending_hours")
EARLIER_SEEDS = [
    "0002_seed_country_rules_and_keywords",
    "0004_seed_one_tap_countries_and_more_keywords",
    "0005_country_send_hours",
]
LINK = "https://no-s.test/Xk7pQ2ab"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
ALL_WEEK = (*WEEKDAYS, "sat", "sun")


def _days(days, start, end, **others) -> dict:
    return {**dict.fromkeys(days, [start, end]), **others}


# country: method, the footer with LINK as the recipient's link, hours, no public holidays
EXPECTED = {
    "FR": (
        "keyword",
        "STOP au 36111",
        _days(WEEKDAYS, "08:00", "20:00", sat=["10:00", "18:00"], sun=None),
        True,
    ),
    "GB": ("keyword", "Reply STOP to 82228", _days(ALL_WEEK, "09:00", "20:00"), False),
    "BE": ("keyword", "STOP naar/au 8210", {}, False),
    "NL": (
        "keyword",
        "Afmelden: SMS STOP naar 3010",
        _days(ALL_WEEK[:6], "09:00", "20:00", sun=None),
        True,
    ),
    "DE": ("keyword", "Abmelden: STOP an 44844", {}, False),
    "ZA": (
        "keyword_link",
        f"Opt out: STOP to 31222 or {LINK}",
        _days(WEEKDAYS, "08:00", "20:00", sat=["09:00", "13:00"], sun=None),
        True,
    ),
    "US": (
        "keyword_link",
        f"Opt out: STOP to 73981 or {LINK}",
        _days(ALL_WEEK, "08:00", "20:00"),
        False,
    ),
    "CA": (
        "keyword_link",
        f"STOP/ARRET to/au 55355 or/ou {LINK}",
        _days(WEEKDAYS, "09:00", "17:00", sat=None, sun=None),
        True,
    ),
    "AU": ("link", f"Opt out: {LINK}", {}, False),
    "ES": ("link", f"Darse de baja: {LINK}", {}, False),
    "ZZ": ("link", f"Opt out: {LINK}", {}, False),
}


@pytest.fixture
def rules(seeded_defaults) -> dict[str, CountryRule]:
    """The rules as the migrations leave them (a test with real transactions flushes them)."""
    return country_rules()


@pytest.mark.parametrize("country", EXPECTED)
def test_each_country_has_its_text_method_and_hours(rules, country):
    method, footer, hours, skip_holidays = EXPECTED[country]
    rule = rules[country]
    assert (rule.method, rule.footer(LINK)) == (method, footer)
    assert (rule.send_hours, rule.skip_public_holidays) == (hours, skip_holidays)
    rule.full_clean()  # what staff would be told in admin, were the rule refused
    # The way out leaves room for the message: plain GSM characters, and at least 100 of a
    # single SMS's 160 left with the line break before it, a recipient's link and all.
    assert count_segments(rule.footer(LINK)).encoding == "GSM-7"
    assert len(rule.footer(LINK)) <= 59
    assert "research" in rule.note.lower()


def test_every_rule_of_the_table_is_tested(rules):
    assert set(rules) == set(EXPECTED)


def test_south_africas_note_says_what_is_unconfirmed(rules):
    note = rules["ZA"].note
    assert "UNCONFIRMED" in note
    for point in ("v17.9", "2 working days", "confirmation SMS", "standard-rate"):
        assert point in note
    assert "dedicated number" in note


@pytest.mark.parametrize("country", ["FR", "NL", "DE", "BE", "US", "CA", "AU", "ES"])
def test_notes_name_what_the_research_leaves_unconfirmed(rules, country):
    assert "UNCONFIRMED" in rules[country].note


def test_the_uk_note_says_its_hours_are_guidance_not_law(rules):
    note = rules["GB"].note
    assert "no statutory quiet hours" in note
    assert "stricter reading" in note


@pytest.mark.parametrize(
    "number, country, at, open_now",
    [
        # The Netherlands: 09:00-20:00 Amsterdam time (UTC+1 in winter), Monday to
        # Saturday, never on a Sunday or a public holiday (Christmas).
        ("+31612345678", "NL", datetime(2026, 12, 5, 8, 0, tzinfo=UTC), True),  # Sat 09:00
        ("+31612345678", "NL", datetime(2026, 12, 5, 7, 59, tzinfo=UTC), False),  # 08:59
        ("+31612345678", "NL", datetime(2026, 12, 7, 19, 0, tzinfo=UTC), False),  # Mon 20:00
        ("+31612345678", "NL", datetime(2026, 12, 6, 12, 0, tzinfo=UTC), False),  # Sunday
        ("+31612345678", "NL", datetime(2026, 12, 25, 12, 0, tzinfo=UTC), False),  # Christmas
        # The UK: 09:00-20:00 London time every day, Sunday and holidays included.
        ("+447400123456", "GB", datetime(2026, 12, 6, 12, 0, tzinfo=UTC), True),  # Sunday
        ("+447400123456", "GB", datetime(2026, 12, 25, 12, 0, tzinfo=UTC), True),
        ("+447400123456", "GB", datetime(2026, 12, 6, 20, 0, tzinfo=UTC), False),  # 20:00
        ("+447400123456", "GB", datetime(2026, 7, 6, 7, 30, tzinfo=UTC), False),  # BST 08:30
        ("+447400123456", "GB", datetime(2026, 7, 6, 8, 0, tzinfo=UTC), True),  # BST 09:00
        # Guernsey keeps the UK's hours, as it keeps its text.
        ("+447911123456", "GG", datetime(2026, 12, 6, 21, 0, tzinfo=UTC), False),
        # The US: 08:00-20:00 in the number's own zone (New York, UTC-5).
        ("+12015550123", "US", datetime(2026, 12, 2, 0, 30, tzinfo=UTC), True),  # 19:30
        ("+12015550123", "US", datetime(2026, 12, 2, 1, 30, tzinfo=UTC), False),  # 20:30
        ("+12015550123", "US", datetime(2026, 12, 2, 12, 30, tzinfo=UTC), False),  # 07:30
        # Canada: weekdays 09:00-17:00 in Toronto; never Saturday; Christmas is a holiday.
        ("+14165550123", "CA", datetime(2026, 12, 2, 15, 0, tzinfo=UTC), True),
        ("+14165550123", "CA", datetime(2026, 12, 2, 22, 30, tzinfo=UTC), False),
        ("+14165550123", "CA", datetime(2026, 12, 5, 15, 0, tzinfo=UTC), False),
        ("+14165550123", "CA", datetime(2026, 12, 25, 15, 0, tzinfo=UTC), False),
        # Australia and Spain: the research gives no hours.
        ("+61412345678", "AU", datetime(2026, 12, 6, 15, 0, tzinfo=UTC), True),
        ("+34612345678", "ES", datetime(2026, 12, 6, 3, 0, tzinfo=UTC), True),
    ],
)
def test_sending_hours_hold_marketing_in_the_recipients_local_time(
    rules, number, country, at, open_now
):
    assert (SendHours(rules, at).opens_at(country, number) is None) is open_now


# --- the rule's own check ------------------------------------------------------------
@pytest.mark.parametrize(
    "template, error",
    [
        ("Reply STOP to {shortcode}", "must contain {link}"),
        ("Opt out: {link}", "must contain {shortcode}"),
        ("Reply STOP", "must contain {shortcode} and {link}"),
        ("Reply STOP to {shortcode} or {url}", "Unknown placeholder {url}"),
        ("Reply STOP to {shortcode or {link}", "unmatched"),
    ],
)
def test_a_stop_and_link_rule_must_name_both(rules, template, error):
    rule = rules["ZA"]
    rule.template = template
    with pytest.raises(ValidationError, match=re.escape(error)):
        rule.full_clean()


def test_a_help_text_may_name_only_the_company_and_contact(rules):
    rule = rules["US"]
    rule.help_template = "{company} at {phone}"
    with pytest.raises(ValidationError, match=re.escape("Unknown placeholder {phone}")):
        rule.full_clean()


def test_staff_cannot_save_a_stop_and_link_rule_without_the_link(admin_client, rules):
    rule = rules["ZA"]
    response = admin_client.post(
        f"/admin/optout/countryrule/{rule.pk}/change/",
        {
            "country": "ZA",
            "method": "keyword_link",
            "shortcode": "31222",
            "template": "Reply STOP to {shortcode}",
            "send_hours": "{}",
        },
    )
    assert response.status_code == 200
    assert "The text must contain {link}" in response.content.decode()
    rule.refresh_from_db()
    assert rule.template == "Opt out: STOP to {shortcode} or {link}"


# --- the migration ---------------------------------------------------------------------
def test_the_migration_goes_back_to_the_earlier_rules(rules):
    CountryRule.objects.all().delete()
    for name in EARLIER_SEEDS:
        importlib.import_module(f"optout.migrations.{name}").seed(apps, None)
    fields = ["country", "method", "shortcode", "template", "one_tap", "send_hours",
              "skip_public_holidays", "help_template", "note"]  # fmt: skip
    before = list(CountryRule.objects.values(*fields))
    MIGRATION.seed(apps, None)
    assert CountryRule.objects.get(country="ZA").method == "keyword_link"
    MIGRATION.unseed(apps, None)
    assert list(CountryRule.objects.values(*fields)) == before
    assert not CountryRule.objects.filter(country="ES").exists()


def test_the_hours_migration_goes_back_to_any_time(rules):
    HOURS_MIGRATION.unseed(apps, None)
    for country in ("NL", "GB"):
        rule = CountryRule.objects.get(country=country)
        assert (rule.send_hours, rule.skip_public_holidays) == ({}, False)
    HOURS_MIGRATION.seed(apps, None)
    assert CountryRule.objects.get(country="NL").send_hours == EXPECTED["NL"][2]


# --- territories of a shared numbering plan --------------------------------------------
def test_the_mapping_covers_every_region_of_plus_44_and_plus_1():
    for code, country in ((44, "GB"), (1, "US")):
        regions = set(phonenumbers.region_codes_for_country_code(code)) - {country}
        assert {NUMBERING_PLAN_COUNTRY[r] for r in regions} == {country}


@pytest.mark.parametrize(
    "number, region, rule_of",
    [
        ("+447911123456", "GG", "GB"),  # read as Guernsey
        ("+447624123456", "IM", "GB"),
        ("+447797123456", "JE", "GB"),
        ("+447400123456", "GB", "GB"),
        ("+17875550123", "PR", "US"),  # Puerto Rico
        ("+13405550123", "VI", "US"),
        ("+16715550123", "GU", "US"),
        ("+18762345678", "JM", "US"),
        ("+14165550123", "CA", "CA"),  # Canada has a rule of its own
        ("+12015550123", "US", "US"),
        ("+33612345678", "FR", "FR"),
        ("+5511912345678", "BR", "ZZ"),  # no rule, no shared plan: the default
    ],
)
def test_a_territory_gets_the_rule_of_the_country_running_its_plan(rules, number, region, rule_of):
    assert country_of(number) == region
    assert rule_for_country(rules, region) == rules[rule_of]


def test_a_territory_with_a_rule_of_its_own_keeps_it(rules):
    CountryRule.objects.create(country="PR", method="link", template="Baja: {link}")
    assert rule_for_country(country_rules(), "PR").template == "Baja: {link}"


def test_one_tap_follows_the_plan_country(rules):
    CountryRule.objects.filter(country="US").update(one_tap=True)
    assert is_one_tap("PR") and is_one_tap("US") and not is_one_tap("GG")


# --- as the campaign engine composes messages -------------------------------------------
# A Wednesday afternoon: open in London, Johannesburg, Toronto and San Juan alike.
WEDNESDAY = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


def _send(company, *contacts) -> dict:
    """Send a campaign to these (phone, country) contacts; each number's SMS."""
    for phone, country in contacts:
        ContactFactory(company=company, phone=phone, country=country, first_name="Ada")
    campaign = CampaignFactory(company=company, body="Hi {{ first_name }}, beans today!")
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
    with time_machine.travel(WEDNESDAY, tick=False):
        run_campaign(campaign)
    return campaign


def test_a_south_african_sms_names_stop_to_the_shortcode_and_a_working_link(
    rules, company, outbox, client, post_inbound_sms
):
    _send(company, ("+27711234567", "ZA"))
    [sms] = outbox
    match = re.fullmatch(
        r"Hi Ada, beans today!\nOpt out: STOP to 31222 or (https://no-s\.test/\w{8})",
        sms.body,
    )
    assert match, sms.body
    link = urlsplit(match.group(1))
    landing = client.get(link.path, headers={"host": link.hostname})
    assert landing.status_code == 200
    assert company.name in landing.content.decode()

    # STOP to the shortcode the message names: out, and told so by SMS.
    outbox.clear()
    reply = post_inbound_sms(sender="27711234567", recipient="31222", text="STOP")
    assert reply.json()["status"] == "opted_out"
    assert Suppression.objects.filter(company=company, address="+27711234567").exists()
    [confirmation] = outbox
    assert confirmation.to == "+27711234567"
    assert confirmation.body == (
        "Acme Coffee: you are unsubscribed and will get no more marketing messages. "
        "Reply START to subscribe again."
    )


def test_territories_get_their_plan_countrys_text(rules, company, outbox):
    _send(
        company,
        ("+447911123456", "GG"),
        ("+17875550123", "PR"),
        ("+14165550123", "CA"),
    )
    bodies = {sms.to: sms.body for sms in outbox}
    assert bodies["+447911123456"] == "Hi Ada, beans today!\nReply STOP to 82228"
    assert re.fullmatch(
        r"Hi Ada, beans today!\nOpt out: STOP to 73981 or https://no-s\.test/\w{8}",
        bodies["+17875550123"],
    )
    assert re.fullmatch(
        r"Hi Ada, beans today!\nSTOP/ARRET to/au 55355 or/ou https://no-s\.test/\w{8}",
        bodies["+14165550123"],
    )


def test_a_guernsey_stop_to_the_uk_shortcode_opts_out(rules, company, outbox, post_inbound_sms):
    _send(company, ("+447911123456", "GG"))
    reply = post_inbound_sms(sender="447911123456", recipient="82228", text="STOP")
    assert reply.json()["status"] == "opted_out"
    assert Suppression.objects.filter(company=company, address="+447911123456").exists()


# --- HELP, in each country's own wording -----------------------------------------------
PLAIN = {
    "en": "Acme Coffee marketing messages. Help: help@acme.example. Reply STOP to unsubscribe.",
    "fr": "Messages promotionnels de Acme Coffee. Aide : help@acme.example. Répondez STOP "
    "pour vous désinscrire.",
    "nl": "Marketingberichten van Acme Coffee. Hulp: help@acme.example. Antwoord STOP om je "
    "af te melden.",
    "de": "Werbenachrichten von Acme Coffee. Hilfe: help@acme.example. Antworten Sie mit "
    "STOP, um sich abzumelden.",
    "es": "Mensajes de marketing de Acme Coffee. Ayuda: help@acme.example. Responda STOP "
    "para darse de baja.",
}
CTIA = (
    "Acme Coffee: marketing messages. Help: help@acme.example. Msg frequency varies. "
    "Msg&data rates may apply. Reply STOP to cancel."
)


@pytest.fixture
def help_line(company):
    company.help_contact = "help@acme.example"
    company.save()
    DedicatedNumber.objects.create(number="3197010000000", company=company)
    return "3197010000000"


@pytest.mark.parametrize(
    "sender, text, answer",
    [
        ("+12015550123", "HELP", CTIA),
        ("+17875550123", "HELP", CTIA),  # Puerto Rico: the US rule's
        ("+33612345678", "HELP", PLAIN["fr"]),
        ("+33612345678", "AIDE", PLAIN["fr"]),
        ("+31612345678", "HELP", PLAIN["nl"]),
        ("+4915123456789", "HILFE", PLAIN["de"]),
        ("+4915123456789", "HELP", PLAIN["de"]),
        ("+34612345678", "AYUDA", PLAIN["es"]),
        ("+447400123456", "HELP", PLAIN["en"]),
        ("+447911123456", "HELP", PLAIN["en"]),
        ("+27711234567", "HELP", PLAIN["en"]),
        ("+14165550123", "HELP", PLAIN["en"]),
        ("+14165550123", "AIDE", PLAIN["fr"]),  # Canada: French for AIDE
        ("+61412345678", "INFO", PLAIN["en"]),
    ],
)
def test_help_is_answered_in_the_countrys_own_wording(
    rules, help_line, post_inbound_sms, outbox, sender, text, answer
):
    response = post_inbound_sms(sender=sender, recipient=help_line, text=text)
    assert response.json()["status"] == "help"
    [reply] = outbox
    assert (reply.to, reply.body) == (sender, answer)


@pytest.mark.parametrize("sender", ["+33612345678", "+31612345678", "+4915123456789",
                                    "+447400123456", "+27711234567", "+14165550123"])  # fmt: skip
def test_no_us_boilerplate_outside_the_us(rules, help_line, post_inbound_sms, outbox, sender):
    post_inbound_sms(sender=sender, recipient=help_line, text="HELP")
    [reply] = outbox
    for boilerplate in ("rates", "Msg&data", "tarif", "Frais", "Kosten", "kosten", "frequency"):
        assert boilerplate not in reply.body


def test_a_help_text_staff_set_for_a_country_is_used(rules, help_line, post_inbound_sms, outbox):
    CountryRule.objects.filter(country="ZA").update(
        help_template="{company} SMS. Queries: {contact}. Reply STOP to opt out."
    )
    post_inbound_sms(sender="+27711234567", recipient=help_line, text="HELP")
    assert outbox[0].body == "Acme Coffee SMS. Queries: help@acme.example. Reply STOP to opt out."
