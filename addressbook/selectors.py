from contextlib import suppress
from dataclasses import asdict, dataclass
from urllib.parse import urlencode

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Lower
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
    # How the list is ordered: a key of CONTACT_SORTS, "-" before it for descending.
    # It narrows nothing; it travels with the filters so pages and links keep it.
    sort: str = ""

    @classmethod
    def from_query(cls, data: QueryDict) -> "ContactFilter":
        values = {name: data.get(name, "").strip() for name in cls.__dataclass_fields__}
        if values["sort"].removeprefix("-") not in CONTACT_SORTS:
            values["sort"] = ""  # a stale or made-up link: the default order, not an error
        return cls(**values)

    @property
    def params(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v}

    @property
    def querystring(self) -> str:
        return urlencode(self.params)

    @property
    def active(self) -> bool:
        return any(v for k, v in asdict(self).items() if k != "sort")

    def sort_link(self, key: str) -> str:
        """The query string a column header links to: sorted by ``key`` ascending, or
        descending when the list is already sorted ascending by it; back to page 1."""
        return urlencode({**self.params, "sort": f"-{key}" if self.sort == key else key})

    def sort_direction(self, key: str) -> str:
        """ "ascending" or "descending" when the list is sorted by ``key`` (as aria-sort
        names it), else ""."""
        if self.sort.removeprefix("-") != key:
            return ""
        return "descending" if self.sort.startswith("-") else "ascending"


# What the contact list can be sorted by. ``opted_out`` is annotated by the caller
# (optout.selectors.with_optout_status): the address book knows nothing of opt-outs.
CONTACT_SORTS: dict[str, tuple] = {
    "name": (Lower("first_name"), Lower("last_name")),
    "phone": ("phone",),
    "email": ("email",),
    "created": ("created_at",),
    "status": ("opted_out",),
}


def sort_contacts(contacts: QuerySet[Contact], *, sort: str) -> QuerySet[Contact]:
    """``contacts`` in the order ``sort`` names (see ``CONTACT_SORTS``), ties broken by id
    so that a page never repeats or loses a contact; by id when ``sort`` is empty."""
    key = sort.removeprefix("-")
    if key not in CONTACT_SORTS:
        return contacts.order_by("id")
    descending = sort.startswith("-")
    order = []
    for column in CONTACT_SORTS[key]:
        expression = F(column) if isinstance(column, str) else column
        order.append(expression.desc() if descending else expression.asc())
    return contacts.order_by(*order, "-id" if descending else "id")


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
    # Ordered here: Meta.ordering does not apply to a query with GROUP BY.
    return (
        Group.objects.filter(company=company)
        .annotate(size=Count("contacts"))
        .order_by(Lower("name"), "id")
    )


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
