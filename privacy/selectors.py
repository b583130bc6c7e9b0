"""Where a person's data lives, app by app: the one place that knows all of it.

A person is a contact of one company, known by its phone number and email address. Their
data is the contact (with its custom values and groups), the messages sent to the contact
or to its addresses, the replies from its number, and the consent events, suppressions and
double opt-in requests of its addresses. Rows of the same address whose contact was
deleted earlier are theirs too: suppression and messages are keyed by address.
"""

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from addressbook.models import Contact
from campaigns.models import Campaign, EmailFeedback, Message
from optout.models import ConsentEvent, InboundMessage, OptinRequest, Suppression


def is_phone(address: str) -> bool:
    return "@" not in address


def messages_of_person(*, contact: Contact, addresses: list[str]) -> QuerySet[Message]:
    """Sent to this contact (whatever address it had then), or to one of its addresses."""
    return Message.objects.filter(company=contact.company).filter(
        Q(contact_id=contact.pk) | Q(to__in=addresses)
    )


def replies_of_person(*, contact: Contact, addresses: list[str]) -> QuerySet[InboundMessage]:
    phones = [a for a in addresses if is_phone(a)]
    return InboundMessage.objects.filter(company=contact.company, sender_e164__in=phones)


def consent_events_of_person(*, contact: Contact, addresses: list[str]) -> QuerySet[ConsentEvent]:
    return ConsentEvent.objects.filter(company=contact.company, address__in=addresses)


def suppressions_of_person(*, contact: Contact, addresses: list[str]) -> QuerySet[Suppression]:
    return Suppression.objects.filter(company=contact.company, address__in=addresses)


def optin_requests_of_person(*, contact: Contact, addresses: list[str]) -> QuerySet[OptinRequest]:
    return OptinRequest.objects.filter(company=contact.company, address__in=addresses)


@dataclass(frozen=True)
class Footprint:
    """How much is held about a person: what the erase screen says will go."""

    addresses: list[str]
    messages: int
    replies: int
    consent_events: int
    suppressed: list[str]


def footprint_of_person(*, contact: Contact) -> Footprint:
    addresses = contact.addresses
    return Footprint(
        addresses=addresses,
        messages=messages_of_person(contact=contact, addresses=addresses).count(),
        replies=replies_of_person(contact=contact, addresses=addresses).count(),
        consent_events=consent_events_of_person(contact=contact, addresses=addresses).count(),
        suppressed=sorted(
            suppressions_of_person(contact=contact, addresses=addresses).values_list(
                "address", flat=True
            )
        ),
    )


# --- the export ------------------------------------------------------------------------
EXPORT_FORMAT = "person-export/1"


def _when(moment) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def person_data(*, contact: Contact) -> dict:
    """Everything the company holds about this person, as JSON-ready data.

    Only the contact's company's rows: every query below starts from it.
    """
    from addressbook.models import CustomField, Group

    company = contact.company
    addresses = contact.addresses
    field_names = dict(CustomField.objects.filter(company=company).values_list("key", "name"))
    groups = Group.objects.filter(company=company, contacts=contact).order_by("name", "pk")
    messages = list(
        messages_of_person(contact=contact, addresses=addresses).order_by("created_at", "pk")
    )
    replies = replies_of_person(contact=contact, addresses=addresses).order_by("received_at", "pk")
    events = list(
        consent_events_of_person(contact=contact, addresses=addresses).order_by("created_at", "pk")
    )
    campaign_ids = {m.campaign_id for m in messages} | {e.campaign_id for e in events}
    campaign_names = dict(
        Campaign.objects.filter(company=company, pk__in=campaign_ids - {None}).values_list(
            "pk", "name"
        )
    )
    return {
        "format": EXPORT_FORMAT,
        "company": {"id": company.pk, "name": company.name},
        "contact": {
            "id": contact.pk,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "phone": contact.phone,
            "country": contact.country,
            "email": contact.email,
            "created_at": _when(contact.created_at),
            "updated_at": _when(contact.updated_at),
        },
        "custom_values": [
            {"key": key, "name": field_names.get(key, key), "value": value}
            for key, value in sorted(contact.custom.items())
        ],
        "groups": [{"id": g.pk, "name": g.name} for g in groups],
        "messages": [
            {
                "id": m.pk,
                "campaign_id": m.campaign_id,
                "campaign_name": campaign_names.get(m.campaign_id),
                "kind": m.kind,
                "channel": m.channel,
                "to": m.to,
                "country": m.country,
                "sender": m.sender,
                "subject": m.subject,
                "body": m.body,
                "status": m.status,
                "error": m.error,
                "created_at": _when(m.created_at),
                "sent_at": _when(m.sent_at),
                "delivered_at": _when(m.delivered_at),
            }
            for m in messages
        ],
        "replies": [
            {
                "id": r.pk,
                "sender": r.sender_e164 or r.sender,
                "recipient": r.recipient,
                "text": r.text,
                "status": r.status,
                "campaign_id": r.campaign_id,
                "replied_at": _when(r.replied_at),
                "received_at": _when(r.received_at),
            }
            for r in replies
        ],
        "consent_events": [
            {
                "id": e.pk,
                "address": e.address,
                "kind": e.kind,
                "source": e.source,
                "campaign_id": e.campaign_id,
                "campaign_name": campaign_names.get(e.campaign_id),
                "reason": e.reason,
                "reason_label": e.reason_label,
                "reason_text": e.reason_text,
                "raw_text": e.raw_text,
                "actor_type": e.actor_type,
                "actor_label": e.actor_label,
                "ip_address": e.ip_address,
                "user_agent": e.user_agent,
                "wording_version": e.wording_version,
                "linked_event_id": e.linked_event_id,
                "consent_method": e.consent_method,
                "consent_given_at": _when(e.consent_given_at),
                "consent_wording": e.consent_wording,
                "consent_document": e.consent_document.name or "",
                "created_at": _when(e.created_at),
            }
            for e in events
        ],
        "suppressions": [
            {
                "address": s.address,
                "since": _when(s.created_at),
                "event_id": s.event_id,
                "reason": s.reason,
            }
            for s in suppressions_of_person(contact=contact, addresses=addresses).order_by(
                "created_at", "pk"
            )
        ],
        # What the email services reported about mail to the person: bounces, complaints.
        "email_reports": [
            {
                "address": f.address,
                "kind": f.kind,
                "service": f.esp,
                "description": f.description,
                "campaign_id": f.campaign_id,
                "received_at": _when(f.received_at),
            }
            for f in EmailFeedback.objects.filter(
                company=company, address__in=[a for a in addresses if a]
            ).order_by("received_at", "pk")
        ],
        "optin_requests": [
            {
                "address": o.address,
                "channel": o.channel,
                "status": o.status,
                "wording": o.wording,
                "created_at": _when(o.created_at),
                "expires_at": _when(o.expires_at),
                "confirmed_at": _when(o.confirmed_at),
            }
            for o in optin_requests_of_person(contact=contact, addresses=addresses).order_by(
                "created_at", "pk"
            )
        ],
    }
