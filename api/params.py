"""Query parameters of the API's lists and look-ups, read one way everywhere.

Each reader takes the request, the parameter's name and a ``problems`` dict: a value that
is wrong adds what is wrong under its name and reads as absent, so a view reports every
bad parameter at once (``invalid(..., fields=problems)``) rather than the first.
"""

from datetime import UTC, datetime, time

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework.request import Request

from addressbook.addresses import InvalidAddress
from addressbook.models import Company
from optout.selectors import MAX_ID, parse_address


def one(request: Request, name: str, problems: dict) -> str:
    """The parameter given at most once, stripped; "" when absent."""
    values = request.query_params.getlist(name)
    if len(values) > 1:
        problems[name] = [f"Give {name} once."]
        return ""
    return values[0].strip() if values else ""


def one_of(request: Request, name: str, choices: list[str], problems: dict) -> str:
    value = one(request, name, problems)
    if value and value not in choices:
        problems[name] = [f"One of {', '.join(choices)}."]
        return ""
    return value


def whole(
    request: Request, name: str, problems: dict, *, low: int = 1, high: int = MAX_ID
) -> int | None:
    """A whole number from ``low`` to ``high`` (by default: an id); None when absent."""
    raw = one(request, name, problems)
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        problems[name] = [f"A whole number from {low} to {high}."]
        return None
    return int(raw)


def moment(request: Request, name: str, problems: dict) -> datetime | None:
    """An ISO 8601 date or time, in UTC; a time without an offset is read in UTC."""
    raw = one(request, name, problems)
    if not raw:
        return None
    try:
        found = parse_datetime(raw)
        if found is None and (day := parse_date(raw)):
            found = datetime.combine(day, time.min)
    except ValueError:
        found = None
    if found is None:
        problems[name] = ["An ISO 8601 date or time, such as 2026-03-01 or 2026-03-01T12:00Z."]
        return None
    try:
        # In UTC before it reaches the database: PostgreSQL takes offsets up to ±15:59 only.
        return found.astimezone(UTC) if timezone.is_aware(found) else found.replace(tzinfo=UTC)
    except OverflowError:
        problems[name] = ["A moment between the years 1 and 9999."]
        return None


def address(request: Request, name: str, problems: dict, *, company: Company) -> str:
    """A phone number in any format (read with the company's country) or an email."""
    raw = one(request, name, problems)
    if not raw:
        return ""
    try:
        return parse_address(raw, company=company)
    except InvalidAddress as exc:
        problems[name] = [str(exc)]
        return ""
