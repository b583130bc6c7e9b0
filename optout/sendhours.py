"""When a destination country lets marketing SMS arrive: local hours per weekday, and none
on its public holidays where it says so (``CountryRule.send_hours``).

Local means the recipient's: the number's own time zones (a US number's area code), and
where a number spans several zones, the hours must be open in every one of them.
"""

from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import holidays
import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from phonenumbers import timezone as number_zones
from phonenumbers.tzdata import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX

if TYPE_CHECKING:  # the models use this module's validator
    from .models import CountryRule

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_COUNTRY = "ZZ"  # CountryRule.DEFAULT_COUNTRY: the rule for every other country
# How far ahead to look for an opening: a long weekend with holidays around it fits.
HORIZON_DAYS = 10
# Numbers that share this many leading characters ("+" and the digits phonenumbers keys
# time zones by) share their zones, so their sending hours: one answer serves them all.
ZONE_PREFIX_LENGTH = 1 + TIMEZONE_LONGEST_PREFIX


def judged_at() -> datetime:
    """The moment sending hours are judged at: now, unless ``SEND_HOURS_AT`` fixes one.

    The test suite and the bench fix it at a moment when every seeded country is open, so
    that what they check or measure does not depend on the hour they run at.
    """
    if settings.SEND_HOURS_AT:
        return datetime.fromisoformat(settings.SEND_HOURS_AT)
    return timezone.now()


def validate_send_hours(value: dict) -> None:
    """``{"mon": ["08:00", "20:00"], ..., "sun": null}``; an empty dict means any time."""
    if not isinstance(value, dict):
        raise ValidationError("Send hours are an object of weekdays.")
    for day, hours in value.items():
        if day not in WEEKDAYS:
            raise ValidationError(f"“{day}” is not one of {', '.join(WEEKDAYS)}.")
        if hours is None:
            continue
        try:
            start, end = (time.fromisoformat(h) for h in hours)
        except (TypeError, ValueError):
            raise ValidationError(f'{day}: give ["HH:MM", "HH:MM"] or null.') from None
        if start >= end:
            raise ValidationError(f"{day}: the hours must start before they end.")


@dataclass(frozen=True)
class _Window:
    country: str
    hours: dict[int, tuple[time, time] | None]  # weekday number: open hours, None = closed
    skip_holidays: bool

    def open_at(self, local: datetime) -> bool:
        hours = self.hours.get(local.weekday(), ())
        if hours is None or (self.skip_holidays and _is_holiday(self.country, local.date())):
            return False
        if not hours:
            return True  # the rule says nothing of this day
        return hours[0] <= local.time() < hours[1]

    def openings(self, zone: ZoneInfo, after: datetime) -> list[datetime]:
        """The moments the window opens in ``zone`` over the horizon."""
        first = after.astimezone(zone).date()
        moments = []
        for offset in range(HORIZON_DAYS + 1):
            day = first + timedelta(days=offset)
            hours = self.hours.get(day.weekday(), ())
            start = hours[0] if hours else time(0)
            moments.append(datetime.combine(day, start, tzinfo=zone))
        return moments


class SendHours:
    """Asks, per recipient, whether marketing SMS may go now and, if not, from when.

    Answers are kept per country and number prefix for the moment asked about, so a
    chunk of a thousand recipients costs a handful of calendar look-ups, not a thousand.
    """

    def __init__(self, rules: dict[str, "CountryRule"], now: datetime):
        self.now = now
        from .selectors import NUMBERING_PLAN_COUNTRY  # selectors import this module

        self.windows = {
            country: _window(rule) for country, rule in rules.items() if rule.send_hours
        }
        # A territory without a rule of its own keeps the hours of the plan's country.
        self.rule_country = {t: c for t, c in NUMBERING_PLAN_COUNTRY.items() if t not in rules}
        # Keyed by the country and the recipient's time zones: a handful per chunk.
        self._answers: dict[tuple[str, tuple[str, ...]], datetime | None] = {}

    def opens_at(self, country: str, phone: str) -> datetime | None:
        """None when the recipient may get marketing now; else when they may."""
        country = self.rule_country.get(country, country)
        window = self.windows.get(country) or self.windows.get(DEFAULT_COUNTRY)
        if window is None:
            return None
        zones = _zones(phone, country)
        key = (country, zones)
        if key not in self._answers:
            self._answers[key] = _next_opening(window, [ZoneInfo(z) for z in zones], self.now)
        return self._answers[key]

    def holds_anyone(self) -> bool:
        """Whether any rule has hours at all: without one, nobody ever waits."""
        return bool(self.windows)

    def zones(self, country: str, phone: str) -> tuple[str, ...]:
        """The time zones ``opens_at`` judges this recipient in."""
        return _zones(phone, self.rule_country.get(country, country))

    def zone_prefix(self, country: str) -> str | None:
        """Where a recipient's zone depends on their number, not only on the country (the
        US, Canada, Russia...), the number prefix all of that country's numbers start
        with ("+1"); None where the country has one zone.

        Grouping recipients by ever longer prefixes (``finer_prefix_length``) then
        finds every zone of an audience in a few grouped queries, never one per number.
        """
        country = self.rule_country.get(country, country)
        calling_code = phonenumbers.country_code_for_region(country)
        if len(_calling_code_zones(calling_code)) == 1:
            return None
        return f"+{calling_code}" if calling_code else "+"


