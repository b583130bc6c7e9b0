import pytest

from campaigns.segments import (
    GSM_BASIC,
    GSM_EXTENSION,
    LOOKALIKES,
    SegmentCount,
    count_segments,
    replace_lookalikes,
)

EMOJI = "\U0001f600"  # 😀, outside the Basic Multilingual Plane: a surrogate pair
FOOTER = " Reply STOP to opt out: https://no-s.test/u/Ab3dE7fG"
OFFER = (
    "Hi Anna, our autumn sale starts Friday: 20% off all beans & brewers [online + in store],"
    " €5 off your next order over €25. See you soon!"
)


def test_gsm_tables():
    assert len(GSM_BASIC) == 127  # 128 code points, one of them the escape
    assert len(GSM_EXTENSION) == 10
    assert not GSM_BASIC & GSM_EXTENSION
    assert "\x1b" not in GSM_BASIC
    printable_ascii = {chr(code) for code in range(0x20, 0x7F)}
    assert printable_ascii - GSM_BASIC - GSM_EXTENSION == {"`"}
    assert {"é", "Ç", "\n", "\r", "Δ", "¤"} <= GSM_BASIC
    assert not {"ç", "á", "í", "ó", "ú", "â", "ê", "`"} & (GSM_BASIC | GSM_EXTENSION)


def test_lookalikes_replace_only_non_gsm_characters_with_gsm_text():
    gsm = GSM_BASIC | GSM_EXTENSION
    assert not set(LOOKALIKES) & gsm
    assert all(set(stand_in) <= gsm for stand_in in LOOKALIKES.values())


def test_empty_text():
    assert count_segments("") == SegmentCount(
        encoding="GSM-7",
        units=0,
        parts=0,
        per_part=160,
        remaining=160,
        ucs2_characters=(),
        replaceable=(),
    )


@pytest.mark.parametrize(
    ("text", "encoding", "units", "parts", "per_part", "remaining"),
    [
        pytest.param("a", "GSM-7", 1, 1, 160, 159, id="one-letter"),
        pytest.param("a" * 160, "GSM-7", 160, 1, 160, 0, id="gsm-full-part"),
        pytest.param("a" * 161, "GSM-7", 161, 2, 153, 145, id="gsm-one-over"),
        pytest.param("a" * 306, "GSM-7", 306, 2, 153, 0, id="gsm-two-full-parts"),
        pytest.param("a" * 307, "GSM-7", 307, 3, 153, 152, id="gsm-three-parts"),
        pytest.param("é" * 160, "GSM-7", 160, 1, 160, 0, id="basic-accent-is-gsm"),
        pytest.param("€" * 80, "GSM-7", 160, 1, 160, 0, id="extension-full-part"),
        # 76 pairs (152 septets) fill part 1; the 77th does not fit in the last septet.
        pytest.param("€" * 81, "GSM-7", 162, 2, 153, 143, id="extension-two-parts"),
        pytest.param("a" * 152 + "€", "GSM-7", 154, 1, 160, 6, id="pair-fits-single-part"),
        # Part 1 holds 152 septets; the pair starts part 2 (2 + 7 = 9 used there).
        pytest.param("a" * 152 + "€" + "a" * 7, "GSM-7", 161, 2, 153, 144, id="pair-moves"),
        # 306 septets would fit two parts, but the moved pair pushes one letter to a third.
        pytest.param("a" * 152 + "€" + "a" * 152, "GSM-7", 306, 3, 153, 152, id="pair-adds-part"),
        pytest.param("ç" * 70, "UCS-2", 70, 1, 70, 0, id="ucs2-full-part"),
        pytest.param("ç" * 71, "UCS-2", 71, 2, 67, 63, id="ucs2-one-over"),
        pytest.param("ç" * 134, "UCS-2", 134, 2, 67, 0, id="ucs2-two-full-parts"),
        pytest.param("ç" * 135, "UCS-2", 135, 3, 67, 66, id="ucs2-three-parts"),
        pytest.param("a" * 68 + "ç", "UCS-2", 69, 1, 70, 1, id="one-char-switches-all"),
        pytest.param(EMOJI, "UCS-2", 2, 1, 70, 68, id="emoji-two-units"),
        pytest.param("a" * 66 + EMOJI, "UCS-2", 68, 1, 70, 2, id="emoji-fits-single-part"),
        pytest.param("a" * 68 + EMOJI, "UCS-2", 70, 1, 70, 0, id="emoji-ends-single-part"),
        pytest.param("a" * 69 + EMOJI, "UCS-2", 71, 2, 67, 63, id="emoji-after-boundary"),
        # Part 1 holds 66 units; the surrogate pair starts part 2 (2 + 3 = 5 used there).
        pytest.param("a" * 66 + EMOJI + "a" * 3, "UCS-2", 71, 2, 67, 62, id="emoji-moves"),
        # 134 units would fit two parts, but the moved pair pushes one letter to a third.
        pytest.param("a" * 66 + EMOJI + "a" * 66, "UCS-2", 134, 3, 67, 66, id="emoji-adds-part"),
        pytest.param(OFFER + FOOTER, "GSM-7", 191, 2, 153, 115, id="offer-with-link"),
    ],
)
def test_count_segments(text, encoding, units, parts, per_part, remaining):
    count = count_segments(text)
    assert (count.encoding, count.units, count.parts) == (encoding, units, parts)
    assert (count.per_part, count.remaining) == (per_part, remaining)


