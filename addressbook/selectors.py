from contextlib import suppress

from django.db.models import Q, QuerySet

from .addresses import InvalidAddress, parse_phone
from .models import Company, Contact


def search_contacts(*, company: Company, query: str = "") -> QuerySet[Contact]:
    contacts = Contact.objects.filter(company=company)
    query = query.strip()
    if not query:
        return contacts
    match = (
        Q(first_name__icontains=query)
        | Q(last_name__icontains=query)
        | Q(email__icontains=query)
        | Q(phone__contains=query)
    )
    with suppress(InvalidAddress):
        match |= Q(phone=parse_phone(query, company.default_country).e164)
    return contacts.filter(match)
