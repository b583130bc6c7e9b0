from django import template
from django.http import HttpRequest

from addressbook.charts import Chart

register = template.Library()


@register.inclusion_tag("_chart.html", takes_context=True)
def chart(context: template.Context, chart: Chart) -> dict:
    """A chart, its numbers as a table and a link to them as CSV (the page's own query
    with ``csv=<chart id>``, which the page's view answers with ``chart_csv``)."""
    request: HttpRequest = context["request"]
    query = request.GET.copy()
    query["csv"] = chart.id
    query.pop("page", None)
    links = list(chart.links) + [""] * (len(chart.labels) - len(chart.links))
    rows = [
        (row[0], link, list(zip(row[1:], chart.units, strict=True)))
        for row, link in zip(chart.rows, links, strict=True)
    ]
    return {
        "chart": chart,
        "data_id": f"{chart.id}-data",
        "rows": rows,
        "csv_url": f"{request.path}?{query.urlencode()}",
    }


@register.simple_tag(takes_context=True)
def query_with(context: template.Context, **params) -> str:
    """The page's query string with ``params`` set (empty values removed): links that keep
    the filters, such as pagination and sort."""
    query = context["request"].GET.copy()
    for key, value in params.items():
        if value in ("", None):
            query.pop(key, None)
        else:
            query[key] = str(value)
    return f"?{query.urlencode()}" if query else "?"
