"""``/api/v1/suppressions/``: the addresses the company may not send marketing to.

The list and its filters, adding an opt-out (an event with source ``api``, as every other
channel records one), the check a company's own senders make before each message, and the
refused removal: only the person's own act, or recorded proof of their consent, brings an
address back.
"""

from django.http import Http404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from addressbook.addresses import InvalidAddress
from campaigns.models import Campaign
from campaigns.selectors import first_sent_at
from optout.models import Source, Suppression
from optout.selectors import (
    MAX_ID,
    SuppressionStatus,
    channel_of,
    check_suppressions,
    is_suppressed,
    leave_reasons,
    parse_address,
    search_suppressions,
    suppression_list,
)
from optout.services import record_optout

from . import params
from .base import CompanyAPIView, Conflict, idempotent, invalid
from .schema import errors

TAGS = ["Suppressions"]
_datetime = serializers.DateTimeField()


# --- what goes out ---------------------------------------------------------------------
class SuppressionSerializer(serializers.ModelSerializer):
    channel = serializers.SerializerMethodField(help_text="`sms` or `email`")
    since = serializers.DateTimeField(source="created_at", help_text="When it was suppressed")
    source = serializers.ChoiceField(
        source="event.source", choices=Source.choices, help_text="How the opt-out came"
    )
    reason = serializers.CharField(
        source="event.reason", help_text="A reason's code, or the company's own reason"
    )
    reason_text = serializers.CharField(
        source="event.reason_text", help_text="What the person wrote"
    )
    campaign_id = serializers.IntegerField(
        source="event.campaign_id", allow_null=True, help_text="The campaign it answered"
    )
    event_id = serializers.IntegerField(help_text="The consent event that suppressed it")

    class Meta:
        model = Suppression
        fields = [
            "id",
            "address",
            "channel",
            "since",
            "source",
            "reason",
            "reason_text",
            "campaign_id",
            "event_id",
        ]
        read_only_fields = fields

    def get_channel(self, suppression: Suppression) -> str:
        return channel_of(suppression.address)


class AddressStatusSerializer(serializers.Serializer):
    """For documentation: the check builds this shape itself, on its hot path."""

    address = serializers.CharField(help_text="The address as suppressions key it (E.164)")
    channel = serializers.ChoiceField(choices=["sms", "email"])
    may_send_marketing = serializers.BooleanField()
    since = serializers.DateTimeField(allow_null=True, help_text="Suppressed since")
    source = serializers.ChoiceField(choices=Source.choices, allow_null=True)
    reason = serializers.CharField(allow_null=True)
    reason_text = serializers.CharField(allow_null=True)
    campaign_id = serializers.IntegerField(allow_null=True)
    event_id = serializers.IntegerField(allow_null=True)
    suppression_id = serializers.IntegerField(allow_null=True)


class CheckSerializer(serializers.Serializer):
    may_send_marketing = serializers.BooleanField(
        help_text="False when any address given is suppressed: the same person is not "
        "sent marketing on one channel after leaving on another."
    )
    phone = AddressStatusSerializer(allow_null=True, help_text="Null when no phone was given")
    email = AddressStatusSerializer(allow_null=True, help_text="Null when no email was given")


# --- what comes in -----------------------------------------------------------------------
class Text(serializers.CharField):
    """A JSON string, never a number turned into one: 31612345678 has lost its + or 0."""

    def to_internal_value(self, data) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class OptOutSerializer(serializers.Serializer):
    address = Text(
        max_length=320,
        help_text="A phone number in any usual format (national ones in the company's "
        "country) or an email address.",
    )
    reason = Text(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="One of the reasons the company offers (its own, or too_many, "
        "not_relevant, never_signed_up, other).",
    )
    reason_text = Text(
        max_length=2000, required=False, allow_blank=True, default="", trim_whitespace=True
    )
    campaign_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        max_value=MAX_ID,
        help_text="The company's campaign the person answered, if known.",
    )

    def validate_address(self, value: str) -> str:
        try:
            return parse_address(value, company=self.context["company"])
        except InvalidAddress as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate_reason(self, value: str) -> str:
        offered = [code for code, _label in leave_reasons(company=self.context["company"])]
        if value and value not in offered:
            raise serializers.ValidationError(f"Not a reason the company offers: {offered}.")
        return value

    def validate_campaign_id(self, value: int | None) -> int | None:
        company = self.context["company"]
        if value is not None and not Campaign.objects.filter(company=company, pk=value).exists():
            raise serializers.ValidationError("No such campaign in this company.")
        return value


