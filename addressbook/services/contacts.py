from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string

from ..addresses import InvalidAddress, normalize_email, parse_phone
from ..models import Company, Contact


class ContactError(ValueError):
    """A contact cannot be saved; ``field`` says which input is at fault.

    ``code`` tells programs the kinds apart: ``invalid`` input, an address another contact
    already ``taken``, or an ``opted_out`` address that may not be edited away.
    """

    def __init__(self, message: str, field: str | None = None, *, code: str = "invalid"):
        super().__init__(message)
        self.field = field
        self.code = code


def _clean_addresses(*, company: Company, phone: str, email: str) -> dict[str, str]:
    cleaned = {"phone": "", "country": "", "email": ""}
    try:
        if phone.strip():
            parsed = parse_phone(phone, company.default_country)
            cleaned["phone"], cleaned["country"] = parsed.e164, parsed.region
    except InvalidAddress as exc:
        raise ContactError(str(exc), field="phone") from exc
    try:
        if email.strip():
            cleaned["email"] = normalize_email(email)
    except InvalidAddress as exc:
        raise ContactError(str(exc), field="email") from exc
    if not cleaned["phone"] and not cleaned["email"]:
        raise ContactError("A contact needs a phone number or an email address.", field="phone")
    return cleaned


def _save(contact: Contact) -> Contact:
    try:
        with transaction.atomic():
            contact.save()
    except IntegrityError as exc:
        taken = Contact.objects.filter(company=contact.company).exclude(pk=contact.pk)
        if contact.phone and taken.filter(phone=contact.phone).exists():
            raise ContactError(
                "Another contact already has this phone number.", "phone", code="taken"
            ) from exc
        if contact.email and taken.filter(email=contact.email).exists():
            raise ContactError(
                "Another contact already has this email address.", "email", code="taken"
            ) from exc
        raise
    return contact


def _clean_custom(company: Company, custom: dict[str, str] | None) -> dict:
    from .upserts import clean_custom_value

    cleaned = {}
    fields = {f.key: f for f in company.custom_fields.all()}
    for key, value in (custom or {}).items():
        if key in fields and str(value).strip():
            try:
                cleaned[key] = clean_custom_value(fields[key], str(value))
            except ValueError as exc:
                raise ContactError(f"{fields[key].name}: {exc}.", field=f"custom_{key}") from exc
    return cleaned


def _keep_suppressed_addresses(contact: Contact, new: dict[str, str]) -> None:
    """An opted-out address cannot be edited away: that would make the person reachable."""
    changed = {a for a in (contact.phone, contact.email) if a and a not in new.values()}
    if not changed:
        return
    suppressed = import_string(settings.ADDRESSBOOK_SUPPRESSED_OF)(contact.company, changed)
    for field in ("phone", "email"):
        if getattr(contact, field) in suppressed:
            raise ContactError(
                f"This {field} opted out; it stays on the contact so the opt-out holds. "
                "Add a new contact for another address.",
                field=field,
                code="opted_out",
            )


def create_contact(
    *,
    company: Company,
    phone: str = "",
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    custom: dict[str, str] | None = None,
) -> Contact:
    addresses = _clean_addresses(company=company, phone=phone, email=email)
    contact = Contact(
        company=company,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        custom=_clean_custom(company, custom),
        **addresses,
    )
    return _save(contact)


def update_contact(
    *,
    contact: Contact,
    phone: str = "",
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    custom: dict[str, str] | None = None,
) -> Contact:
    addresses = _clean_addresses(company=contact.company, phone=phone, email=email)
    _keep_suppressed_addresses(contact, addresses)
    for field, value in addresses.items():
        setattr(contact, field, value)
    contact.first_name = first_name.strip()
    contact.last_name = last_name.strip()
    if custom is not None:
        contact.custom = _clean_custom(contact.company, custom)
    return _save(contact)


def set_contact_groups(*, contact: Contact, group_ids: list[int]) -> None:
    company_groups = contact.company.groups
    wanted = set(company_groups.filter(pk__in=group_ids).values_list("pk", flat=True))
    # Not groups.set(): it reads the current groups without their company, which the
    # tenant scope refuses; the ids are the company's own either way.
    current = set(company_groups.filter(contacts=contact).values_list("pk", flat=True))
    contact.groups.remove(*(current - wanted))
    contact.groups.add(*(wanted - current))


def delete_contact(*, contact: Contact) -> None:
    # Suppression is keyed by address in the optout app, so it outlives this row.
    contact.delete()
