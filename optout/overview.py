"""Opt-out figures for the home page: counts over the (company, created_at) index.

An uploaded list from an old provider (source ``import``) records people who left long
ago, elsewhere; counted as this week's opt-outs it would drown the week's real ones.
"""

from datetime import date, datetime, tzinfo

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate

from addressbook.models import Company

from .models import ConsentEvent, Source, Suppression


def _left(company: Company, start: datetime, end: datetime) -> QuerySet[ConsentEvent]:
    return ConsentEvent.objects.filter(
        company=company,
        kind=ConsentEvent.Kind.OPT_OUT,
        created_at__gte=start,
        created_at__lt=end,
    ).exclude(source__in=[Source.IMPORT, Source.LINKED])


def optouts_between(*, company: Company, start: datetime, end: datetime) -> int:
    """People who left in [start, end), by any way but an uploaded list."""
    return _left(company, start, end).count()


def optouts_by_day(
    *, company: Company, start: datetime, end: datetime, zone: tzinfo
) -> dict[date, int]:
    rows = (
        _left(company, start, end)
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .order_by()
        .values("day")
        .annotate(n=Count("id"))
    )
    return {row["day"]: row["n"] for row in rows}


def latest_optouts(*, company: Company, limit: int = 10) -> list[ConsentEvent]:
    """The newest opt-outs, uploaded ones included: they are on the list too. A person's
    other address, out with them, is not another opt-out."""
    return list(
        ConsentEvent.objects.filter(company=company, kind=ConsentEvent.Kind.OPT_OUT)
        .exclude(source=Source.LINKED)
        .order_by("-created_at", "-id")[:limit]
    )


def suppression_count(*, company: Company) -> int:
    """Addresses the company may not market to."""
    return Suppression.objects.filter(company=company).count()
