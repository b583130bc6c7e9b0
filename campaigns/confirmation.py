"""What the "are you sure?" page before sending or scheduling shows: who gets the campaign,
what it costs, and who would wait for their country's sending hours."""

from dataclasses import dataclass
from datetime import datetime

from .held import HeldSummary, held_before_send
from .models import Campaign
from .selectors import AudiencePreview, audience_preview


@dataclass(frozen=True)
class CountryLine:
    country: str  # ISO code, "" when unknown
    reachable: int
    parts: int | None  # SMS parts for this country's reachable contacts; None for email
    held: int  # of the reachable, how many wait for the country's sending hours


@dataclass(frozen=True)
class SendConfirmation:
    preview: AudiencePreview
    countries: list[CountryLine]
    held: HeldSummary  # who waits, per country and zone, and until when


def send_confirmation(*, campaign: Campaign, at: datetime) -> SendConfirmation:
    """The audience, the parts and, per destination country, how many of the reachable
    recipients sending at ``at`` would hold back until their local sending hours open."""
    preview = audience_preview(campaign=campaign)
    held = held_before_send(campaign=campaign, at=at)
    waiting = held.per_country()
    countries = [
        CountryLine(c.country, c.reachable, c.parts, held=waiting.get(c.country, 0))
        for c in preview.countries
    ]
    return SendConfirmation(preview=preview, countries=countries, held=held)
