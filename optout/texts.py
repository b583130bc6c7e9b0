"""A company's own opt-out text: where it may be used, and which text a message ends with.

A company may replace the standard text of a country rule with its own, as long as the way
out stays in it (compliance research, section 1: France, Belgium and South Africa's WASPA
code want the reply word STOP to a short number in the message; elsewhere the recipient's
own short link is the way out). So a text serves a destination only when it carries what
that destination's rule makes:

- ``link``: ``{link}``, the recipient's own short link;
- ``keyword``: ``{shortcode}`` and the reply word, written in capitals as it is to be sent
  (STOP, ARRET, …: any opt-out keyword understood from that country's numbers);
- ``keyword_link``: all of them;

and names nothing the destination leaves blank (``{link}`` where no link is made,
``{shortcode}`` where the rule has none), which would go out as an empty gap.

Which text a message gets: the company's most specific text that serves the destination,
of (country and language, country, language, all), for the recipient's country and the
language the platform speaks to it (``optout.languages.language_for``, as the landing page
and the STOP confirmation do); none, and the country rule's own. The rule's method alone
decides whether a link is made and a reply route noted.

A text for one country is refused unless it serves that country. A text for all countries
(or for one language in all countries) is accepted when it serves at least one destination
it applies to, and says which it cannot serve: those keep their standard text (or the
company's text for them). A company's text for a country the rule of which staff change
later is judged again at every send, never used where it no longer serves.
"""

import re
import string
from dataclasses import dataclass, field

import phonenumbers
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction

from addressbook.models import AuditEvent, Company
from addressbook.services.audit import record_audit

from .keywords import normalize_reply
from .languages import language_for
from .models import CompanyOptoutText, CountryRule, Keyword
from .selectors import country_rules, rule_for_country

PLACEHOLDERS = ("link", "shortcode", "company")
DEFAULT = CountryRule.DEFAULT_COUNTRY
Method = CountryRule.Method
LINK_METHODS = (Method.LINK, Method.KEYWORD_AND_LINK)
REPLY_METHODS = (Method.KEYWORD, Method.KEYWORD_AND_LINK)
MAX_LENGTH = CompanyOptoutText._meta.get_field("template").max_length
_WORD = re.compile(r"[^\W\d_]+")


class OptoutTextRefused(ValueError):
    """A text that cannot be saved; the message says what to change."""


