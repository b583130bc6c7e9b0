"""Reading the files marketers bring: any usual encoding and delimiter, any size, streamed."""

import codecs
import csv
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

SAMPLE_BYTES = 64 * 1024
MAX_LINE = 1024 * 1024  # longer lines are rejected without ever being held whole
TOO_LONG = "\x00line-too-long\x00"
ENCODINGS = {
    "utf-8-sig": "UTF-8",
    "utf-16": "UTF-16",
    "cp1252": "Windows-1252 (Western European)",
    "latin-1": "ISO-8859-1",
}
DELIMITERS = {",": "Comma", ";": "Semicolon", "\t": "Tab", "|": "Pipe"}

csv.field_size_limit(MAX_LINE)

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
# OWASP's remedy: a leading apostrophe. Cells already starting with apostrophes before one
# get one more, so that reading takes exactly one off and every value comes back as it was.
FORMULA = re.compile(r"'*[=+\-@\t\r]")
ESCAPED_FORMULA = re.compile(r"'+[=+\-@\t\r]")


def escape_formula(value: object) -> object:
    """A cell for a CSV we write: text a spreadsheet would run gets an apostrophe."""
    if isinstance(value, str) and FORMULA.match(value):
        return "'" + value
    return value


def unescape_formula(cell: str) -> str:
    """A cell read from a CSV: takes off the apostrophe ``escape_formula`` put there, so
    our own exports (``'+31…``) and other tools' import as they were."""
    return cell[1:] if ESCAPED_FORMULA.match(cell) else cell


class FileProblem(ValueError):
    """The file cannot be read as a contact list; the message says why and what to do."""


@dataclass(frozen=True)
class Format:
    encoding: str
    delimiter: str


def sniff(path: str | Path) -> Format:
    with open(path, "rb") as f:
        raw = f.read(SAMPLE_BYTES)
    if not raw.strip():
        raise FileProblem("The file is empty.")
    if raw.startswith(b"PK\x03\x04"):
        raise FileProblem(
            "This is a spreadsheet (XLSX) file. Save it as CSV (UTF-8) and upload that."
        )
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif raw.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif b"\x00" in raw:
        raise FileProblem("This is not a text file. Export your contacts as CSV and upload that.")
    else:
        encoding = "utf-8-sig" if _is_utf8(raw) else "cp1252"
    text = raw.decode(encoding, errors="replace")
    return Format(encoding=encoding, delimiter=_delimiter(text))


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A sample cut in the middle of a character is still UTF-8.
        return exc.start >= len(raw) - 3 and len(raw) == SAMPLE_BYTES
    return True


def _delimiter(text: str) -> str:
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _lines(f: TextIO) -> Iterator[str]:
    """Physical lines, none longer than MAX_LINE: an endless line becomes one marker."""
    while True:
        line = f.readline(MAX_LINE + 1)
        if not line:
            return
        if len(line) > MAX_LINE:
            while line and not line.endswith("\n"):
                line = f.readline(MAX_LINE)
            yield TOO_LONG + "\n"
            continue
        yield line


def read_rows(path: str | Path, fmt: Format) -> Iterator[list[str]]:
    """Every row, the header first. Undecodable bytes show as � so a wrong guess is seen."""
    with open(path, encoding=fmt.encoding, errors="replace", newline="") as f:
        reader = csv.reader(_lines(f), delimiter=fmt.delimiter)
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise FileProblem(f"Line {reader.line_num} cannot be read: {exc}.") from exc
            # PostgreSQL text cannot hold NUL characters; a file with some is damaged there.
            if row == [TOO_LONG]:
                yield row
            else:
                yield [unescape_formula(cell.replace("\x00", "")) for cell in row]


# Header names in en/fr/nl/de (and the usual CRM exports), folded as _fold() does.
ALIASES = {
    "phone": [
        "phone", "phonenumber", "mobile", "mobilephone", "mobilenumber", "cell", "cellphone",
        "gsm", "tel", "telephone", "telefoon", "telefoonnummer", "mobiel", "mobielnummer",
        "portable", "numero", "numerodetelephone", "telefon", "telefonnummer", "handy",
        "handynummer", "mobilnummer", "msisdn", "number",
    ],
    "email": ["email", "emailaddress", "mail", "courriel", "adressemail", "adresseemail",
              "emailadres", "mailadres", "emailadresse"],
    "first_name": ["firstname", "first", "givenname", "prenom", "voornaam", "vorname", "name"],
    "last_name": ["lastname", "last", "surname", "familyname", "nom", "nomdefamille",
                  "achternaam", "nachname", "familienname"],
    "country": ["country", "countrycode", "pays", "land", "landcode", "iso"],
}  # fmt: skip


def _fold(text: str) -> str:
    bare = unicodedata.normalize("NFKD", text.casefold())
    return re.sub(r"[^a-z0-9]", "", "".join(c for c in bare if not unicodedata.combining(c)))


def suggest_mapping(headers: list[str], custom: dict[str, str]) -> dict[str, str]:
    """Column index → field, from the header names; ``custom`` is {key: name}."""
    known = {alias: field for field, aliases in ALIASES.items() for alias in aliases}
    for key, name in custom.items():
        known[_fold(name)] = known[_fold(key)] = f"custom:{key}"
    mapping, taken = {}, set()
    for index, header in enumerate(headers):
        field = known.get(_fold(header))
        if field and field not in taken:
            mapping[str(index)] = field
            taken.add(field)
    return mapping
