from dataclasses import dataclass

# Starts the error of a message the gateway may or may not have: never sent again (that
# could deliver it twice); a delivery report, if one comes, settles it.
UNKNOWN_OUTCOME_PREFIX = "Unknown:"


class TransientGatewayError(Exception):
    """The gateway took none of the batch (down, overloaded): trying again is safe."""


@dataclass(frozen=True)
class OutboundSms:
    reference: str
    to: str
    sender: str
    body: str


@dataclass(frozen=True)
class SendResult:
    reference: str
    accepted: bool
    gateway_reference: str = ""
    error: str = ""
    # Not accepted, but trying again later is safe: the gateway was unreachable or
    # overloaded.
    retry: bool = False


class BaseSmsBackend:
    """Hands a batch of messages to a gateway and says, per message, whether it took it."""

    def send_messages(self, batch: list[OutboundSms]) -> list[SendResult]:
        raise NotImplementedError
