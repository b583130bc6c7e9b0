"""``/api/v1/messages/``: transactional messages sent now, and any message's status.

A transactional message (a one-time code, a receipt, a delivery notice) skips the
suppression list and carries no opt-out text: it is sent through the same service the
platform's own confirmations use. Every message of the company, campaign or transactional,
can be read back by its id, with what became of it.
"""

from django.http import Http404
from django.urls import path
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from addressbook.addresses import InvalidAddress, normalize_email, parse_phone
from campaigns.models import Channel, Message
from campaigns.segments import count_segments
from campaigns.selectors import message_link, messages_of
from campaigns.services import (
    is_gateway_outage,
    send_transactional,
    send_transactional_email,
    sender_error,
)
from optout.selectors import MAX_ID

from . import params
from .base import CompanyAPIView, idempotent, invalid
from .schema import ErrorBody, errors

TAGS = ["Messages"]
# Ten parts of a long GSM-7 SMS; gateways refuse longer ones.
SMS_BODY_LENGTH = 1530
EMAIL_BODY_LENGTH = 100_000


# --- what goes out ---------------------------------------------------------------------
class SegmentsSerializer(serializers.Serializer):
    encoding = serializers.ChoiceField(choices=["GSM-7", "UCS-2"])
    parts = serializers.IntegerField(help_text="SMS parts the body is sent (and billed) in")


class MessageSerializer(serializers.ModelSerializer):
    campaign_id = serializers.IntegerField(
        allow_null=True, help_text="The campaign it belongs to; null for a transactional one"
    )
    contact_id = serializers.IntegerField(
        allow_null=True, help_text="The contact it went to, while the contact exists"
    )
    short_link = serializers.SerializerMethodField(
        help_text="The recipient's own opt-out link in it: the short link of a marketing "
        "SMS, the unsubscribe link of a marketing email; empty where there is none."
    )
    segments = serializers.SerializerMethodField(help_text="SMS only: encoding and parts")

    class Meta:
        model = Message
        fields = [
            "id",
            "kind",
            "channel",
            "campaign_id",
            "contact_id",
            "to",
            "country",
            "sender",
            "subject",
            "body",
            "status",
            "error",
            "gateway_reference",
            "short_link",
            "segments",
            "created_at",
            "sent_at",
            "delivered_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "status": {
                "help_text": "queued, sending (handed to the gateway), sent, delivered, "
                "failed (see error), skipped (opted out) or cancelled"
            },
            "error": {"help_text": "Why it failed, when it did"},
            "sent_at": {"help_text": "When the gateway took it"},
            "delivered_at": {"help_text": "When it arrived, as the delivery report says"},
        }

    def get_short_link(self, message: Message) -> str:
        return message_link(message)

    @extend_schema_field(SegmentsSerializer(allow_null=True))
    def get_segments(self, message: Message) -> dict | None:
        if message.channel != Channel.SMS or not message.body:
            return None
        count = count_segments(message.body)
        return {"encoding": count.encoding, "parts": count.parts}


# --- what comes in -----------------------------------------------------------------------
class TransactionalSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.SMS)
    to = serializers.CharField(
        max_length=254,
        help_text="SMS: a phone number in any usual format (national ones in the company's "
        "country). Email: an email address.",
    )
    body = serializers.CharField(
        max_length=EMAIL_BODY_LENGTH,
        trim_whitespace=False,
        help_text=f"Sent as written, with no opt-out text. SMS: at most {SMS_BODY_LENGTH} "
        "characters.",
    )
    subject = serializers.CharField(
        max_length=255, required=False, default="", help_text="Email only, and needed there."
    )
    sender = serializers.CharField(
        max_length=16,
        required=False,
        default="",
        help_text="SMS only: up to 11 letters, digits and spaces, or a number of up to 16 "
        "digits. Empty: the company's default sender.",
    )

    def validate(self, data: dict) -> dict:
        problems: dict[str, list[str]] = {}
        company = self.context["company"]
        if data["channel"] == Channel.EMAIL:
            if not data["subject"].strip():
                problems["subject"] = ["An email needs a subject."]
            elif "\n" in data["subject"] or "\r" in data["subject"]:
                problems["subject"] = ["A subject is one line."]
            if data["sender"]:
                problems["sender"] = ["An email is sent from the company's address."]
        else:
            if len(data["body"]) > SMS_BODY_LENGTH:
                problems["body"] = [f"An SMS is at most {SMS_BODY_LENGTH} characters."]
            if problem := sender_error(channel=Channel.SMS, sender=data["sender"]):
                problems["sender"] = [problem]
            if data["subject"]:
                problems["subject"] = ["An SMS has no subject."]
        if not data["body"].strip():
            problems["body"] = ["Write the message."]
        if problems:
            raise serializers.ValidationError(problems)
        try:
            data["to"] = _address(data["channel"], data["to"], company.default_country)
        except InvalidAddress as exc:
            raise serializers.ValidationError({"to": [str(exc)]}) from None
        return data