def placeholders_of(template: str) -> set[str]:
    """The placeholders a text uses; raises ``OptoutTextRefused`` for any other."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        raise OptoutTextRefused(
            "A { or } is not closed. Placeholders are written {link}, {shortcode} and "
            "{company}; for a brace itself, write {{ or }}."
        ) from None
    names = set()
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            shown = "{" + name + "}" if name else "{}"
            raise OptoutTextRefused(
                f"{shown} is not a placeholder here: use {{link}}, {{shortcode}} or {{company}}."
            )
        if spec or conversion:
            raise OptoutTextRefused(f"Write the placeholder plainly, as {{{name}}}.")
        names.add(name)
    return names


def _capital_words(template: str) -> list[str]:
    """The words of the text outside its placeholders that are written in capitals."""
    words = []
    for literal, *_ in string.Formatter().parse(template):
        words += [w for w in _WORD.findall(literal) if len(w) > 1 and w.isupper()]
    return words


def fill(template: str, *, link: str, shortcode: str, company: str) -> str:
    return template.format(link=link, shortcode=shortcode, company=company)


def destination_label(country: str) -> str:
    return "Countries without a rule of their own" if country == DEFAULT else country


def method_label(rule: CountryRule) -> str:
    if rule.method == Method.LINK:
        return "a short link"
    if rule.method == Method.KEYWORD:
        return f"a reply to {rule.shortcode}"
    return f"a reply to {rule.shortcode} and a short link"


@dataclass(frozen=True)
class Footer:
    """The opt-out text of one destination: the company's own, or its rule's."""

    rule: CountryRule
    template: str
    company_name: str
    own: CompanyOptoutText | None = None  # None: the rule's standard text

    @property
    def makes_link(self) -> bool:
        return self.rule.method in LINK_METHODS

    @property
    def way_out(self) -> str:
        return method_label(self.rule)

    @property
    def reply_shortcode(self) -> str:
        """The shortcode a STOP reply goes to, for the reply route; "" for a link only."""
        return self.rule.shortcode if self.rule.method in REPLY_METHODS else ""

    def text(self, link: str = "") -> str:
        return fill(
            self.template,
            link=link if self.makes_link else "",
            shortcode=self.rule.shortcode,
            company=self.company_name,
        )


@dataclass
class OptoutTexts:
    """One company's opt-out texts with the rules and reply words they are judged by.

    Loaded once (three queries) for a campaign, a chunk of messages or a page; every
    message's footer is then found in memory, once per destination country.
    """

    company_name: str
    rules: dict[str, CountryRule]
    stop_words: list[Keyword]
    texts: dict[tuple[str, str], CompanyOptoutText]
    _footers: dict[str, Footer] = field(default_factory=dict, repr=False)
    _words: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)

    # --- judging a text ----------------------------------------------------------
    def words_for(self, country: str) -> frozenset[str]:
        """The opt-out keywords a reply from this country's numbers is understood by."""
        if country not in self._words:
            self._words[country] = frozenset(
                {word for word, action in Keyword.PROTECTED.items() if action == "stop"}
                | {
                    k.word
                    for k in self.stop_words
                    if not k.countries
                    or country in {c.strip().upper() for c in k.countries.split(",")}
                }
            )
        return self._words[country]

    def shortfall(self, template: str, country: str) -> str:
        """What the text lacks for this destination ("" when it serves it), as a sentence."""
        rule = rule_for_country(self.rules, country)
        names = placeholders_of(template)
        needs, remove = [], []
        if rule.method in LINK_METHODS and "link" not in names:
            needs.append("{link}")
        if rule.method in REPLY_METHODS:
            if "shortcode" not in names:
                needs.append("{shortcode}")
            words = self.words_for(rule.country if rule.country != DEFAULT else country)
            if not any(normalize_reply(w) in words for w in _capital_words(template)):
                needs.append(f"the reply word in capitals, as in “{self.example_word(rule)}”")
        if "link" in names and rule.method not in LINK_METHODS:
            remove.append("{link} (no link is made there)")
        if "shortcode" in names and not rule.shortcode:
            remove.append("{shortcode} (there is none to reply to)")
        if not needs and not remove:
            return ""
        where = f"{destination_label(country)} ({method_label(rule)})"
        said = []
        if needs:
            said.append("needs " + " and ".join(needs))
        if remove:
            said.append("cannot fill " + " or ".join(remove))
        return f"{where} {'; it '.join(said)}."

    def example_word(self, rule: CountryRule) -> str:
        words = self.words_for(rule.country)
        found = [w for w in _capital_words(rule.template) if normalize_reply(w) in words]
        return found[0] if found else "STOP"

    # --- choosing a text ---------------------------------------------------------
    def footer(self, country: str) -> Footer:
        """The opt-out text a marketing SMS to a number of ``country`` ends with."""
        if country not in self._footers:
            self._footers[country] = self._choose(country)
        return self._footers[country]

    def _candidates(self, country: str) -> list[tuple[str, str]]:
        """Where a text for this destination may come from, most specific first."""
        rule = rule_for_country(self.rules, country)
        language = language_for(country=country)
        countries = [c for c in dict.fromkeys([country, rule.country]) if c and c != DEFAULT]
        return [
            *((c, lang) for c in countries for lang in (language, "")),
            ("", language),
            ("", ""),
        ]

    def _choose(self, country: str) -> Footer:
        rule = rule_for_country(self.rules, country)
        for where in self._candidates(country):
            own = self.texts.get(where)
            if own is not None and self.serves(own.template, country):
                return Footer(rule, own.template, self.company_name, own)
        return Footer(rule, rule.template, self.company_name)

    def serves(self, template: str, country: str) -> bool:
        try:
            return not self.shortfall(template, country)
        except OptoutTextRefused:  # a text today's checks refuse is never sent
            return False

    def destinations(self) -> list[str]:
        """Every country with a rule or a text of the company's own, then everywhere else."""
        countries = {*self.rules, *(country for country, _ in self.texts if country)}
        return sorted(countries - {DEFAULT}) + [DEFAULT]

    def with_text(self, text: CompanyOptoutText) -> "OptoutTexts":
        """These texts with ``text`` saved in its place (as it would be, replacing one)."""
        texts = {where: t for where, t in self.texts.items() if text.pk is None or t.pk != text.pk}
        texts[(text.country, text.language)] = text
        return OptoutTexts(self.company_name, self.rules, self.stop_words, texts)


def optout_texts(*, company: Company) -> OptoutTexts:
    stop_words = list(Keyword.objects.filter(action=Keyword.Action.STOP))
    texts = {(t.country, t.language): t for t in CompanyOptoutText.objects.filter(company=company)}
    return OptoutTexts(company.name, country_rules(), stop_words, texts)


# --- checking and saving a company's text --------------------------------------------
@dataclass(frozen=True)
class TextCheck:
    """Where a text would be used, once saved, and where it could not be."""

    used_in: list[str]  # destinations whose SMS would end with it
    unserved: dict[str, str]  # destination -> what the text lacks there
    covered: list[str]  # destinations that keep a more specific text of the company's

    @property
    def notice(self) -> str:
        if not self.unserved:
            return ""
        names = ", ".join(destination_label(c) for c in self.unserved)
        return f"Not used for {names}: they keep their standard text. " + " ".join(
            self.unserved.values()
        )


def language_choices() -> list[tuple[str, str]]:
    return [("", "All languages"), *settings.LANGUAGES]


