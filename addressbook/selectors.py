from contextlib import suppress
from dataclasses import asdict, dataclass
from urllib.parse import urlencode

from django.db.models import Count, Q, QuerySet
from django.http import QueryDict

from .addresses import InvalidAddress, normalize_email, parse_phone
from .models import (
    AuditEvent,
    Company,
    Contact,
    CustomField,
    Group,
    ImportJob,
    Invitation,
    Membership,
)


@dataclass(frozen=True)
class ContactFilter:
    """What the contact list is narrowed to; it travels in the URL so it can be shared."""

    q: str = ""
    group: str = ""
    country: str = ""
    status: str = ""  # "reachable" or "opted_out": applied by the caller, see optout
    field: str = ""
    value: str = ""

    @classmethod
    def from_query(cls, data: QueryDict) -> "ContactFilter":
        return cls(**{name: data.get(name, "").strip() for name in cls.__dataclass_fields__})

    @property
    def params(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v}

    @property
    def querystring(self) -> str:
        return urlencode(self.params)

    @property
    def active(self) -> bool:
        return any(asdict(self).values())


def filter_contacts(*, company: Company, filters: ContactFilter) -> QuerySet[Contact]:
    contacts = Contact.objects.filter(company=company)
    if filters.q:
        contacts = contacts.filter(_search(company, filters.q))
    if filters.group.isdecimal():  # not isdigit(): int() refuses "²"
        contacts = contacts.filter(groups__id=int(filters.group), groups__company=company)
    if filters.country:
        contacts = contacts.filter(country=filters.country.upper())
    if filters.field and filters.value:
        key = (
            CustomField.objects.filter(company=company, key=filters.field)
            .values_list("key", flat=True)
            .first()
        )
        if key:
            contacts = contacts.filter(**{f"custom__{key}__icontains": filters.value})
    return contacts


def with_address(
    contacts: QuerySet[Contact], *, company: Company, phone: str = "", email: str = ""
) -> QuerySet[Contact]:
    """``contacts`` with exactly this phone number or email address, however it is written.

    A phone in any usual format (national ones in the company's default country) matches
    its E.164 form, an email its stored form; either raises ``InvalidAddress`` when it is
    none. Both addresses are unique within a company, so each matches one contact at most.
    """
    if phone.strip():
        contacts = contacts.filter(phone=parse_phone(phone, company.default_country).e164)
    if email.strip():
        contacts = contacts.filter(email=normalize_email(email))
    return contacts


def _search(company: Company, query: str) -> Q:
    match = (
        Q(first_name__icontains=query)
        | Q(last_name__icontains=query)
        | Q(email__icontains=query)
        | Q(phone__contains=query)
    )
    with suppress(InvalidAddress):
        match |= Q(phone=parse_phone(query, company.default_country).e164)
    return match


def groups_of(*, company: Company) -> QuerySet[Group]:
    return Group.objects.filter(company=company).annotate(size=Count("contacts"))


def countries_of(*, company: Company) -> list[str]:
    return list(
        Contact.objects.filter(company=company)
        .exclude(country="")
        .order_by("country")
        .values_list("country", flat=True)
        .distinct()
    )


def custom_fields_of(*, company: Company) -> QuerySet[CustomField]:
    return CustomField.objects.filter(company=company)


def imports_of(*, company: Company) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(company=company)


def audit_events_of(*, company: Company, action: str = "") -> QuerySet[AuditEvent]:
    """Newest first; ``action`` narrows to one kind of event (an unknown one to none)."""
    events = AuditEvent.objects.filter(company=company).select_related("actor")
    if action:
        events = events.filter(action=action)
    return events.order_by("-created_at", "-id")


def members_of(*, company: Company) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(company=company)
        .select_related("user")
        .order_by("user__username", "id")
    )


def open_invitations_of(*, company: Company) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        company=company, accepted_at__isnull=True, revoked_at__isnull=True
    ).select_related("invited_by")