def _address(channel: str, raw: str, default_country: str) -> str:
    if channel == Channel.EMAIL:
        return normalize_email(raw)
    return parse_phone(raw, default_country).e164


class GatewayUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "gateway_unavailable"


GATEWAY_DOWN = OpenApiResponse(
    ErrorBody,
    description="The gateway (or the mail server) could not take the message. It is "
    "recorded as failed, with why, and nothing was sent: send the request again later, "
    "with the same Idempotency-Key if it had one.",
)


def message_or_404(company, pk: int) -> Message:
    """The company's message with this id; another company's is as absent as none."""
    found = messages_of(company=company).filter(pk=pk).first() if pk <= MAX_ID else None
    if found is None:
        raise Http404("No such message in this company.")
    return found


# --- the endpoints -----------------------------------------------------------------------
class MessageList(mixins.ListModelMixin, CompanyAPIView):
    serializer_class = MessageSerializer

    def get_queryset(self):
        problems: dict = {}
        wanted = {
            "kind": params.one_of(self.request, "kind", Message.Kind.values, problems),
            "channel": params.one_of(self.request, "channel", Channel.values, problems),
            "status": params.one_of(self.request, "status", Message.Status.values, problems),
            "campaign_id": params.whole(self.request, "campaign", problems),
        }
        if problems:
            raise invalid("Some filters are not valid: see fields.", fields=problems)
        found = messages_of(company=self.company)
        return found.filter(**{name: value for name, value in wanted.items() if value})

    @extend_schema(
        summary="List the messages",
        description="Every message of the company, transactional and of its campaigns, "
        "newest first, in pages (`?limit=`, at most 1000; follow `next`).",
        parameters=[
            OpenApiParameter("kind", str, enum=Message.Kind.values),
            OpenApiParameter("channel", str, enum=Channel.values),
            OpenApiParameter("status", str, enum=Message.Status.values),
            OpenApiParameter("campaign", int, description="The messages of this campaign"),
        ],
        responses={200: MessageSerializer(many=True), **errors(400)},
        tags=TAGS,
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return self.list(request, *args, **kwargs)

    @extend_schema(
        summary="Send a transactional SMS or email now",
        description="For one-time codes, receipts and delivery notices: it reaches the "
        "person even when they opted out of marketing, and carries no opt-out text. Never "
        "use it for marketing. Answers 201 with the message: `sent` when the gateway took "
        "it, `failed` with `error` when the gateway refused it. When the gateway cannot be "
        "reached at all, 503: nothing was sent and a retry is safe. Send an "
        "`Idempotency-Key` header so that a retried request sends nothing twice.",
        request=TransactionalSerializer,
        responses={201: MessageSerializer, **errors(400), 503: GATEWAY_DOWN},
        examples=[
            OpenApiExample(
                "A one-time code by SMS",
                value={"channel": "sms", "to": "+31612345678", "body": "Your code: 482913"},
                request_only=True,
            ),
            OpenApiExample(
                "A receipt by email",
                value={
                    "channel": "email",
                    "to": "anna@example.com",
                    "subject": "Your order 1042",
                    "body": "Thank you for your order.",
                },
                request_only=True,
            ),
        ],
        tags=TAGS,
    )
    @idempotent
    def post(self, request: Request) -> Response:
        incoming = TransactionalSerializer(data=request.data, context={"company": self.company})
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        if data["channel"] == Channel.EMAIL:
            message = send_transactional_email(
                company=self.company, to=data["to"], subject=data["subject"], body=data["body"]
            )
        else:
            message = send_transactional(
                company=self.company, to=data["to"], body=data["body"], sender=data["sender"]
            )
        if is_gateway_outage(message):
            raise GatewayUnavailable(
                f"Message {message.pk} was not sent: {message.error} It is recorded as "
                "failed; send the request again later."
            )
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


class MessageDetail(CompanyAPIView):
    @extend_schema(
        summary="One message and what became of it",
        description="Any message of the company: transactional, or one recipient's message "
        "of a campaign. `status` moves from `queued` through `sending` to `sent`, then "
        "`delivered` or `failed` as the gateway's delivery report says.",
        responses={200: MessageSerializer, **errors(404)},
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(MessageSerializer(message_or_404(self.company, pk)).data)


urlpatterns = [
    path("messages", MessageList.as_view(), name="message-list"),
    path("messages/<id:pk>", MessageDetail.as_view(), name="message-detail"),
]