class RemovalRefused(Conflict):
    default_code = "consent_proof_required"
    default_detail = (
        "A suppression is lifted only by the person's own act (a START reply, “undo” on "
        "the landing page) or by recorded proof of their consent. Proof of consent cannot "
        "be recorded yet, so no suppression can be removed through the API."
    )


# --- the query string --------------------------------------------------------------------
ADDRESS_PARAMETER = OpenApiParameter(
    "address",
    str,
    description="Exactly this address: a phone number in any usual format or an email.",
)
LIST_PARAMETERS = [
    ADDRESS_PARAMETER,
    OpenApiParameter("source", str, enum=Source.values, description="How the opt-out came"),
    OpenApiParameter("campaign", int, description="Opt-outs that answered this campaign"),
    OpenApiParameter(
        "since", OpenApiTypes.DATETIME, description="Suppressed at or after (ISO 8601)"
    ),
    OpenApiParameter("until", OpenApiTypes.DATETIME, description="Suppressed before (ISO 8601)"),
    OpenApiParameter(
        "q", str, description="Any part of an address; digits match however they are spaced"
    ),
]


# --- the endpoints -----------------------------------------------------------------------
class SuppressionList(mixins.ListModelMixin, CompanyAPIView):
    serializer_class = SuppressionSerializer

    def get_queryset(self):
        problems: dict = {}
        request, company = self.request, self.company
        source = params.one(request, "source", problems)
        if source and source not in Source.values:
            problems["source"] = [f"One of {', '.join(Source.values)}."]
        filters = {
            "address": params.address(request, "address", problems, company=company),
            "source": source,
            "campaign_id": params.whole(request, "campaign", problems),
            "since": params.moment(request, "since", problems),
            "until": params.moment(request, "until", problems),
            "query": params.one(request, "q", problems)[:254],
        }
        if problems:
            raise invalid("Some filters are not valid: see fields.", fields=problems)
        return search_suppressions(company=company, **filters)

    @extend_schema(
        summary="List the suppressed addresses",
        description="Newest first, in pages (`?limit=`, at most 1000; follow `next`).",
        parameters=LIST_PARAMETERS,
        responses={200: SuppressionSerializer(many=True), **errors(400)},
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    @extend_schema(
        summary="Opt an address out of marketing",
        description="Records an opt-out event with source `api`, as every channel does: "
        "the address and the person's other addresses (the contacts that have it) get no "
        "more marketing SMS or email from the company. Opting out an address that already "
        "is records the event again and answers 200; a new suppression answers 201. "
        "Send an `Idempotency-Key` header so that a retry records nothing twice.",
        request=OptOutSerializer,
        responses={201: SuppressionSerializer, 200: SuppressionSerializer, **errors(400, 409, 422)},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        examples=[
            OpenApiExample(
                "A number from a CRM's unsubscribe form",
                value={"address": "+31 6 12345678", "reason": "too_many"},
                request_only=True,
            )
        ],
        tags=TAGS,
    )
    @idempotent
    def post(self, request: Request) -> Response:
        incoming = OptOutSerializer(data=request.data, context={"company": self.company})
        incoming.is_valid(raise_exception=True)
        address = incoming.validated_data["address"]
        already = is_suppressed(company=self.company, address=address)
        campaign_id = incoming.validated_data["campaign_id"]
        sent_at = (
            first_sent_at(company=self.company, campaign_id=campaign_id, to=address)
            if campaign_id
            else None
        )
        record_optout(
            company=self.company,
            source=Source.API,
            message_sent_at=sent_at,
            **incoming.validated_data,
        )
        suppression = suppression_list(company=self.company).get(address=address)
        return Response(
            SuppressionSerializer(suppression).data,
            status=status.HTTP_200_OK if already else status.HTTP_201_CREATED,
        )


class SuppressionCheck(CompanyAPIView):
    @extend_schema(
        summary="May marketing go to this person?",
        description="Call it before each marketing message: one indexed look-up. Give the "
        "phone number (any usual format; national ones in the company's country), the "
        "email address, or both. For each: whether marketing may go to it and, when it may "
        "not, since when, how (source), why (reason) and after which campaign. "
        "Transactional messages are never blocked and need no check.",
        parameters=[
            OpenApiParameter("phone", str, description="e.g. +31612345678 or 06 12345678"),
            OpenApiParameter("email", str, description="e.g. anna@example.com"),
        ],
        responses={200: CheckSerializer, **errors(400)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        problems: dict = {}
        phone = params.address(request, "phone", problems, company=self.company)
        email = params.address(request, "email", problems, company=self.company)
        if phone and channel_of(phone) != "sms":
            problems["phone"] = ["A phone number, not an email address."]
        if email and channel_of(email) != "email":
            problems["email"] = ["An email address, not a phone number."]
        if problems:
            raise invalid("Some addresses are not valid: see fields.", fields=problems)
        if not (phone or email):
            raise invalid(
                "Give ?phone= or ?email= (or both).",
                fields={"phone": ["Give a phone number or an email."]},
            )
        statuses = check_suppressions(company=self.company, addresses=[phone, email])
        # Built by hand, not by a serializer: this answers before every message sent.
        answer = {
            name: _status(statuses[address]) if address else None
            for name, address in (("phone", phone), ("email", email))
        }
        answer["may_send_marketing"] = all(s.may_send_marketing for s in statuses.values())
        return Response(answer)


def _status(found: SuppressionStatus) -> dict:
    return {
        "address": found.address,
        "channel": channel_of(found.address),
        "may_send_marketing": found.may_send_marketing,
        "since": _datetime.to_representation(found.since) if found.since else None,
        "source": found.source or None,
        "reason": found.reason if found.suppressed else None,
        "reason_text": found.reason_text if found.suppressed else None,
        "campaign_id": found.campaign_id,
        "event_id": found.event_id,
        "suppression_id": found.suppression_id,
    }


class SuppressionDetail(CompanyAPIView):
    """``<ref>`` is the suppression's id or the address itself (``+`` written ``%2B``)."""

    def get_object(self) -> Suppression:
        ref = self.kwargs["ref"].strip()
        rows = suppression_list(company=self.company)
        # An id has no leading zero; a national number ("0612345678") does.
        if ref.isascii() and ref.isdigit() and not ref.startswith("0"):
            found = rows.filter(pk=int(ref)).first() if int(ref) <= MAX_ID else None
        else:
            try:
                address = parse_address(ref, company=self.company)
            except InvalidAddress:
                address = ""
            found = rows.filter(address=address).first() if address else None
        if found is None:
            raise Http404("No such suppression: this address may receive marketing.")
        return found

    @extend_schema(
        summary="One suppression, by id or address",
        responses={200: SuppressionSerializer, **errors(404)},
        tags=TAGS,
    )
    def get(self, request: Request, ref: str) -> Response:
        return Response(SuppressionSerializer(self.get_object()).data)

    @extend_schema(
        summary="Remove a suppression (refused)",
        description="Always refused with 409 `consent_proof_required` for a suppressed "
        "address: only the person's own act (a START reply, “undo” on the landing page) or "
        "recorded proof of their consent brings an address back, and proof of consent "
        "cannot be recorded yet. 404 when the address is not suppressed.",
        responses=errors(404, 409),
        tags=TAGS,
    )
    def delete(self, request: Request, ref: str) -> Response:
        self.get_object()
        raise RemovalRefused()


urlpatterns = [
    path("suppressions", SuppressionList.as_view(), name="suppression-list"),
    path("suppressions/check", SuppressionCheck.as_view(), name="suppression-check"),
    path("suppressions/<str:ref>", SuppressionDetail.as_view(), name="suppression-detail"),
]
