"""Contacts out as CSV, streamed row by row: a million contacts never sit in memory."""

import csv
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

from .csvfiles import escape_formula
from .models import Contact, CustomField

HEADER = ["First name", "Last name", "Phone", "Email", "Country", "Groups"]


class _Echo:
    def write(self, value: str) -> str:
        return value


class _LineWriter:
    def __init__(self):
        self._writer = csv.writer(_Echo())

    def writerow(self, row: Iterable[object]) -> str:
        return self._writer.writerow([escape_formula(value) for value in row])


def line_writer() -> _LineWriter:
    """A csv writer whose writerow() returns the line, for streamed responses; every CSV
    the product writes goes through it, so no cell is run by a spreadsheet."""
    return _LineWriter()


def contacts_csv(contacts: QuerySet[Contact], fields: list[CustomField]) -> Iterator[str]:
    """CSV lines; ``contacts`` may carry an ``opted_out`` annotation, shown as Status."""
    writer = line_writer()
    yield "\ufeff"  # spreadsheet programs read the accents right with a BOM
    yield writer.writerow([*HEADER, *(f.name for f in fields), "Status"])
    for contact in contacts.prefetch_related("groups").iterator(chunk_size=2000):
        status = getattr(contact, "opted_out", None)
        yield writer.writerow(
            [
                contact.first_name,
                contact.last_name,
                contact.phone,
                contact.email,
                contact.country,
                "; ".join(g.name for g in contact.groups.all()),
                *(contact.custom.get(f.key, "") for f in fields),
                "" if status is None else ("opted out" if status else "reachable"),
            ]
        )