@pytest.mark.parametrize(
    ("text", "ucs2_characters", "replaceable"),
    [
        pytest.param("café", (), (), id="gsm-text"),
        pytest.param("Ça va, garçon?", ("ç",), (("ç", "Ç"),), id="lowercase-cedilla"),
        pytest.param(
            "It’s “fine”",
            ("’", "“", "”"),
            (("’", "'"), ("“", '"'), ("”", '"')),
            id="curly-quotes",
        ),
        pytest.param(
            f"Sale {EMOJI} ends “soon”… Ðone",
            (EMOJI, "“", "”", "…", "Ð"),
            (("“", '"'), ("”", '"'), ("…", "...")),
            id="only-some-replaceable",
        ),
        pytest.param(
            "10\u00a0€\u200b",
            ("\u00a0", "\u200b"),
            (("\u00a0", " "), ("\u200b", "")),
            id="invisible-spaces",
        ),
    ],
)
def test_count_segments_names_ucs2_characters(text, ucs2_characters, replaceable):
    count = count_segments(text)
    assert count.ucs2_characters == ucs2_characters
    assert count.replaceable == replaceable
    assert count.encoding == ("UCS-2" if ucs2_characters else "GSM-7")


@pytest.mark.parametrize(
    ("text", "replaced"),
    [
        pytest.param("It’s “fine”", 'It\'s "fine"', id="curly-quotes"),
        pytest.param("‘a’ ‚b‛ 5′ ‹c›", "'a' 'b' 5' 'c'", id="single-quotes"),
        pytest.param("„a‟ 5″ «b»", '"a" 5" "b"', id="double-quotes"),
        pytest.param("9–5 — a‒b −3 • x", "9-5 - a-b -3 - x", id="dashes-and-bullet"),
        pytest.param("Wait…", "Wait...", id="ellipsis"),
        pytest.param("a\u00a0b\u2003c\u202fd\u205fe\u3000f", "a b c d e f", id="spaces"),
        pytest.param("\ufeffzero\u200bwidth", "zerowidth", id="zero-width-removed"),
        pytest.param("2×3", "2x3", id="times"),
        pytest.param("garçon", "garÇon", id="cedilla"),
        pytest.param("áíóú âêîôû ëï ãõ", "aiou aeiou ei ao", id="lowercase-accents"),
        pytest.param("ÁÍÓÚ ÂÊÎÔÛ ËÏ ÃÕ ÀÈÌÒÙ", "AIOU AEIOU EI AO AEIOU", id="uppercase-accents"),
        pytest.param("éèàùìò ÉÇÄÖÑÜ €[]", "éèàùìò ÉÇÄÖÑÜ €[]", id="gsm-untouched"),
        pytest.param(f"Hi {EMOJI}", f"Hi {EMOJI}", id="no-stand-in-untouched"),
    ],
)
def test_replace_lookalikes(text, replaced):
    assert replace_lookalikes(text) == replaced


def test_replacing_lookalikes_makes_curly_quote_text_gsm():
    text = "It’s “fine”"
    assert count_segments(text).encoding == "UCS-2"

    count = count_segments(replace_lookalikes(text))
    assert replace_lookalikes(text) == 'It\'s "fine"'
    assert (count.encoding, count.units, count.parts) == ("GSM-7", 11, 1)
    assert count.ucs2_characters == ()


def test_replacing_every_lookalike_gives_gsm():
    count = count_segments(replace_lookalikes("".join(LOOKALIKES)))
    assert count.encoding == "GSM-7"
    assert count.ucs2_characters == ()


def test_one_pasted_apostrophe_triples_the_cost_of_an_offer():
    text = OFFER.replace("See you", "It’s on us. See you") + FOOTER
    count = count_segments(text)
    assert (count.encoding, count.units, count.parts, count.remaining) == ("UCS-2", 199, 3, 2)
    assert count.replaceable == (("’", "'"),)

    fixed = count_segments(replace_lookalikes(text))
    assert (fixed.encoding, fixed.units, fixed.parts, fixed.remaining) == ("GSM-7", 203, 2, 103)


def test_an_accent_typed_as_a_separate_mark_stays_gsm7():
    decomposed = "Caf" + "e\u0301" + " ouvert"  # as pasted from some keyboards
    count = count_segments(decomposed)
    assert (count.encoding, count.units) == ("GSM-7", len("Café ouvert"))
    assert replace_lookalikes(decomposed) == "Café ouvert"


def test_the_sent_body_is_composed_like_the_count():
    from campaigns.personalize import compile_body, compose_sms

    body = compose_sms(compile_body("Caf" + "e\u0301 {{ first_name }}"), {"first_name": "Zoe"}, "")
    assert body.startswith("Café Zoe") and count_segments(body).encoding == "GSM-7"
