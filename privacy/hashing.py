"""The keyed hash that stands in for an erased person's number or email address.

Hashing is pseudonymisation, not anonymisation: the Dutch DPA holds that hashed personal
data usually remain personal data, and phone numbers are few enough that a plain hash is
reversed with a lookup table (research/compliance.md §5 "Hashed numbers" [62][101]). So
the hash is an HMAC under a key of our own (ERASURE_HASH_KEY), which lookup tables
cannot be built without, and the rows that hold it are still treated as personal data.
"""

import base64
import hashlib
import hmac

from django.conf import settings

from addressbook.models import AuditEvent
from campaigns.models import Message
from optout.models import InboundMessage

ERASED_PREFIX = "erased:"

# The hash replaces the address in place, so it must fit the narrowest column that holds
# one (InboundMessage.sender_e164: 16). None of these columns is unique, so two people
# whose hashes met would only share a label.
ADDRESS_COLUMNS = (
    Message._meta.get_field("to"),
    InboundMessage._meta.get_field("sender"),
    InboundMessage._meta.get_field("sender_e164"),
    AuditEvent._meta.get_field("target"),
)
ERASED_LENGTH = min(field.max_length for field in ADDRESS_COLUMNS)


def erasure_hash(address: str) -> str:
    """``erased:`` and the start of HMAC-SHA256(ERASURE_HASH_KEY, address) in base32.

    The same address always gives the same text: the kept rows of one erased person
    still belong together, and whoever holds the key can check whether a given address
    was the one erased. 9 base32 characters are 45 bits, plenty to tell people apart.
    """
    digest = hmac.new(settings.ERASURE_HASH_KEY.encode(), address.encode(), hashlib.sha256).digest()
    encoded = base64.b32encode(digest).decode().lower()
    return ERASED_PREFIX + encoded[: ERASED_LENGTH - len(ERASED_PREFIX)]


def is_erased(value: str) -> bool:
    return value.startswith(ERASED_PREFIX)
