from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Q, QuerySet

from addressbook.models import Company, Contact

from .models import (
    ConsentEvent,
    CountryRule,
    InboundMessage,
    LeaveReason,
    Reason,
    ReplyRoute,
    Suppression,
)


def _suppressed(address_field: str, company: Company | None = None) -> Exists:
    """Whether the row's address is suppressed for ``company`` (default: the row's own)."""
    owner = {"company": company} if company else {"company_id": OuterRef("company_id")}
    return Exists(Suppression.objects.filter(address=OuterRef(address_field), **owner))


def reachable_for_marketing(*, company: Company, contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """``contacts`` minus everyone whose phone or email this company may not market to.

    One set-based anti-join on the (company, address) unique index, never a lookup per
    contact.
    """
    return contacts.filter(~_suppressed("phone", company), ~_suppressed("email", company))


def suppressed_contacts(*, company: Company, contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    return contacts.filter(Q(_suppressed("phone", company)) | Q(_suppressed("email", company)))


def with_optout_status(*, company: Company, contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """Each contact with ``opted_out``: True when its phone or email is suppressed."""
    return contacts.annotate(
        opted_out=ExpressionWrapper(
            Q(_suppressed("phone", company)) | Q(_suppressed("email", company)),
            output_field=BooleanField(),
        )
    )


def consent_timeline(*, company: Company, addresses: list[str]) -> QuerySet[ConsentEvent]:
    """Every opt-out and opt-in of these addresses, newest first."""
    return ConsentEvent.objects.filter(company=company, address__in=[a for a in addresses if a])


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
    return Suppression.objects.filter(company=company, address=address).exists()


def suppression_for(*, company: Company, addresses: list[str]) -> Suppression | None:
    return (
        Suppression.objects.filter(company=company, address__in=[a for a in addresses if a])
        .select_related("event")
        .first()
    )


def country_rules() -> dict[str, CountryRule]:
    return {rule.country: rule for rule in CountryRule.objects.all()}


def rule_for_country(rules: dict[str, CountryRule], country: str) -> CountryRule:
    try:
        return rules.get(country) or rules[CountryRule.DEFAULT_COUNTRY]
    except KeyError:
        raise CountryRule.DoesNotExist(
            f"No opt-out rule for {country!r} and no default ({CountryRule.DEFAULT_COUNTRY}) rule."
        ) from None


def is_one_tap(country: str) -> bool:
    rules = country_rules()
    rule = rules.get(country) or rules.get(CountryRule.DEFAULT_COUNTRY)
    return bool(rule and rule.one_tap)


def leave_reasons(*, company: Company) -> list[tuple[str, str]]:
    """The reasons a company's landing page offers: its own, or the defaults."""
    own = [(r.label, r.label) for r in LeaveReason.objects.filter(company=company)]
    return own or list(Reason.choices)


def optouts_for_campaign(*, company: Company, campaign_id: int) -> QuerySet[ConsentEvent]:
    return ConsentEvent.objects.filter(
        company=company, campaign_id=campaign_id, kind=ConsentEvent.Kind.OPT_OUT
    )


def reason_counts(events: QuerySet[ConsentEvent]) -> list[tuple[str, int]]:
    """``[("Too many messages", 3), ("No reason given", 1)]``, most given first."""
    labels = dict(Reason.choices)
    rows = (
        events.order_by().values("reason").annotate(count=Count("id")).order_by("-count", "reason")
    )
    return [(labels.get(row["reason"], "No reason given"), row["count"]) for row in rows]


def route_for_reply(*, shortcode: str, address: str) -> ReplyRoute | None:
    return (
        ReplyRoute.objects.filter(shortcode=shortcode, address=address)
        .select_related("company")
        .first()
    )


def replies_to_review(*, company: Company) -> QuerySet[InboundMessage]:
    """Replies of this company's recipients that matched no keyword."""
    return InboundMessage.objects.filter(company=company, status=InboundMessage.Status.UNMATCHED)


def suppression_list(*, company: Company) -> QuerySet[Suppression]:
    return Suppression.objects.filter(company=company).select_related("event")
