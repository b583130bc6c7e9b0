"""Real SMS gateways' webhooks: one adapter per gateway, one small interface.

``adapter_for(name)`` gives the gateway's ``Adapter``: ``inbound(request, account)`` →
``InboundReply``, ``status(request, account)`` → ``[StatusReport]``, each verified with the
secret of ``account`` (a company's own GatewayWebhook) or, with None, the platform's
shared account from settings; both raise ``BadRequest`` for what is refused. The
generic signed format stays in optout.webhooks.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

from ..models import Gateway, GatewayWebhook
from ..webhooks import BadRequest
from . import cm, twilio, vonage
from .base import InboundReply, ReplyPart, StatusReport

__all__ = ["GATEWAYS", "Adapter", "InboundReply", "ReplyPart", "StatusReport", "adapter_for"]


@dataclass(frozen=True)
class Adapter:
    name: str
    label: str
    _inbound: Callable[..., InboundReply]
    _status: Callable[..., list[StatusReport]]
    _credentials: Callable[[GatewayWebhook | None], dict]
    # The body and content type of the answer to an accepted reply; None: our JSON.
    inbound_answer: tuple[str, str] | None = None

    def inbound(self, request: HttpRequest, account: GatewayWebhook | None) -> InboundReply:
        return self._inbound(request, **self._checked(account))

    def status(self, request: HttpRequest, account: GatewayWebhook | None) -> list[StatusReport]:
        return self._status(request, **self._checked(account))

    def _checked(self, account: GatewayWebhook | None) -> dict:
        credentials = self._credentials(account)
        if not credentials.get("secret"):
            where = "this account" if account else "the platform's shared account"
            raise BadRequest(f"{self.label} webhooks are not set up for {where}.", status=404)
        return credentials


def _cm(account: GatewayWebhook | None) -> dict:
    return {"secret": account.secret if account else settings.CM_WEBHOOK_TOKEN}


def _twilio(account: GatewayWebhook | None) -> dict:
    return {"secret": account.twilio_auth_token if account else settings.TWILIO_AUTH_TOKEN}


def _vonage(account: GatewayWebhook | None) -> dict:
    if account:
        return {
            "secret": account.vonage_signature_secret,
            "method": account.vonage_signature_method,
        }
    return {
        "secret": settings.VONAGE_SIGNATURE_SECRET,
        "method": settings.VONAGE_SIGNATURE_METHOD,
    }


GATEWAYS = {
    Gateway.CM: Adapter(Gateway.CM, "CM.com", cm.parse_inbound, cm.parse_status, _cm),
    Gateway.TWILIO: Adapter(
        Gateway.TWILIO,
        "Twilio",
        twilio.parse_inbound,
        twilio.parse_status,
        _twilio,
        inbound_answer=(twilio.EMPTY_TWIML, "text/xml"),
    ),
    Gateway.VONAGE: Adapter(
        Gateway.VONAGE, "Vonage", vonage.parse_inbound, vonage.parse_status, _vonage
    ),
}


def adapter_for(name: str) -> Adapter:
    try:
        return GATEWAYS[name]
    except KeyError:
        raise BadRequest("No such gateway.", status=404) from None
