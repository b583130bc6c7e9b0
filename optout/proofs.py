"""Bringing a suppressed address back on recorded proof of the person's consent.

GDPR art. 7(1): the company must be able to show who consented, when, how and to exactly
what wording (research/compliance.md §5). A marketer records that (web form, paper, phone)
with an optional document (the signed form, a scan); the opt-in event carries it all and
the suppression goes only then. The document is kept under MEDIA_ROOT and served only
through the company's own dashboard view, never as a public file.
"""

import secrets

from django.core.files.base import ContentFile
from django.db import transaction

from addressbook.models import Company
from addressbook.services.audit import Action, record_audit

from .consent import Actor, Proof, Seen
from .models import ConsentEvent
from .services import record_optin

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
# What a document may be, told by its first bytes, never by its name or the browser's
# word: (signature, file extension, content type).
DOCUMENT_KINDS = [
    (b"%PDF-", "pdf", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
    (b"\xff\xd8\xff", "jpg", "image/jpeg"),
]
# The audit log's name for it (AuditEvent.Action has no member for it yet).


class DocumentRefused(ValueError):
    """A document that is not a PDF or an image, or is too large: the message says so."""


def document_kind(head: bytes) -> tuple[str, str] | None:
    """(extension, content type) of a document by its first bytes, None if not ours."""
    for signature, extension, content_type in DOCUMENT_KINDS:
        if head.startswith(signature):
            return extension, content_type
    return None


def read_document(data: bytes) -> ContentFile:
    """A document to keep with the proof, under a random name (never the uploaded one)."""
    if not data:
        raise DocumentRefused("The document is empty.")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentRefused(
            f"The document is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB: scan it "
            "at a lower resolution, or keep the first pages."
        )
    kind = document_kind(data[:8])
    if kind is None:
        raise DocumentRefused("The document must be a PDF, or a PNG or JPEG image.")
    return ContentFile(data, name=f"{secrets.token_hex(16)}.{kind[0]}")


def record_consent_again(
    *,
    company: Company,
    address: str,
    source: str,
    proof: Proof,
    actor: Actor,
    seen: Seen,
    user=None,
    ip: str | None = None,
) -> ConsentEvent:
    """The opt-in that brings ``address`` back, carrying ``proof``; audited.

    Raises ``ConsentProofRequired`` when the proof does not hold (no wording, a moment in
    the future, a method a marketer cannot name). ``user`` and ``ip``: who did it, for the
    audit log (none for an API key, which ``actor`` names).
    """
    with transaction.atomic():
        event = record_optin(
            company=company, address=address, source=source, actor=actor, seen=seen, proof=proof
        )
        record_audit(
            company=company,
            action=Action.CONSENT_RECORDED,
            actor=user,
            target=address,
            details={
                "method": event.get_consent_method_display(),
                "given": proof.given_at.isoformat(timespec="minutes"),
                "by": actor.label,
                "document": "yes" if event.consent_document else "",
            },
            ip=ip,
        )
    return event
