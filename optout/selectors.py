from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from addressbook.addresses import is_email, normalize_email, parse_phone
from addressbook.models import Company, Contact

from .models import (
    ConsentEvent,
    CountryRule,
    InboundMessage,
    LeaveReason,
    Reason,
    ReplyRoute,
    Source,
    Suppression,
    reason_label,
)


def _suppressed(
    address_field: str, company: Company | None = None, *, opted_out_only: bool = False
) -> Exists:
    """Whether the row's address is suppressed for ``company`` (default: the row's own);
    with ``opted_out_only``, by an opt-out (not as undeliverable)."""
    owner = {"company": company} if company else {"company_id": OuterRef("company_id")}
    if opted_out_only:
        owner["reason"] = Suppression.Reason.OPTED_OUT
    return Exists(Suppression.objects.filter(address=OuterRef(address_field), **owner))


def _contact_opted_out(company: Company) -> Q:
    # An email that bounces keeps the person's SMS coming: only an opt-out covers both.
    # The message itself is still checked against every suppression before it goes.
    return Q(_suppressed("phone", company, opted_out_only=True)) | Q(
        _suppressed("email", company, opted_out_only=True)
    )


def reachable_for_marketing(*, company: Company, contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """``contacts`` minus everyone whose phone or email this company may not market to.

    One set-based anti-join on the (company, address) unique index, never a lookup per
    contact.
    """
    return contacts.filter(~_contact_opted_out(company))


def suppressed_contacts(*, company: Company, contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    return contacts.filter(_contact_opted_out(company))


def with_optout_status(*, company: Company, contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """Each contact with ``opted_out``: True when its phone or email is opted out, and
    ``email_undeliverable``: True when mail to its email bounces."""
    undeliverable = Exists(
        Suppression.objects.filter(
            company=company, address=OuterRef("email"), reason=Suppression.Reason.UNDELIVERABLE
        )
    )
    return contacts.annotate(
        opted_out=ExpressionWrapper(_contact_opted_out(company), output_field=BooleanField()),
        email_undeliverable=undeliverable,
    )


def is_undeliverable(*, company: Company, address: str) -> bool:
    """Mail to this address bounces: none of the company's email goes there."""
    return Suppression.objects.filter(
        company=company, address=address, reason=Suppression.Reason.UNDELIVERABLE
    ).exists()


def consent_timeline(*, company: Company, addresses: list[str]) -> QuerySet[ConsentEvent]:
    """Every opt-out and opt-in of these addresses, newest first."""
    return ConsentEvent.objects.filter(
        company=company, address__in=[a for a in addresses if a]
    ).select_related("linked_event")


@dataclass(frozen=True)
class ConsentState:
    """Whether a company could market to an address at a moment, and why."""

    address: str
    at: datetime
    # The newest event of the address up to ``at``; None: it had never opted out.
    event: ConsentEvent | None

    @property
    def suppressed(self) -> bool:
        return self.event is not None and self.event.kind == ConsentEvent.Kind.OPT_OUT


def state_at(*, company: Company, address: str, when: datetime) -> ConsentState:
    """The address's state at ``when``, read from the ledger alone.

    Every change of an address, one made through another address of the same person
    included, is an event of that address, so its newest event up to then decides.
    """
    event = (
        ConsentEvent.objects.filter(
            company=company,
            address=address,
            created_at__lte=when,
            kind__in=ConsentEvent.CONSENT_KINDS,
        )
        .order_by("-created_at", "-id")
        .first()
    )
    return ConsentState(address=address, at=when, event=event)


def without_suppressed(queryset: QuerySet, *, address_field: str) -> QuerySet:
    """Rows of any company-owned model whose ``address_field`` its company may market to."""
    return queryset.filter(~_suppressed(address_field))


def only_suppressed(queryset: QuerySet, *, address_field: str) -> QuerySet:
    return queryset.filter(_suppressed(address_field))


def suppressed_among(company: Company, addresses: set[str]) -> set[str]:
    """Which of these addresses the company may not market to (one query)."""
    return set(
        Suppression.objects.filter(company=company, address__any=addresses).values_list(
            "address", flat=True
        )
    )


def is_suppressed(*, company: Company, address: str) -> bool:
    """Whether the address is opted out of the company's marketing. An address that is
    only undeliverable is not: an opt-out of it is still recorded, and outlasts the day
    staff mark it deliverable again."""
    return Suppression.objects.filter(
        company=company, address=address, reason=Suppression.Reason.OPTED_OUT
    ).exists()


def suppression_for(*, company: Company, addresses: list[str]) -> Suppression | None:
    """The suppression of these addresses (one person's) that says best why they are out:
    one of their own opt-outs before one that came through their other address."""
    found = Suppression.objects.filter(
        company=company,
        address__in=[a for a in addresses if a],
        reason=Suppression.Reason.OPTED_OUT,
    ).select_related("event")
    return min(found, key=lambda s: (s.event.source == Source.LINKED, s.pk), default=None)


def undeliverable_among(*, company: Company, addresses: list[str]) -> list[Suppression]:
    """Those of these addresses whose mail bounces, with the bounce that said so."""
    return list(
        Suppression.objects.filter(
            company=company,
            address__in=[a for a in addresses if a],
            reason=Suppression.Reason.UNDELIVERABLE,
        ).select_related("event")
    )


# Territories inside another country's numbering plan, and that country. phonenumbers names
# the territory (+44 7911 123456 is Guernsey, +1 787 Puerto Rico), which stays the message's
# and the event's country; the opt-out rule is that of the country that runs the plan,
# unless staff give the territory a rule of its own (Canada has one).
NUMBERING_PLAN_COUNTRY = {
    # +44: the Crown Dependencies share the UK's plan.
    **dict.fromkeys(["GG", "JE", "IM"], "GB"),
    # +1: the North American Numbering Plan.
    **dict.fromkeys(
        ["AG", "AI", "AS", "BB", "BM", "BS", "CA", "DM", "DO", "GD", "GU", "JM", "KN", "KY",
         "LC", "MP", "MS", "PR", "SX", "TC", "TT", "VC", "VG", "VI"],
        "US",
    ),
}  # fmt: skip


def country_rules() -> dict[str, CountryRule]:
    return {rule.country: rule for rule in CountryRule.objects.all()}


def rule_for_country(rules: dict[str, CountryRule], country: str) -> CountryRule:
    """The country's own rule, else that of the country whose numbering plan it is in,
    else the default (``ZZ``)."""
    plan = NUMBERING_PLAN_COUNTRY.get(country, "")
    try:
        return rules.get(country) or rules.get(plan) or rules[CountryRule.DEFAULT_COUNTRY]
    except KeyError:
        raise CountryRule.DoesNotExist(
            f"No opt-out rule for {country!r} and no default ({CountryRule.DEFAULT_COUNTRY}) rule."
        ) from None


def is_one_tap(country: str) -> bool:
    try:
        return rule_for_country(country_rules(), country).one_tap
    except CountryRule.DoesNotExist:
        return False


def leave_reasons(*, company: Company) -> list[tuple[str, str]]:
    """The reasons a company's landing page offers: its own, or the defaults."""
    own = [(r.label, r.label) for r in LeaveReason.objects.filter(company=company)]
    return own or list(Reason.choices)


def optouts_for_campaign(*, company: Company, campaign_id: int) -> QuerySet[ConsentEvent]:
    return _campaign_optouts(company).filter(campaign_id=campaign_id)


def optouts_per_campaign(*, company: Company, campaign_ids: list[int]) -> dict[int, int]:
    """Opt-outs attributed to each of these campaigns, counted as ``optouts_for_campaign``
    counts them, in one GROUP BY on the (company, campaign_id) index; none: left out."""
    if not campaign_ids:
        return {}
    return dict(
        _campaign_optouts(company)
        .filter(campaign_id__in=campaign_ids)
        .order_by()
        .values("campaign_id")
        .annotate(n=Count("id"))
        .values_list("campaign_id", "n")
    )


def _campaign_optouts(company: Company) -> QuerySet[ConsentEvent]:
    return ConsentEvent.objects.filter(company=company, kind=ConsentEvent.Kind.OPT_OUT)


def reason_counts(events: QuerySet[ConsentEvent]) -> list[tuple[str, int]]:
    """``[("Too many messages", 3), ("No reason given", 1)]``, most given first."""
    rows = (
        events.order_by().values("reason").annotate(count=Count("id")).order_by("-count", "reason")
    )
    return [(reason_label(row["reason"]), row["count"]) for row in rows]


def route_for_reply(*, shortcode: str, address: str) -> ReplyRoute | None:
    return (
        ReplyRoute.objects.filter(shortcode=shortcode, address=address)
        .select_related("company")
        .first()
    )


def replies_from(*, company: Company, phone: str) -> QuerySet[InboundMessage]:
    """Every reply this number sent the company, newest first; none without a number."""
    if not phone:
        return InboundMessage.objects.none()
    return InboundMessage.objects.filter(company=company, sender_e164=phone).order_by(
        "-received_at", "-id"
    )


def replies_to_review(*, company: Company) -> QuerySet[InboundMessage]:
    """Replies of this company's recipients that matched no keyword."""
    return InboundMessage.objects.filter(company=company, status=InboundMessage.Status.UNMATCHED)


def suppression_list(*, company: Company) -> QuerySet[Suppression]:
    return Suppression.objects.filter(company=company).select_related("event")


# --- for programs: the API's suppression list, check and consent-event feed -------------

# How long a new consent event is held back from the feed: longer than the transaction
# that writes an opt-out takes (see consent_feed).
FEED_SETTLE = timedelta(seconds=5)
# The application's clock (which stamps events) against the database's (which stamps
# transactions): they may differ a little, on separate machines more.
FEED_CLOCK_MARGIN = timedelta(seconds=2)
MAX_ID = 2**63 - 1


def parse_address(raw: str, *, company: Company) -> str:
    """An email address or a phone number in any usual format, as suppressions key it.

    National numbers are read in the company's default country, as the import reads them.
    Raises ``InvalidAddress`` with a message a person can act on.
    """
    text = (raw or "").strip()
    if is_email(text):
        return normalize_email(text)
    return parse_phone(text, company.default_country).e164


def channel_of(address: str) -> str:
    return "email" if is_email(address) else "sms"


@dataclass(frozen=True)
class SuppressionStatus:
    """Whether marketing may go to one address; when it may not, since when, how and why."""

    address: str
    suppressed: bool
    since: datetime | None = None
    source: str = ""
    reason: str = ""
    reason_text: str = ""
    campaign_id: int | None = None
    event_id: int | None = None
    suppression_id: int | None = None

    @property
    def may_send_marketing(self) -> bool:
        return not self.suppressed


def check_suppressions(*, company: Company, addresses: list[str]) -> dict[str, SuppressionStatus]:
    """The status of each (already normalized) address: one query, whatever their number.

    Called before every message a customer's own systems send, so it reads the
    (company, address) unique index joined to the event by primary key, builds no model
    instances and writes nothing.
    """
    wanted = [a for a in dict.fromkeys(addresses) if a]
    with connection.cursor() as cursor:
        cursor.execute(_check_sql(len(wanted), connection.vendor), [company.pk, *wanted])
        rows = cursor.fetchall()
    found = {
        address: SuppressionStatus(
            address=address,
            suppressed=True,
            since=_aware(since),
            source=source,
            reason=reason,
            reason_text=reason_text,
            campaign_id=campaign_id,
            event_id=event_id,
            suppression_id=suppression_id,
        )
        for address, since, source, reason, reason_text, campaign_id, event_id, suppression_id in (
            rows
        )
    }
    return {a: found.get(a) or SuppressionStatus(address=a, suppressed=False) for a in wanted}


@cache
def _check_sql(count: int, vendor: str) -> str:
    """The check's SQL for ``count`` addresses, written by the ORM once per process.

    Compiling the queryset cost more than running it (about 0.4 ms of a 4 ms request,
    measured under gunicorn by ``make bench``); the statement itself is the queryset's, so
    the company stays its first parameter, as the tenant scope demands of every query.
    """
    placeholders = [f"address-{n}" for n in range(count)]
    query = (
        Suppression.objects.filter(company_id=0)
        .filter(address__in=placeholders)
        .order_by()
        .values_list(
            "address",
            "created_at",
            "event__source",
            "event__reason",
            "event__reason_text",
            "event__campaign_id",
            "event_id",
            "id",
        )
        .query
    )
    sql, params = query.get_compiler(connection=connection).as_sql()
    if list(params) != [0, *placeholders]:  # the parameters' order is what execute relies on
        raise RuntimeError(f"Unexpected parameters of the suppression check: {params}")
    return sql


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite hands back naive UTC from a raw cursor; PostgreSQL an aware moment.
    if moment is None or timezone.is_aware(moment):
        return moment
    return timezone.make_aware(moment, UTC)


def search_suppressions(
    *,
    company: Company,
    address: str = "",
    source: str = "",
    campaign_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    query: str = "",
    reason: str = "",
) -> QuerySet[Suppression]:
    """The suppression list narrowed as a program or a marketer asks.

    ``address`` is exact (normalized, see ``parse_address``); ``query`` is any part of an
    address, where digits match however the number is spaced; ``since``/``until`` bound the
    moment the address was first suppressed (``until`` excluded).
    """
    rows = suppression_list(company=company)
    if address:
        rows = rows.filter(address=address)
    if source:
        rows = rows.filter(event__source=source)
    if reason:
        rows = rows.filter(reason=reason)
    if campaign_id is not None:
        rows = rows.filter(event__campaign_id=campaign_id)
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    if until is not None:
        rows = rows.filter(created_at__lt=until)
    if query := query.strip():
        match = Q(address__icontains=query)
        digits = "".join(ch for ch in query if ch.isdigit())
        if len(digits) >= 3 and not any(ch.isalpha() or ch == "@" for ch in query):
            match |= Q(address__contains=digits)
        rows = rows.filter(match)
    return rows


def consent_feed(
    *,
    company: Company,
    after: int = 0,
    limit: int = 100,
    kind: str = "",
    address: str = "",
    settle: timedelta = FEED_SETTLE,
) -> list[ConsentEvent]:
    """The company's consent events after id ``after``, oldest first, safe to page through.

    A client keeps the last id it read and asks for what comes after it. Ids are handed
    out when a row is inserted, not when its transaction commits, so an event with a
    smaller id can become visible after a larger one: had the larger one been read
    already, the client would skip the smaller one for good. So the feed ends before the
    first event that may still have an earlier neighbour on its way: one written less
    than ``settle`` ago, or (on PostgreSQL) after the start of the oldest transaction
    that is still writing, however long it runs (an import, a long batch).
    """
    # Bounces ("undeliverable") are not consent: the feed speaks of opt-outs and opt-ins.
    events = ConsentEvent.objects.filter(
        company=company, id__gt=after, kind__in=ConsentEvent.CONSENT_KINDS
    )
    if kind:
        events = events.filter(kind=kind)
    if address:
        events = events.filter(address=address)
    horizon = timezone.now() - settle
    if oldest := _oldest_writing_transaction():
        horizon = min(horizon, oldest - FEED_CLOCK_MARGIN)
    first_unsettled = Subquery(
        events.filter(created_at__gte=horizon).order_by("id").values("id")[:1]
    )
    return list(
        events.filter(id__lt=Coalesce(first_unsettled, Value(MAX_ID))).order_by("id")[:limit]
    )


def _oldest_writing_transaction() -> datetime | None:
    """When the oldest other transaction of this database that has written began.

    Its events, not yet visible, were written after that moment. Other databases' and
    read-only transactions cannot hold an event id. SQLite has one writer at a time: what
    is committed there is all there is before the settle time.
    """
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT min(xact_start) FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND backend_xid IS NOT NULL "
            "AND pid <> pg_backend_pid()"
        )
        (oldest,) = cursor.fetchone()
    return oldest


def suppressions_matching(
    *, company: Company, channel: str = "", country: str = "", **criteria
) -> QuerySet[Suppression]:
    """``search_suppressions`` narrowed by channel (``sms``, ``email``) and the number's
    country too, newest first: the order of the (company, created_at, id) index."""
    rows = search_suppressions(company=company, **criteria)
    if channel == "email":
        rows = rows.filter(address__contains="@")
    elif channel == "sms":
        rows = rows.exclude(address__contains="@")
    if country:
        rows = rows.filter(country=country)
    return rows.order_by("-created_at", "-id")


def suppression_page(*, company: Company, offset: int, limit: int, **criteria) -> list[Suppression]:
    """``limit`` rows of ``suppressions_matching`` from ``offset``, with their events.

    The ids come first, from the (company, created_at, id) index alone, so a deep page
    skips index entries rather than rows joined to their events; only the page is joined.
    """
    matching = suppressions_matching(company=company, **criteria)
    ids = list(matching.values_list("id", flat=True)[offset : offset + limit])
    rows = suppression_list(company=company).filter(id__in=ids)
    return list(rows.order_by("-created_at", "-id"))
