"""What a person reads on a page of charts: each chart's table, the headline figures."""

import csv
import io
from html.parser import HTMLParser


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.stats: dict[str, str] = {}
        self._figure = ""
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._stat = ""
        self._stat_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "figure" and "data-chart-figure" in attrs:
            self._figure = attrs["id"]
            self.tables[self._figure] = []
        elif tag == "tr" and self._figure:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        if "data-stat" in attrs or "data-change" in attrs:
            self._stat = attrs.get("data-stat") or f"change-{attrs['data-change']}"
            self._stat_text = []

    def handle_endtag(self, tag):
        if tag == "figure":
            self._figure = ""
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._figure].append(self._row)
            self._row = None
        elif tag in ("dd", "small") and self._stat:
            self.stats[self._stat] = " ".join("".join(self._stat_text).split())
            self._stat = ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._stat:
            self._stat_text.append(data)


def read(html: str) -> _Reader:
    reader = _Reader()
    reader.feed(html)
    return reader


def chart_tables(response) -> dict[str, list[list[str]]]:
    """{chart id: rows of its table, the header first}."""
    return read(response.content.decode()).tables


def headline(response) -> dict[str, str]:
    return read(response.content.decode()).stats


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))
