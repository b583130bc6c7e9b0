"""Reading the files marketers bring: any usual encoding and delimiter, any size, streamed."""

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

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
        yield from _cells(csv.reader(_lines(f), delimiter=fmt.delimiter))


def _cells(reader) -> Iterator[list[str]]:
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


# Encodings in which a line break is the byte \n or \r and never part of a character, so
# that every line decodes alone and a row can be found again by its byte offset. UTF-16
# cannot: its rows are found by counting from the start.
SEEKABLE = {"utf-8-sig": 4, "cp1252": 1, "latin-1": 1}  # at most this many bytes a character


class _ByteLines:
    """The physical lines of ``[start, end)`` of a file, decoded as ``_lines`` gives them,
    with ``offset``: the byte where the next line starts.

    Read as Latin-1, one character per byte, with the text reader's own line splitting
    (\n, \r\n or \r), so a line's length is its size in bytes; each line is then decoded
    in the file's encoding.
    """

    def __init__(self, f: BinaryIO, encoding: str, start: int = 0, end: int | None = None):
        f.seek(start)
        self._text = io.TextIOWrapper(f, encoding="latin-1", newline="")
        # A byte-order mark is only at the very start of the file.
        self._encoding = "utf-8" if encoding == "utf-8-sig" and start else encoding
        self._limit = SEEKABLE[encoding] * (MAX_LINE + 1)
        self.offset, self._end = start, end

    def _readline(self, size: int) -> str:
        line = self._text.readline(size)
        self.offset += len(line)
        return line

    def __iter__(self) -> Iterator[str]:
        while self._end is None or self.offset < self._end:
            raw = self._readline(self._limit + 1)
            if not raw:
                return
            line = raw.encode("latin-1").decode(self._encoding, errors="replace")
            self._encoding = "utf-8" if self._encoding == "utf-8-sig" else self._encoding
            if len(raw) > self._limit or len(line) > MAX_LINE:
                while raw and not raw.endswith("\n"):
                    raw = self._readline(self._limit)
                yield TOO_LONG + "\n"
                continue
            yield line


def row_starts(path: str | Path, fmt: Format, every: int) -> tuple[int, list[tuple[int, int]]]:
    """How many data rows the file has, and where data rows 1, every + 1, 2·every + 1, …
    start: (row number, byte offset), the offset 0 in an encoding that is not SEEKABLE.

    Offsets are where the CSV reader's rows begin, not lines: a quoted value may hold
    line breaks. Rows are numbered as ``read_rows`` gives them after the header, blank
    ones included.
    """
    starts: list[tuple[int, int]] = []
    number = -1  # the header is row 0
    with open(path, "rb") as f:
        if fmt.encoding in SEEKABLE:
            lines = _ByteLines(f, fmt.encoding)
            reader = csv.reader(lines, delimiter=fmt.delimiter)
        else:
            text = io.TextIOWrapper(f, encoding=fmt.encoding, errors="replace", newline="")
            lines, reader = None, csv.reader(_lines(text), delimiter=fmt.delimiter)
        while True:
            offset = lines.offset if lines else 0
            try:
                next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raise FileProblem(f"Line {reader.line_num} cannot be read: {exc}.") from exc
            number += 1
            if number and (number - 1) % every == 0:
                starts.append((number, offset))
    return max(number, 0), starts


def read_rows_at(path: str | Path, fmt: Format, start: int, end: int) -> Iterator[list[str]]:
    """The rows in bytes ``[start, end)`` of a file in a SEEKABLE encoding, both offsets
    from ``row_starts`` (or the file's size), as ``read_rows`` gives them."""
    with open(path, "rb") as f:
        lines = _ByteLines(f, fmt.encoding, start, end)
        yield from _cells(csv.reader(lines, delimiter=fmt.delimiter))


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
