"""Who changed a person's consent, from where, and the proof an opt-in rests on.

Every consent event records its actor and, where the person acted on a page of ours, the
wording version shown, their IP address and browser. A marketer brings an address back only
with ``Proof``: how, when and in what words the person consented.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.core.files import File
from django.utils import timezone

from .models import ActorType, ConsentMethod, Source


@dataclass(frozen=True)
class Actor:
    type: str
    id: int | None = None
    label: str = ""

    @classmethod
    def user(cls, user) -> "Actor":
        return cls(ActorType.USER, user.pk, user.get_username())

    @classmethod
    def staff(cls, user) -> "Actor":
        return cls(ActorType.STAFF, user.pk, user.get_username())

    @classmethod
    def api_key(cls, key) -> "Actor":
        return cls(ActorType.API_KEY, key.pk, key.name)

    @classmethod
    def gateway(cls, name: str) -> "Actor":
        return cls(ActorType.GATEWAY, None, name)


PERSON = Actor(ActorType.PERSON)
SYSTEM = Actor(ActorType.SYSTEM)

# The channels on which the person acts themself; any other opt-out is made for them.
_PERSONS_OWN = {
    Source.SMS_KEYWORD,
    Source.LANDING_PAGE,
    Source.EMAIL_LINK,
    Source.ONE_CLICK,
    Source.DOUBLE_OPT_IN,
    Source.MAILTO,
}


def default_actor(source: str) -> Actor:
    return PERSON if source in _PERSONS_OWN else SYSTEM


@dataclass(frozen=True)
class Seen:
    """What the person's browser told us when they acted on a page of ours."""

    ip_address: str | None = None
    user_agent: str = ""
    wording_version: str = ""

    @classmethod
    def from_request(cls, request, *, wording_version: str = "") -> "Seen":
        return cls(
            ip_address=request.META.get("REMOTE_ADDR") or None,
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
            wording_version=wording_version,
        )


NOTHING_SEEN = Seen()


class ConsentProofRequired(ValueError):
    """An opt-in made for the person without recorded proof of their consent."""


@dataclass(frozen=True)
class Proof:
    """How the person consented again: recorded with the opt-in it allows."""

    method: str
    given_at: datetime
    wording: str
    document: File | None = field(default=None, compare=False)

    def check(self) -> None:
        if self.method not in ConsentMethod.values:
            raise ConsentProofRequired(f"“{self.method}” is not a way consent is given.")
        if not self.wording.strip():
            raise ConsentProofRequired(
                "Give the wording the person agreed to: it is what the consent means."
            )
        if self.given_at > timezone.now():
            raise ConsentProofRequired("Consent cannot have been given in the future.")
