"""Charts as data: what a page draws, shows as a table and offers as CSV, from one object.

A view builds a ``Chart`` from aggregates; ``templates/_chart.html`` puts the numbers in a
``json_script`` block for ``static/js/charts.js`` (Chart.js, vendored) and in a table
beside the canvas; ``chart_csv`` streams the same rows. The three can never disagree.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from django.http import StreamingHttpResponse

from .exports import line_writer


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | int]
    # A key of the palette in charts.js (a source, a channel), so one source keeps one
    # colour on every chart; empty: the next colour in order.
    color: str = ""
    # The table's unit for this column when it differs from the chart's (a rate beside
    # counts); and False for a column only the table and CSV carry, not drawn.
    unit: str | None = None
    plot: bool = True


@dataclass(frozen=True)
class Chart:
    id: str  # unique on its page, letters, digits and dashes
    title: str
    kind: str  # "bar", "hbar" (horizontal bars), "line" or "doughnut"
    labels: Sequence[str]
    series: Sequence[Series]
    stacked: bool = False
    unit: str = ""  # shown after each value, e.g. "%"
    label_header: str = ""  # the table's first column
    # Where a click on a label leads (a campaign's page), in the labels' order.
    links: Sequence[str] = field(default_factory=tuple)
    description: str = ""

    @property
    def is_empty(self) -> bool:
        return not self.labels or not any(any(s.values) for s in self.series if s.plot)

    @property
    def spec(self) -> dict:
        """What charts.js reads."""
        return {
            "kind": self.kind,
            "labels": list(self.labels),
            "series": [
                {"label": s.label, "values": list(s.values), "color": s.color}
                for s in self.series
                if s.plot
            ],
            "stacked": self.stacked,
            "unit": self.unit,
            "links": list(self.links),
        }

    @property
    def header(self) -> list[str]:
        return [self.label_header or "", *(s.label for s in self.series)]

    @property
    def units(self) -> list[str]:
        """Each column's unit in the table, in the series' order."""
        return [self.unit if s.unit is None else s.unit for s in self.series]

    @property
    def rows(self) -> list[list]:
        return [[label, *(s.values[i] for s in self.series)] for i, label in enumerate(self.labels)]


def chart_csv(chart: Chart, *, filename: str) -> StreamingHttpResponse:
    """The chart's table as a CSV download, formulas escaped like every CSV we write."""

    def lines() -> Iterator[str]:
        writer = line_writer()
        yield "\ufeff"
        yield writer.writerow(chart.header)
        for row in chart.rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
