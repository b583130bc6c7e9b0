import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet
from django.template import Template
from django.utils import timezone

from addressbook.models import Company, Contact
from addressbook.scoping import unscoped
from optout.models import CountryRule
from optout.selectors import optouts_for_campaign, reachable_for_marketing, reason_counts
from optout.texts import Footer, OptoutTexts, optout_texts

from .models import Campaign, Channel, Message
from .personalize import (
    CODE_LENGTH,
    CONTACT_FIELDS,
    BodyError,
    code_from_unsubscribe_token,
    compile_body,
    compose_email_text,
    compose_sms,
    placeholder_values,
    render,
    short_link,
    unsubscribe_link,
)
from .segments import UCS2_SINGLE, SegmentCount, count_segments


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
    groups = list(
        campaign.groups.filter(company_id=campaign.company_id).values_list("id", flat=True)
    )
    return audience_of(
        company_id=campaign.company_id,
        channel=campaign.channel,
        # Limited to its groups: if they were all deleted since, that is nobody, not all.
        group_ids=groups if campaign.limited_to_groups else None,
        countries=campaign.countries,
        field_conditions=campaign.field_conditions,
    )


def audience_of(
    *,
    company_id: int,
    channel: str,
    group_ids: list[int] | None,
    countries: list[str],
    field_conditions: list[dict],
) -> QuerySet[Contact]:
    """``campaign_audience`` for an audience described field by field, as in the editor
    before anything is saved."""
    contacts = Contact.objects.filter(company_id=company_id)
    if channel == Channel.EMAIL:
        contacts = contacts.exclude(email="")
    else:
        contacts = contacts.exclude(phone="")
    if group_ids is not None:  # None: every contact, whatever their groups
        # EXISTS rather than a join: a contact in two of the groups is still one recipient.
        membership = Contact.groups.through.objects.filter(
            contact_id=OuterRef("pk"), group_id__in=group_ids
        )
        contacts = contacts.filter(Exists(membership))
    if countries:
        contacts = contacts.filter(country__in=countries)
    for condition in field_conditions:
        lookup = CONDITION_LOOKUPS[condition["op"]]
        contacts = contacts.filter(**{f"custom__{condition['key']}__{lookup}": condition["value"]})
    return contacts


@dataclass(frozen=True)
class Counter:
    """An SMS text's size as the editor shows it, with the opt-out text it was counted with."""

    segments: SegmentCount
    country: str  # whose opt-out text was counted; "" or ZZ for the default rule
    # Look-alikes in the body as typed: the ones replacing can fix (not those in a name).
    replaceable: tuple[tuple[str, str], ...] = ()
    as_typed: bool = False  # placeholders counted as typed, with no contact to fill them

    @property
    def forcing(self) -> list[str]:
        """The characters that force UCS-2, readable even when invisible (a no-break space)."""
        return [_visible(ch) for ch in self.segments.ucs2_characters]

    @property
    def unicode_per_part(self) -> int:
        return UCS2_SINGLE

    @property
    def replace_label(self) -> str:
        found = " ".join(_visible(ch) for ch, _ in self.replaceable)
        stand_ins = " ".join(_visible(s) if s else "nothing" for _, s in self.replaceable)
        return f"Replace {found} with {stand_ins}"


def _visible(text: str) -> str:
    if text.isprintable() and not text.isspace():
        return text
    return " ".join(unicodedata.name(ch, f"U+{ord(ch):04X}").lower() for ch in text)


@dataclass(frozen=True)
class CountryPreview:
    country: str  # ISO code, "" when unknown; "Email" for an email campaign's one sample
    total: int
    reachable: int
    body: str | None  # as the country's first contact gets it; None when the body is unreadable
    counter: Counter | None  # SMS only
    footer: str = ""  # the opt-out text this country's SMS end with
    own_footer: bool = False  # the company's own text, not the country rule's

    @property
    def parts(self) -> int | None:
        """The SMS parts sending to this country costs, all reachable contacts together."""
        if self.counter is None:
            return None
        return self.counter.segments.parts * self.reachable


@dataclass(frozen=True)
class AudiencePreview:
    total: int
    opted_out: int
    countries: list[CountryPreview]
    counter: Counter | None  # the message with the longest opt-out text around; SMS only

    @property
    def reachable(self) -> int:
        return self.total - self.opted_out

    @property
    def samples(self) -> list[tuple[str, str]]:
        return [(c.country, c.body) for c in self.countries if c.body is not None]

    @property
    def estimated_parts(self) -> int | None:
        """SMS parts for the whole audience: a sample's parts times its country's reach."""
        parts = [c.parts for c in self.countries]
        if self.counter is None or None in parts:
            return None  # an email, or a body that cannot be read yet
        return sum(parts)