def check_optout_text(*, texts: OptoutTexts, text: CompanyOptoutText) -> TextCheck:
    """Whether ``text`` may be saved among the company's others; raises
    ``OptoutTextRefused`` saying why not."""
    template = text.template.strip()
    if not template:
        raise OptoutTextRefused("Write the text.")
    if len(template) > MAX_LENGTH:
        raise OptoutTextRefused(f"Keep it to {MAX_LENGTH} characters; this is {len(template)}.")
    placeholders_of(template)
    country, language = text.country, text.language
    if country and (country == DEFAULT or country not in phonenumbers.SUPPORTED_REGIONS):
        raise OptoutTextRefused(f"“{country}” is not a two-letter country code such as NL or FR.")
    if language and language not in dict(settings.LANGUAGES):
        raise OptoutTextRefused(f"“{language}” is not a language of the landing page.")
    if country and language and language_for(country=country) != language:
        spoken = dict(settings.LANGUAGES)[language_for(country=country)]
        raise OptoutTextRefused(
            f"Numbers of {country} are written to in {spoken}: a text in "
            f"{dict(settings.LANGUAGES)[language]} for {country} would never be sent. "
            f"Choose {spoken} or all languages."
        )
    if country:
        if problem := texts.shortfall(template, country):
            raise OptoutTextRefused(f"It would leave no way out: {problem}")
        return TextCheck(used_in=[country], unserved={}, covered=[])
    with_it = texts.with_text(text)
    used, unserved, covered = [], {}, []
    for destination in _destinations_of(texts, language):
        if _more_specific_serves(with_it, destination, text):
            covered.append(destination)
        elif problem := texts.shortfall(template, destination):
            unserved[destination] = problem
        else:
            used.append(destination)
    if not used:
        raise OptoutTextRefused(
            "It would serve no country: "
            + " ".join(unserved.values())
            + (" The others have a text of their own." if covered else "")
        )
    return TextCheck(used_in=used, unserved=unserved, covered=covered)


def _destinations_of(texts: OptoutTexts, language: str) -> list[str]:
    """The destinations a text for all countries, in ``language`` (or all), applies to.

    Everywhere else (``ZZ``) always: its countries speak every language.
    """
    return [
        c
        for c in texts.destinations()
        if not language or c == DEFAULT or language_for(country=c) == language
    ]


def _more_specific_serves(texts: OptoutTexts, destination: str, text: CompanyOptoutText) -> bool:
    if destination == DEFAULT:
        return False  # no country text covers every country without a rule
    for where in texts._candidates(destination):
        if where == (text.country, text.language):
            return False
        own = texts.texts.get(where)
        if own is not None and texts.serves(own.template, destination):
            return True
    return False


def _where(text: CompanyOptoutText) -> str:
    country = text.country or "all countries"
    language = dict(settings.LANGUAGES).get(text.language, "all languages")
    return f"Opt-out text for {country}, {language}"


def save_optout_text(
    *,
    company: Company,
    actor: AbstractBaseUser,
    ip: str | None = None,
    country: str,
    language: str,
    template: str,
    text: CompanyOptoutText | None = None,
) -> tuple[CompanyOptoutText, TextCheck]:
    """Add a text, or change ``text``; audited. Raises ``OptoutTextRefused``."""
    before = ("", "", "") if text is None else (text.country, text.language, text.template)
    if text is None:
        text = CompanyOptoutText(company=company)
    text.country, text.language = country.strip().upper(), language
    text.template = template.strip()
    check = check_optout_text(texts=optout_texts(company=company), text=text)
    if (text.country, text.language, text.template) == before:
        return text, check
    taken = CompanyOptoutText.objects.filter(
        company=company, country=text.country, language=text.language
    ).exclude(pk=text.pk)
    if taken.exists():
        raise OptoutTextRefused(f"There is a text for this already ({_where(text)}): edit it.")
    try:
        with transaction.atomic():
            text.save()
            record_audit(
                company=company,
                action=AuditEvent.Action.COMPANY_CHANGED,
                actor=actor,
                obj=text,
                target=_where(text),
                details={"from": before[2] or "—", "to": text.template},
                ip=ip,
            )
    except IntegrityError:  # saved by someone else meanwhile
        raise OptoutTextRefused(
            f"There is a text for this already ({_where(text)}): edit it."
        ) from None
    return text, check


def remove_optout_text(
    *, text: CompanyOptoutText, actor: AbstractBaseUser, ip: str | None = None
) -> None:
    with transaction.atomic():
        record_audit(
            company=text.company,
            action=AuditEvent.Action.COMPANY_CHANGED,
            actor=actor,
            obj=text,
            target=_where(text),
            details={"from": text.template, "to": "— (the standard text)"},
            ip=ip,
        )
        CompanyOptoutText.objects.filter(company=text.company, pk=text.pk).delete()
