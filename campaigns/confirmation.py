"""What the "are you sure?" page before sending or scheduling shows: who gets the campaign,
what it costs, and who would wait for their country's sending hours."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min
from django.db.models.functions import Substr

from optout.selectors import country_rules, reachable_for_marketing
from optout.sendhours import ZONE_PREFIX_LENGTH, SendHours

from .models import Campaign, Channel
from .selectors import AudiencePreview, audience_preview, campaign_audience


@dataclass(frozen=True)
class HeldCountry:
    country: str  # ISO code, "" when unknown; "Email" for an email campaign
    reachable: int
    parts: int | None  # SMS parts for this country's reachable contacts; None for email
    held: int  # of the reachable, how many wait for the country's sending hours
    opens_at: datetime | None  # the first moment any of the held may get it


@dataclass(frozen=True)
class SendConfirmation:
    preview: AudiencePreview
    countries: list[HeldCountry]

    @property
    def held(self) -> int:
        return sum(c.held for c in self.countries)


def send_confirmation(*, campaign: Campaign, at: datetime) -> SendConfirmation:
    """The audience, the parts and, per destination country, how many of the reachable
    recipients sending at ``at`` would hold back until their local sending hours open."""
    preview = audience_preview(campaign=campaign)
    held = held_by_country(campaign=campaign, at=at) if campaign.channel == Channel.SMS else {}
    countries = []
    for c in preview.countries:
        count, opens = held.get(c.country, (0, None))
        countries.append(HeldCountry(c.country, c.reachable, c.parts, held=count, opens_at=opens))
    return SendConfirmation(preview=preview, countries=countries)


def held_by_country(*, campaign: Campaign, at: datetime) -> dict[str, tuple[int, datetime | None]]:
    """Per country, how many reachable recipients the sending hours hold at ``at``, and
    when the first of them opens; countries with nobody held are left out.

    One grouped query by country and number prefix, judged once per group (every number
    of a group has the same time zones), never once per recipient.
    """
    reachable = reachable_for_marketing(
        company=campaign.company, contacts=campaign_audience(campaign=campaign)
    )
    groups = (
        reachable.order_by()
        .annotate(prefix=Substr("phone", 1, ZONE_PREFIX_LENGTH))
        .values("country", "prefix")
        .annotate(n=Count("id"), sample=Min("phone"))
        .values_list("country", "n", "sample")
    )
    hours = SendHours(country_rules(), at)
    held: dict[str, tuple[int, datetime | None]] = {}
    for country, n, sample in groups:
        opens = hours.opens_at(country, sample)
        if opens is None:
            continue
        count, first = held.get(country, (0, None))
        held[country] = (count + n, opens if first is None else min(first, opens))
    return held