def audience_preview(*, campaign: Campaign) -> AudiencePreview:
    """What sending would do, before anything is sent: sizes and sample messages."""
    return _preview(
        company=campaign.company,
        channel=campaign.channel,
        body=campaign.body,
        subject=campaign.subject,
        audience=campaign_audience(campaign=campaign),
    )


def draft_preview(
    *,
    company: Company,
    channel: str,
    body: str,
    subject: str,
    group_ids: list[int],
    countries: list[str],
    field_conditions: list[dict],
) -> AudiencePreview:
    """``audience_preview`` of a campaign being written, before it is saved (or changed)."""
    audience = audience_of(
        company_id=company.pk,
        channel=channel,
        group_ids=group_ids or None,  # none ticked: everyone
        countries=countries,
        field_conditions=field_conditions,
    )
    return _preview(company=company, channel=channel, body=body, subject=subject, audience=audience)


def audience_counts(*, campaign: Campaign) -> tuple[int, int]:
    """How many a campaign would go to if sent now, and how many of them opted out."""
    by_country, reachable = _counts_by_country(
        company=campaign.company, audience=campaign_audience(campaign=campaign)
    )
    total = sum(row["total"] for row in by_country.values())
    return total, total - sum(reachable.values())


def _counts_by_country(
    *, company: Company, audience: QuerySet[Contact]
) -> tuple[dict[str, dict], dict[str, int]]:
    # Two grouped counts, each one query whatever the audience's size: never per contact.
    by_country = {
        row["country"]: row
        for row in audience.order_by()
        .values("country")
        .annotate(total=Count("id"), first=Min("id"))
    }
    reachable = dict(
        reachable_for_marketing(company=company, contacts=audience)
        .order_by()
        .values("country")
        .annotate(n=Count("id"))
        .values_list("country", "n")
    )
    return by_country, reachable


def _preview(
    *, company: Company, channel: str, body: str, subject: str, audience: QuerySet[Contact]
) -> AudiencePreview:
    by_country, reachable = _counts_by_country(company=company, audience=audience)
    total = sum(row["total"] for row in by_country.values())
    opted_out = total - sum(reachable.values())
    try:
        template = compile_body(body)
    except BodyError:
        template = None  # the editor names the error; sizes are still worth showing
    if channel == Channel.EMAIL:
        countries = _email_sample(company, subject, template, audience, total, total - opted_out)
        counter = None
    else:
        texts = optout_texts(company=company)
        countries = _sms_samples(company, template, by_country, reachable, texts)
        counter = _counter(body, countries, texts)
    return AudiencePreview(
        total=total,
        opted_out=opted_out,
        countries=countries,
        counter=counter,
    )


def typed_parts(*, company: Company, body: str, countries: Iterable[str] = ()) -> int:
    """The parts of the body as typed (placeholders and all) with the longest opt-out
    text of the countries it may reach, the company's own texts counted: every
    destination's, when no country is chosen."""
    texts = optout_texts(company=company)
    codes = [c.upper() for c in countries] or texts.destinations()
    return max(
        count_segments(f"{body.strip()}\n{_optout_footer(texts, code)}").parts for code in codes
    )


def _optout_footer(texts: OptoutTexts, country: str) -> str:
    # A real recipient's link is this long; the placeholder code makes the count exact.
    return texts.footer(country).text(short_link("x" * CODE_LENGTH))


@dataclass(frozen=True)
class FooterSample:
    """The opt-out text one destination's SMS end with, as long as a recipient's, sized."""

    country: str
    footer: Footer
    text: str
    segments: SegmentCount

    @property
    def room(self) -> int:
        """What is left for the message in a one-part SMS, after the line break before it."""
        if self.segments.parts > 1:
            return 0
        return max(0, self.segments.per_part - self.segments.units - 1)


def footer_samples(*, texts: OptoutTexts, countries: Iterable[str]) -> list[FooterSample]:
    """For the company's opt-out settings (``settings.OPTOUT_FOOTER_SAMPLES``): what each
    destination gets and how many characters of a message it takes."""
    samples = []
    for country in countries:
        text = _optout_footer(texts, country)
        samples.append(FooterSample(country, texts.footer(country), text, count_segments(text)))
    return samples


def _counter(body: str, countries: list[CountryPreview], texts: OptoutTexts) -> Counter:
    """The message with the longest opt-out text in the audience, as that country's sample
    contact gets it; before there is one, the body as typed."""
    codes = [c.country for c in countries] or [CountryRule.DEFAULT_COUNTRY]
    longest = max(codes, key=lambda code: _size(count_segments(_optout_footer(texts, code))))
    sample = next((c for c in countries if c.country == longest and c.body is not None), None)
    text = sample.body if sample else f"{body.strip()}\n{_optout_footer(texts, longest)}"
    return Counter(count_segments(text), longest, count_segments(body).replaceable, not sample)


