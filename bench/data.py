"""A messy, realistic contact file: mixed countries and formats, accents, bad rows.

Every number is generated from the region's example mobile number with its last digits
varied, keeping only what ``phonenumbers.is_valid_number`` accepts. Pools are drawn per
region up front, so a million rows cost one validation per pooled number and no more.
"""

import csv
import random
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import phonenumbers
from phonenumbers import PhoneNumberFormat as Fmt

REGIONS = ("NL", "FR", "GB", "DE", "BE", "ZA", "US", "ES")
DEFAULT_REGION = "NL"  # the bench company's default_country
HEADER = ["First name", "Last name", "Email", "Phone", "Country"]

FIRST = [
    "Zoë", "François", "Anaïs", "Jürgen", "Søren", "José", "Łukasz", "Chloé", "Noël",
    "Renée", "Björn", "Inés", "Thandiwe", "Siobhán", "Émile", "Ådne", "Mia", "Liam",
    "Daan", "Sanne", "Ngozi", "Zoltán", "Åsa", "Dvořák", "Maëlle", "Ömer",
]  # fmt: skip
LAST = [
    "Müller", "Dubois", "van der Berg", "O'Brien", "García", "Nkosi", "Lefèvre",
    "Schröder", "Peña", "Janssens", "Smith", "de Vries", "Çelik", "Østergaard", "Brontë",
    "Żółkiewski", "Ngcobo", "Fernández", "Le Goff", "Van Damme", "Nuñez", "Weiß",
]  # fmt: skip
DOMAINS = ["example.com", "Example.NL", "mail.example.fr", "EXAMPLE.co.uk", "example.de"]
GARBAGE = ["n/a", "unknown", "-", "tel", "see email", "0", "+", "###", "?"]

# Out of every 100 rows (spread evenly by a stride through the residues):
INVALID, DUPLICATE, OPTED_OUT = 5, 5, 2
STRIDE = 37  # coprime with 100


@dataclass
class Generated:
    path: Path
    rows: int
    phones: list[tuple[str, str]] = field(repr=False)  # (phone cell, country cell) per row
    suppressed: list[str] = field(repr=False)  # E.164 numbers to opt out beforehand
    expected: dict[str, int] = field(default_factory=dict)


def _ascii(text: str) -> str:
    bare = unicodedata.normalize("NFKD", text)
    return "".join(c for c in bare if c.isascii() and c.isalnum()).lower()


def _pool(region: str, size: int, rng: random.Random) -> list[phonenumbers.PhoneNumber]:
    """``size`` distinct valid mobile numbers of ``region``, in random order."""
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    nsn = phonenumbers.national_significant_number(example)
    pool: list[phonenumbers.PhoneNumber] = []
    for varied in (6, 7):
        prefix, space = nsn[:-varied], 10**varied
        for tail in rng.sample(range(space), min(space, max(size * 2, 1000))):
            number = phonenumbers.PhoneNumber(
                country_code=example.country_code,
                national_number=int(f"{prefix}{tail:0{varied}d}"),
            )
            if phonenumbers.is_valid_number(number):
                pool.append(number)
                if len(pool) == size:
                    return pool
        pool.clear()  # too few valid with 6 digits varied: vary one more
    raise RuntimeError(f"Cannot draw {size} valid {region} numbers")


def _write_valid(number: phonenumbers.PhoneNumber, region: str, rng: random.Random):
    """The number as a person would have typed it, and the country cell beside it."""
    pick = rng.random()
    country = region if rng.random() < 0.5 else ""
    if pick < 0.30:
        return phonenumbers.format_number(number, Fmt.E164), country
    if pick < 0.55:
        return phonenumbers.format_number(number, Fmt.INTERNATIONAL), country
    if pick < 0.70:
        return "00" + phonenumbers.format_number(number, Fmt.E164)[1:], country
    national = phonenumbers.format_number(number, Fmt.NATIONAL)
    if pick >= 0.90:
        national = "".join(c for c in national if c.isdigit())
    # National numbers need their region: the country column, or the default (NL) blank.
    return national, ("" if region == DEFAULT_REGION and country == "" else region)


def _write_invalid(pools: dict, rng: random.Random) -> tuple[str, str]:
    pick = rng.random()
    region = rng.choice(REGIONS)
    if pick < 0.4:  # digits missing
        nsn = phonenumbers.national_significant_number(rng.choice(pools[region]))
        code = phonenumbers.country_code_for_region(region)
        return f"+{code} {nsn[:-3]}", ""
    if pick < 0.6:  # digits too many
        nsn = phonenumbers.national_significant_number(rng.choice(pools[region]))
        return f"0{nsn}{rng.randrange(1000, 9999)}", region
    if pick < 0.8:  # no such country code
        return f"+999 {rng.randrange(10**8, 10**9)}", ""
    return rng.choice(GARBAGE), region if rng.random() < 0.5 else ""


def generate(path: Path, rows: int, seed: int = 20260101) -> Generated:
    rng = random.Random(seed)
    fresh_share = (100 - INVALID - DUPLICATE) / 100
    per_region = int(rows * fresh_share / len(REGIONS) * 1.3) + 50
    pools = {r: _pool(r, per_region, rng) for r in REGIONS}
    cursor = dict.fromkeys(REGIONS, 0)
    taken: list[tuple[phonenumbers.PhoneNumber, str]] = []
    phones: list[tuple[str, str]] = []
    suppressed: list[str] = []
    expected = dict.fromkeys(("fresh", "invalid", "duplicate", "opted_out"), 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for i in range(rows):
            slot = (i * STRIDE) % 100
            first, last = rng.choice(FIRST), rng.choice(LAST)
            if slot < INVALID:
                phone, country = _write_invalid(pools, rng)
                expected["invalid"] += 1
            elif slot < INVALID + DUPLICATE and taken:
                number, region = rng.choice(taken)
                phone, country = _write_valid(number, region, rng)
                expected["duplicate"] += 1
            else:
                region = rng.choice(REGIONS)
                number = pools[region][cursor[region]]
                cursor[region] += 1
                taken.append((number, region))
                phone, country = _write_valid(number, region, rng)
                if INVALID + DUPLICATE <= slot < INVALID + DUPLICATE + OPTED_OUT:
                    suppressed.append(phonenumbers.format_number(number, Fmt.E164))
                    expected["opted_out"] += 1
                expected["fresh"] += 1
            email = ""
            if rng.random() < 0.9:
                email = f"{_ascii(first)}.{_ascii(last)}.{i}@{rng.choice(DOMAINS)}"
            writer.writerow([first, last, email, phone, country])
            phones.append((phone, country))
    return Generated(path, rows, phones, suppressed, expected)
