"""The message catalogues: complete, compiled, and faithful to the English placeholders.

The .mo files are build output: run bin/compile-messages after editing a .po file.
"""

import re
from collections import Counter
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

LOCALE_DIR = Path(settings.LOCALE_PATHS[0])
LANGUAGES = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]

# %(name)s and %s / %d style, as used by gettext() % {...} and {% blocktranslate %}.
PERCENT = re.compile(r"%(?:\(\w+\))?[sdif]")
# str.format() fields and leftover template variables: {name}, {0}, {{ name }}.
BRACES = re.compile(r"\{\{.*?\}\}|\{\w*\}")
HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
# The SMS keywords that actually work: they must stay in English capitals.
KEYWORDS = re.compile(r"\b(?:STOP|START)\b")

pytestmark = pytest.mark.parametrize("lang", LANGUAGES)


def _po(lang: str) -> polib.POFile:
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "django.po"
    assert path.is_file(), f"{path} is missing"
    return polib.pofile(str(path))


def _messages(mo: polib.MOFile) -> dict[tuple[str | None, str], str | dict[int, str]]:
    return {(e.msgctxt, e.msgid): e.msgstr_plural or e.msgstr for e in mo}


def test_po_is_complete(lang):
    po = _po(lang)
    assert len(po) > 0
    assert not po.metadata_is_fuzzy, "remove the fuzzy flag from the header"
    assert po.metadata.get("Language") == lang
    assert [e.msgid for e in po.fuzzy_entries()] == []
    assert [e.msgid for e in po.untranslated_entries()] == []


def test_mo_is_up_to_date(lang):
    po = _po(lang)
    mo_path = LOCALE_DIR / lang / "LC_MESSAGES" / "django.mo"
    assert mo_path.is_file(), f"{mo_path} is missing: run bin/compile-messages"
    expected = polib.mofile(po.to_binary())
    on_disk = polib.mofile(str(mo_path))
    assert _messages(on_disk) == _messages(expected), "stale .mo: run bin/compile-messages"
    assert on_disk.metadata == expected.metadata, "stale .mo: run bin/compile-messages"


def test_placeholders_tags_and_keywords_are_kept(lang):
    problems = []
    for entry in _po(lang).translated_entries():
        for pattern in (PERCENT, BRACES, HTML_TAG, KEYWORDS):
            if entry.msgid_plural:
                # A plural form may leave out the count ("one message"), never add anything.
                allowed = set(pattern.findall(entry.msgid + entry.msgid_plural))
                for msgstr in entry.msgstr_plural.values():
                    if extra := set(pattern.findall(msgstr)) - allowed:
                        problems.append(f"{entry.msgid!r}: unexpected {sorted(extra)}")
            else:
                wanted = Counter(pattern.findall(entry.msgid))
                got = Counter(pattern.findall(entry.msgstr))
                if got != wanted:
                    problems.append(f"{entry.msgid!r}: expected {dict(wanted)}, got {dict(got)}")
    assert problems == []


def test_django_serves_the_translation(lang):
    with translation.override(lang):
        translated = gettext("You're unsubscribed")
    assert translated == _po(lang).find("You're unsubscribed").msgstr
    assert translated != "You're unsubscribed"