def _size(count: SegmentCount) -> tuple[int, int, int]:
    return count.parts, count.encoding == "UCS-2", count.units


def _sms_samples(
    company: Company,
    template: Template | None,
    by_country: dict[str, dict],
    reachable: dict[str, int],
    texts: OptoutTexts,
) -> list[CountryPreview]:
    """Per destination country, the SMS its first contact gets and what it costs."""
    contacts = {}
    if template is not None:
        firsts = [row["first"] for row in by_country.values()]
        contacts = {
            c["country"]: c
            for c in Contact.objects.filter(company=company, pk__in=firsts).values(*CONTACT_FIELDS)
        }
    previews = []
    for country in sorted(by_country):
        body = counter = None
        footer = _optout_footer(texts, country)
        if country in contacts:
            values = placeholder_values(contacts[country], company.name)
            body = compose_sms(template, values, footer)
            counter = Counter(count_segments(body), country)
        previews.append(
            CountryPreview(
                country=country,
                total=by_country[country]["total"],
                reachable=reachable.get(country, 0),
                body=body,
                counter=counter,
                footer=footer,
                own_footer=texts.footer(country).own is not None,
            )
        )
    return previews


def _email_sample(
    company: Company,
    subject: str,
    template: Template | None,
    audience: QuerySet[Contact],
    total: int,
    reachable: int,
) -> list[CountryPreview]:
    """The email as the first contact gets it."""
    first = audience.order_by("id").values(*CONTACT_FIELDS).first()
    if first is None:
        return []
    body = None
    if template is not None:
        values = placeholder_values(first, company.name)
        try:
            shown_subject = render(compile_body(subject), values)
        except BodyError:
            shown_subject = subject
        text = compose_email_text(template, values, unsubscribe_link("x" * CODE_LENGTH))
        body = f"Subject: {shown_subject}\n\n{text}"
    return [CountryPreview("Email", total=total, reachable=reachable, body=body, counter=None)]


def campaigns_of(*, company: Company) -> QuerySet[Campaign]:
    return Campaign.objects.filter(company=company)


def messages_of(*, company: Company) -> QuerySet[Message]:
    """Every message of the company: its campaigns' and the transactional ones."""
    return Message.objects.filter(company=company)


def messages_to(*, company: Company, contact: Contact) -> QuerySet[Message]:
    """Every message the company sent this contact, campaigns' and transactional ones,
    newest first (found on the contact's own index, then sorted: a person's few)."""
    return (
        Message.objects.filter(company=company, contact=contact)
        .select_related("campaign")
        .order_by("-created_at", "-id")
    )


def first_sent_at(*, company: Company, campaign_id: int, to: str) -> datetime | None:
    """When the campaign first sent to this address, if it did: found through the
    address's contacts, one probe of the (campaign, contact) index each, so the message
    table needs no index of addresses."""
    contacts = Contact.objects.filter(Q(phone=to) | Q(email=to), company=company)
    return (
        Message.objects.filter(
            company=company,
            campaign_id=campaign_id,
            contact__in=contacts,
            to=to,
            sent_at__isnull=False,
        )
        .order_by("sent_at")
        .values_list("sent_at", flat=True)
        .first()
    )


def message_link(message: Message) -> str:
    """The recipient's own opt-out link in this message: the short link of an SMS, the
    unsubscribe link of an email; "" where there is none (a reply-STOP country, a
    transactional message)."""
    if not message.short_code:
        return ""
    if message.channel == Channel.EMAIL:
        return unsubscribe_link(message.short_code)
    return short_link(message.short_code)


def _status_counts(*, campaign: Campaign) -> dict[str, int]:
    """How many of the campaign's messages are in each status: one grouped count, which
    the stats and the progress share (at a million messages it is most of the page's time).

    Rows are counted by campaign alone, not ids and not with the company's column: so
    PostgreSQL answers from the (campaign, status) index without reading any message
    (pinning the company as well reads every row, or joins each one, at twice the time).
    """
    with unscoped(reason="the campaign was taken from its company: its messages are too"):
        return dict(
            Message.objects.filter(campaign=campaign)
            .values_list("status")
            .annotate(n=Count("*"))
            .values_list("status", "n")
        )


