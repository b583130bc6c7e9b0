from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Exists, Min, OuterRef, QuerySet
from django.utils import timezone

from addressbook.models import Company, Contact
from optout.selectors import (
    country_rules,
    optouts_for_campaign,
    reachable_for_marketing,
    reason_counts,
    rule_for_country,
)

from .models import Campaign, Channel, Message
from .personalize import (
    CODE_LENGTH,
    CONTACT_FIELDS,
    code_from_unsubscribe_token,
    compile_body,
    compose_email_text,
    compose_sms,
    placeholder_values,
    render,
    short_link,
    unsubscribe_link,
)


@dataclass(frozen=True)
class CampaignStats:
    recipients: int
    queued: int
    sent: int
    skipped: int
    failed: int
    optouts: int

    @property
    def optout_percent(self) -> float:
        return 100 * self.optouts / self.sent if self.sent else 0.0


CONDITION_LOOKUPS = {"is": "iexact", "contains": "icontains"}


def campaign_audience(*, campaign: Campaign) -> QuerySet[Contact]:
    """Who a campaign goes to: its company's contacts with an address on its channel, in
    any of its groups (all when none), in its countries (all when none), and matching
    every custom-field condition."""
    contacts = Contact.objects.filter(company_id=campaign.company_id)
    if campaign.channel == Channel.EMAIL:
        contacts = contacts.exclude(email="")
    else:
        contacts = contacts.exclude(phone="")
    group_ids = list(campaign.groups.values_list("id", flat=True))
    if group_ids:
        # EXISTS rather than a join: a contact in two of the groups is still one recipient.
        membership = Contact.groups.through.objects.filter(
            contact_id=OuterRef("pk"), group_id__in=group_ids
        )
        contacts = contacts.filter(Exists(membership))
    if campaign.countries:
        contacts = contacts.filter(country__in=campaign.countries)
    for condition in campaign.field_conditions:
        lookup = CONDITION_LOOKUPS[condition["op"]]
        contacts = contacts.filter(**{f"custom__{condition['key']}__{lookup}": condition["value"]})
    return contacts


@dataclass(frozen=True)
class AudiencePreview:
    total: int
    opted_out: int
    samples: list[tuple[str, str]]  # (country, body as that country's first contact gets it)

    @property
    def reachable(self) -> int:
        return self.total - self.opted_out


def audience_preview(*, campaign: Campaign) -> AudiencePreview:
    """What sending would do, before anything is sent: sizes and sample messages."""
    audience = campaign_audience(campaign=campaign)
    total = audience.count()
    reachable = reachable_for_marketing(company=campaign.company, contacts=audience).count()
    return AudiencePreview(
        total=total, opted_out=total - reachable, samples=_samples(campaign, audience)
    )


def _samples(campaign: Campaign, audience: QuerySet[Contact]) -> list[tuple[str, str]]:
    """An email as the first contact gets it, or an SMS per destination country."""
    template = compile_body(campaign.body)
    company = campaign.company.name
    if campaign.channel == Channel.EMAIL:
        first = audience.order_by("id").values(*CONTACT_FIELDS).first()
        if first is None:
            return []
        values = placeholder_values(first, company)
        subject = render(compile_body(campaign.subject), values)
        body = compose_email_text(template, values, unsubscribe_link("x" * CODE_LENGTH))
        return [("Email", f"Subject: {subject}\n\n{body}")]
    firsts = audience.order_by().values("country").annotate(first=Min("id"))
    rules = country_rules()
    samples = []
    for contact in (
        Contact.objects.filter(pk__in=[row["first"] for row in firsts])
        .order_by("country")
        .values(*CONTACT_FIELDS)
    ):
        footer = rule_for_country(rules, contact["country"]).footer(short_link("x" * CODE_LENGTH))
        values = placeholder_values(contact, company)
        samples.append((contact["country"], compose_sms(template, values, footer)))
    return samples


def campaigns_of(*, company: Company) -> QuerySet[Campaign]:
    return Campaign.objects.filter(company=company)


def campaign_stats(*, campaign: Campaign) -> CampaignStats:
    counts = dict(
        Message.objects.filter(campaign=campaign)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    S = Message.Status
    return CampaignStats(
        recipients=sum(counts.values()),
        queued=counts.get(S.QUEUED, 0) + counts.get(S.SENDING, 0),
        sent=counts.get(S.SENT, 0) + counts.get(S.DELIVERED, 0),
        skipped=counts.get(S.SKIPPED, 0),
        failed=counts.get(S.FAILED, 0),
        optouts=optouts_for_campaign(company=campaign.company, campaign_id=campaign.pk).count(),
    )


def campaign_optouts(*, campaign: Campaign):
    events = optouts_for_campaign(company=campaign.company, campaign_id=campaign.pk)
    return events, reason_counts(events)


def message_for_short_code(code: str) -> Message | None:
    """The marketing message a recipient's opt-out link belongs to, while it is valid."""
    oldest = timezone.now() - timedelta(days=settings.SHORT_LINK_TTL_DAYS)
    return (
        Message.objects.filter(short_code=code, created_at__gte=oldest)
        .select_related("company", "campaign")
        .first()
    )


def message_for_unsubscribe_token(token: str) -> Message | None:
    code = code_from_unsubscribe_token(token)
    if code is None:
        return None
    return (
        Message.objects.filter(short_code=code, channel=Channel.EMAIL, kind=Message.Kind.MARKETING)
        .select_related("company", "campaign")
        .first()
    )
