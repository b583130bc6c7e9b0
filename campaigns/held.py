"""Who waits for their sending hours: before a send (who sending now would hold) and
while sending (who is held), per destination country and time zone.

Counted in grouped queries over the audience or the campaign's messages, never per
recipient: one per country, and for countries of several zones (the US, Canada) a few
more that group numbers by their prefix until each group lies in one set of zones.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import Count, Min, Q, QuerySet
from django.db.models.functions import Substr
from django.utils.dateformat import format as format_date

from addressbook.countries import country_name
from addressbook.models import Company, Contact
from optout.selectors import country_rules, reachable_for_marketing
from optout.sendhours import SendHours, finer_prefix_length, judged_at

from .models import Campaign, Channel, Message
from .selectors import audience_of, campaign_audience

# Within this many days the weekday says which day it is; further, the date is added.
WEEKDAY_ENOUGH_DAYS = 6


@dataclass(frozen=True)
class HeldGroup:
    """Recipients of one country who wait, and when their hours open, in their zone."""

    country: str  # ISO code; "" when the contact has none
    zone: str  # the IANA zone the opening is told in
    recipients: int
    opens_at: datetime  # in ``zone``
    soon: bool = True  # within the week: the weekday alone says which day

    @property
    def country_name(self) -> str:
        return _country_name(self.country)

    @property
    def city(self) -> str:
        """How the zone is named to people: "Paris", "New York"."""
        return self.zone.rsplit("/", 1)[-1].replace("_", " ")

    @property
    def opens_label(self) -> str:
        """ "Monday 08:00", or with the date when that is a week or more away."""
        return format_date(self.opens_at, "l H:i" if self.soon else "l j M, H:i")


@dataclass(frozen=True)
class HeldSummary:
    at: datetime  # the moment judged
    groups: list[HeldGroup]
    overridden: bool = False  # staff sent the held ones regardless of hours

    @property
    def recipients(self) -> int:
        return sum(group.recipients for group in self.groups)

    def per_country(self) -> dict[str, int]:
        """How many wait in each country, whatever their zone."""
        counts: dict[str, int] = {}
        for group in self.groups:
            counts[group.country] = counts.get(group.country, 0) + group.recipients
        return counts


def held_before_send(*, campaign: Campaign, at: datetime | None = None) -> HeldSummary:
    """Who sending this draft (or scheduled campaign) now, or at ``at``, would hold, and
    until when."""
    return held_if_sent_now(
        company=campaign.company,
        channel=campaign.channel,
        audience=campaign_audience(campaign=campaign),
        at=at,
    )


def held_in_draft(
    *,
    company: Company,
    channel: str,
    group_ids: list[int],
    countries: list[str],
    field_conditions: list[dict],
) -> HeldSummary:
    """``held_before_send`` for the audience being written in the editor."""
    audience = audience_of(
        company_id=company.pk,
        channel=channel,
        group_ids=group_ids or None,  # none ticked: everyone, as draft_preview counts
        countries=countries,
        field_conditions=field_conditions,
    )
    return held_if_sent_now(company=company, channel=channel, audience=audience)


def held_if_sent_now(
    *, company: Company, channel: str, audience: QuerySet[Contact], at: datetime | None = None
) -> HeldSummary:
    """Of the reachable contacts in ``audience``, who sending now (or at ``at``, for a
    schedule) would hold for their country's sending hours, and until when. Only SMS wait
    for hours."""
    at = at or judged_at()
    if channel != Channel.SMS:
        return HeldSummary(at, [])
    hours = SendHours(country_rules(), at)
    if not hours.holds_anyone():
        return HeldSummary(at, [])
    reachable = reachable_for_marketing(company=company, contacts=audience)
    rows = _groups(reachable.order_by(), hours, country="country", phone="phone")
    return HeldSummary(at, _judge(rows, hours))


def held_in_campaign(*, campaign: Campaign) -> HeldSummary:
    """The campaign's queued messages whose recipients are outside their hours now."""
    at = judged_at()
    if campaign.hours_overridden_at:
        return HeldSummary(at, [], overridden=True)
    if campaign.channel != Channel.SMS:
        return HeldSummary(at, [])
    hours = SendHours(country_rules(), at)
    if not hours.holds_anyone():
        return HeldSummary(at, [])
    queued = Message.objects.filter(
        company_id=campaign.company_id, campaign=campaign, status=Message.Status.QUEUED
    )
    rows = _groups(queued.order_by(), hours, country="country", phone="to")
    return HeldSummary(at, _judge(rows, hours))


def _groups(
    recipients: QuerySet, hours: SendHours, *, country: str, phone: str
) -> list[tuple[str, str, int]]:
    """(country, a sample number, how many) per group of recipients who share their
    country and time zones."""
    rows = []
    # Groups still to split, by the prefix length to split them at: (country, prefix).
    to_split: dict[int, list[tuple[str, str]]] = {}
    for code, sample, n in (
        recipients.values(country)
        .annotate(n=Count("*"), sample=Min(phone))
        .values_list(country, "sample", "n")
    ):
        prefix = hours.zone_prefix(code)
        length = finer_prefix_length(prefix) if prefix is not None else None
        if length is None:
            rows.append((code, sample, n))
        else:
            # Split on the whole country, not only its numbering plan: a number of
            # another plan is judged in its own zone, and counted all the same.
            to_split.setdefault(length, []).append((code, ""))
    while to_split:
        length = min(to_split)
        match = Q()
        for code, prefix in to_split.pop(length):
            match |= Q(**{country: code, f"{phone}__startswith": prefix})
        grouped = (
            recipients.filter(match)
            .annotate(prefix=Substr(phone, 1, length))
            .values(country, "prefix")
            .annotate(n=Count("*"), sample=Min(phone))
            .values_list(country, "prefix", "sample", "n")
        )
        for code, prefix, sample, n in grouped:
            finer = finer_prefix_length(prefix)
            # A number that ends before the prefix does has nothing further to tell.
            if finer is None or len(prefix) < length:
                rows.append((code, sample, n))
            else:
                to_split.setdefault(finer, []).append((code, prefix))
    return rows


def _judge(rows: Iterable[tuple[str, str, int]], hours: SendHours) -> list[HeldGroup]:
    held: dict[tuple[str, tuple[str, ...]], list] = {}
    for code, sample, n in rows:
        opens = hours.opens_at(code, sample)
        if opens is None:
            continue
        key = (code, hours.zones(code, sample))
        if key in held:
            held[key][0] += n
        else:
            held[key] = [n, opens]
    groups = []
    for (code, zones), (n, opens) in held.items():
        # Held until open in each of the number's zones: told in the one where that comes
        # latest on the clock, so the time shown is the opening hour people know.
        zone = min(zones, key=lambda z: opens.astimezone(ZoneInfo(z)).replace(tzinfo=None))
        soon = (opens - hours.now).days < WEEKDAY_ENOUGH_DAYS
        groups.append(HeldGroup(code, zone, n, opens.astimezone(ZoneInfo(zone)), soon))
    return sorted(groups, key=lambda g: (g.opens_at, g.country_name, g.city))


# Said with "the": "in the United States", "in the Netherlands".
_WITH_THE = ("United ", "Netherlands", "Philippines", "Bahamas", "Gambia", "Maldives")


def _country_name(code: str) -> str:
    name = country_name(code) if code else ""
    if not name:
        return "an unknown country"
    if name.startswith(_WITH_THE) or name.endswith((" Republic", " Islands")):
        return f"the {name}"
    return name