def delivered_per_campaign(*, company: Company, ids: list[int]) -> dict[int, int]:
    """Messages a delivery report says reached the phone, for each of these campaigns of
    the company; none: left out. One grouped count on the (campaign, status) index; the
    company is pinned through the campaign, a join of a few rows, so no message row is
    read for it (see ``_status_counts``)."""
    if not ids:
        return {}
    return dict(
        Message.objects.filter(
            campaign__company=company, campaign_id__in=ids, status=Message.Status.DELIVERED
        )
        .order_by()
        .values("campaign_id")
        .annotate(n=Count("*"))
        .values_list("campaign_id", "n")
    )


def campaign_stats(*, campaign: Campaign, counts: dict[str, int]) -> CampaignStats:
    S = Message.Status
    return CampaignStats(
        recipients=sum(counts.values()),
        queued=counts.get(S.QUEUED, 0) + counts.get(S.SENDING, 0),
        sent=counts.get(S.SENT, 0) + counts.get(S.DELIVERED, 0),
        skipped=counts.get(S.SKIPPED, 0),
        failed=counts.get(S.FAILED, 0),
        optouts=optouts_for_campaign(company=campaign.company, campaign_id=campaign.pk).count(),
    )


@dataclass(frozen=True)
class CampaignProgress:
    """How far sending has come: the stats, and what the progress bar needs."""

    stats: CampaignStats
    delivered: int
    cancelled: int
    expected: int  # recipients once every planned chunk has made its messages
    # The earliest time recipients outside their country's sending hours get it.
    waiting_until: datetime | None = None

    @property
    def total(self) -> int:
        return max(self.expected, self.stats.recipients)

    @property
    def done(self) -> int:
        return self.stats.recipients - self.stats.queued

    @property
    def percent(self) -> int:
        return 100 * self.done // self.total if self.total else 0


def campaign_progress(*, campaign: Campaign) -> CampaignProgress:
    S = Message.Status
    counts = _status_counts(campaign=campaign)
    expected = 0
    if campaign.status in (Campaign.Status.SENDING, Campaign.Status.PAUSED):
        # Messages are made chunk by chunk; until the last is made, the planned chunks
        # say how many there will be.
        audience = campaign_audience(campaign=campaign)
        last = campaign.chunks.aggregate(last=Max("upto_id"))["last"]
        if last is not None:
            audience = audience.filter(id__lte=last)
        expected = audience.count()
    waiting = campaign.chunks.filter(done_at__isnull=True, not_before__gt=timezone.now())
    return CampaignProgress(
        stats=campaign_stats(campaign=campaign, counts=counts),
        delivered=counts.get(S.DELIVERED, 0),
        cancelled=counts.get(S.CANCELLED, 0),
        expected=expected,
        waiting_until=waiting.aggregate(first=Min("not_before"))["first"],
    )


@dataclass(frozen=True)
class CampaignCounters:
    """A campaign's numbers in one place, for the API and anything else that reports."""

    audience: int  # recipients; before sending, who sending now would go to
    skipped: int  # opted out; before sending, how many sending now would skip
    queued: int
    sent: int  # delivered ones included
    delivered: int
    failed: int
    cancelled: int
    optouts: int  # opt-outs attributed to the campaign
    optout_percent: float
    done_percent: int
    waiting_until: datetime | None


def campaign_counters(*, campaign: Campaign) -> CampaignCounters:
    if campaign.status in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED):
        total, opted_out = audience_counts(campaign=campaign)
        return CampaignCounters(total, opted_out, 0, 0, 0, 0, 0, 0, 0.0, 0, None)
    progress = campaign_progress(campaign=campaign)
    stats = progress.stats
    return CampaignCounters(
        audience=progress.total,
        skipped=stats.skipped,
        queued=stats.queued,
        sent=stats.sent,
        delivered=progress.delivered,
        failed=stats.failed,
        cancelled=progress.cancelled,
        optouts=stats.optouts,
        optout_percent=round(stats.optout_percent, 2),
        done_percent=progress.percent,
        waiting_until=progress.waiting_until,
    )


def campaign_optouts(*, campaign: Campaign):
    events = optouts_for_campaign(company=campaign.company, campaign_id=campaign.pk)
    return events, reason_counts(events)


def message_for_short_code(code: str) -> Message | None:
    """The marketing SMS a recipient's opt-out link belongs to, while it is valid.

    An email's code (inside its signed unsubscribe token) is no link to this page: the
    page masks and asks for a phone number."""
    if len(code) != CODE_LENGTH or not (code.isascii() and code.isalnum()):
        return None  # a scanner's junk costs no query
    oldest = timezone.now() - timedelta(days=settings.SHORT_LINK_TTL_DAYS)
    return (
        Message.objects.filter(
            short_code=code,
            channel=Channel.SMS,
            kind=Message.Kind.MARKETING,
            created_at__gte=oldest,
        )
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