def finer_prefix_length(prefix: str) -> int | None:
    """For numbers starting with ``prefix`` ("+1208"): None when they all share their time
    zones; else how many leading characters of a number to look at next to tell them
    apart (a longer prefix that phonenumbers gives other zones)."""
    digits = prefix.lstrip("+")
    here = _zone_entry(digits)
    keys = _sorted_zone_keys()
    longer = []
    for key in keys[bisect_left(keys, digits) :]:
        if not key.startswith(digits):
            break
        if len(key) > len(digits) and TIMEZONE_DATA[key] != here:
            longer.append(len(key))
    return 1 + min(longer) if longer else None


def _zone_entry(digits: str):
    """The zones phonenumbers gives numbers starting with these digits: its longest key."""
    for length in range(min(len(digits), TIMEZONE_LONGEST_PREFIX), 0, -1):
        if digits[:length] in TIMEZONE_DATA:
            return TIMEZONE_DATA[digits[:length]]
    return None


@cache
def _sorted_zone_keys() -> list[str]:
    return sorted(TIMEZONE_DATA)


def _window(rule: "CountryRule") -> _Window:
    hours = {}
    for day, value in rule.send_hours.items():
        hours[WEEKDAYS.index(day)] = (
            None if value is None else tuple(time.fromisoformat(h) for h in value)
        )
    return _Window(rule.country, hours, rule.skip_public_holidays)


def _next_opening(window: _Window, zones: list[ZoneInfo], now: datetime) -> datetime | None:
    def open_everywhere(moment: datetime) -> bool:
        return all(window.open_at(moment.astimezone(zone)) for zone in zones)

    if open_everywhere(now):
        return None
    candidates = sorted(m for zone in zones for m in window.openings(zone, now) if m > now)
    for moment in candidates:
        if open_everywhere(moment):
            return moment
    return now + timedelta(days=HORIZON_DAYS)  # never open in the horizon: look again then


def _zones(phone: str, country: str) -> tuple[str, ...]:
    """The recipient's time zones: the only one of their country, or their number's own
    (a US area code's), else every zone of the country."""
    country_zones = _calling_code_zones(phonenumbers.country_code_for_region(country))
    if len(country_zones) == 1:
        return country_zones
    # phonenumbers keys zones by at most TIMEZONE_LONGEST_PREFIX digits: numbers sharing
    # those share their zones, so one parse per prefix.
    prefix = phone[:ZONE_PREFIX_LENGTH]
    if prefix not in _prefix_zones:
        _prefix_zones[prefix] = _number_zones(phone)
    return _prefix_zones[prefix] or country_zones or ("UTC",)


_prefix_zones: dict[str, tuple[str, ...]] = {}


def _number_zones(phone: str) -> tuple[str, ...]:
    try:
        number = phonenumbers.parse(phone)
    except phonenumbers.NumberParseException:
        return ()
    return tuple(z for z in number_zones.time_zones_for_number(number) if z != "Etc/Unknown")


@cache
def _calling_code_zones(calling_code: int) -> tuple[str, ...]:
    """Every zone numbers of this calling code can be in (+1: the whole of NANP)."""
    code = str(calling_code)
    return tuple(
        sorted(
            {
                zone
                for prefix, zones in TIMEZONE_DATA.items()
                if prefix.startswith(code)
                for zone in (zones.split("&") if isinstance(zones, str) else zones)
                if zone != "Etc/Unknown"
            }
        )
    )


@cache
def _holidays(country: str, year: int) -> holidays.HolidayBase:
    try:
        return holidays.country_holidays(country, years=year)
    except NotImplementedError:
        return holidays.HolidayBase()


def _is_holiday(country: str, day: date) -> bool:
    return day in _holidays(country, day.year)
