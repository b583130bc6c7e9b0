"""``/api/v1/suppressions/``: the addresses the company may not send marketing to.

The list and its filters, adding an opt-out (an event with source ``api``, as every other
channel records one), the check a company's own senders make before each message, and
bringing an address back: only the person's own act, recorded proof of their consent
(``POST …/consent``), or their confirmation of a double opt-in does; a bare DELETE is
refused.
"""

import base64
import binascii

from django.http import Http404
from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from addressbook.addresses import InvalidAddress
from campaigns.models import Campaign
from campaigns.selectors import first_sent_at
from optout.consent import Actor, ConsentProofRequired, Proof, Seen
from optout.doubleoptin import OptinNotSent, OptinRefused, request_double_optin, wording_shown
from optout.models import PROOF_METHODS, ConsentEvent, OptinRequest, Source, Suppression
from optout.proofs import DocumentRefused, read_document, record_consent_again
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
from .messages import GatewayUnavailable
from .schema import ErrorBody, errors

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
    suppressed_as = serializers.ChoiceField(
        source="reason",
        choices=Suppression.Reason.choices,
        help_text="`opted_out`, or `undeliverable`: mail to it bounces (no email of the "
        "company goes there; not an opt-out, so the person's other address is not covered)",
    )

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
            "suppressed_as",
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
        "the landing page) or by recorded proof of their consent: POST the proof (how, "
        "when, the wording they agreed to) to /api/v1/suppressions/{ref}/consent, or start "
        'a double opt-in there with {"double_opt_in": "sms"} or "email".'
    )


# The body's limit (DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB) caps a document sent as base64.
MAX_DOCUMENT_BASE64 = 2_500_000
PROOF_FIELDS = ("method", "given_at", "wording", "document_base64")


class ConsentSerializer(serializers.Serializer):
    """Either the proof of how the person consented, or a double opt-in to start."""

    double_opt_in = serializers.ChoiceField(
        choices=OptinRequest.Channel.choices,
        required=False,
        help_text="Instead of proof: send the person one confirmation by this channel (the "
        "address's own: `sms` for a number, `email` for an email address). Only for a "
        "person who asked to come back.",
    )
    method = serializers.ChoiceField(
        choices=[(m.value, m.label) for m in PROOF_METHODS],
        required=False,
        help_text="How the person consented: `web_form`, `paper` or `phone`.",
    )
    given_at = serializers.DateTimeField(
        required=False, help_text="When they consented (ISO 8601); not in the future."
    )
    wording = Text(
        max_length=5000,
        required=False,
        help_text="Exactly what they agreed to, as the form, paper or call put it.",
    )
    document_base64 = Text(
        max_length=MAX_DOCUMENT_BASE64,
        required=False,
        help_text="Optional: the signed form or a scan, a PDF, PNG or JPEG, base64-encoded "
        "(the whole request may be at most 2.5 MB).",
    )

    def validate_given_at(self, value):
        if value > timezone.now():
            raise serializers.ValidationError("Consent cannot have been given in the future.")
        return value

    def validate_document_base64(self, value: str):
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise serializers.ValidationError("Not base64.") from None
        try:
            return read_document(data)
        except DocumentRefused as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate(self, data: dict) -> dict:
        if "double_opt_in" in data:
            if given := [name for name in PROOF_FIELDS if name in data]:
                raise serializers.ValidationError(
                    {
                        name: ["Either start a double opt-in or give proof, not both."]
                        for name in given
                    }
                )
            return data
        missing = [name for name in ("method", "given_at", "wording") if not data.get(name)]
        if missing:
            raise serializers.ValidationError(
                {
                    name: [
                        "Required: how, when and to what wording the person consented "
                        '(or {"double_opt_in": "sms"|"email"}).'
                    ]
                    for name in missing
                }
            )
        return data


class ConsentRecordedSerializer(serializers.ModelSerializer):
    """The opt-in that brought the address back, with its proof."""

    kind = serializers.CharField(help_text="`opt_in`")
    channel = serializers.SerializerMethodField(help_text="`sms` or `email`")
    source = serializers.ChoiceField(choices=Source.choices)
    consent_method = serializers.CharField(help_text="How the person consented")
    has_document = serializers.SerializerMethodField(help_text="Whether a document was kept")

    class Meta:
        model = ConsentEvent
        fields = [
            "id",
            "kind",
            "address",
            "channel",
            "source",
            "consent_method",
            "consent_given_at",
            "consent_wording",
            "has_document",
            "created_at",
        ]
        read_only_fields = fields

    def get_channel(self, event: ConsentEvent) -> str:
        return channel_of(event.address)

    def get_has_document(self, event: ConsentEvent) -> bool:
        return bool(event.consent_document)


class OptinRequestSerializer(serializers.ModelSerializer):
    """A double opt-in sent, waiting for the person."""

    wording = serializers.SerializerMethodField(
        help_text="The confirmation as sent, its link cut short: only the person may open it"
    )
    expires_at = serializers.DateTimeField(help_text="Until when the person can confirm")

    class Meta:
        model = OptinRequest
        fields = ["id", "address", "channel", "status", "wording", "created_at", "expires_at"]
        read_only_fields = fields

    def get_wording(self, optin: OptinRequest) -> str:
        return wording_shown(optin)


CONSENT_REFUSED = OpenApiResponse(
    ErrorBody,
    description="The double opt-in may not be started: `double_opt_in_pending` (one "
    "already waits for the person), `double_opt_in_limit` (two in 30 days already), "
    "`too_soon_after_opt_out` (the address opted out less than 30 minutes ago). Or the "
    "same Idempotency-Key is still in progress.",
)
OPTIN_CODES = {
    "pending": "double_opt_in_pending",
    "limit": "double_opt_in_limit",
    "too_soon": "too_soon_after_opt_out",
}
CONFIRMATION_NOT_SENT = OpenApiResponse(
    ErrorBody,
    description="The confirmation could not be sent (`gateway_unavailable`): nothing was "
    "started, and a retry is safe.",
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
        "suppressed_as",
        str,
        enum=Suppression.Reason.values,
        description="Opted out, or undeliverable (mail to it bounces)",
    ),
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
        suppressed_as = params.one(request, "suppressed_as", problems)
        if suppressed_as and suppressed_as not in Suppression.Reason.values:
            problems["suppressed_as"] = [f"One of {', '.join(Suppression.Reason.values)}."]
        filters = {
            "address": params.address(request, "address", problems, company=company),
            "source": source,
            "reason": suppressed_as,
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
            actor=Actor.api_key(request.auth),
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
        "address: only the person's own act (a START reply, “undo” on the landing page), "
        "recorded proof of their consent or their confirmation of a double opt-in brings "
        "an address back. Record the proof, or start the double opt-in, with `POST "
        "/api/v1/suppressions/{ref}/consent`. 404 when the address is not suppressed.",
        responses=errors(404, 409),
        tags=TAGS,
    )
    def delete(self, request: Request, ref: str) -> Response:
        self.get_object()
        raise RemovalRefused()


class SuppressionConsent(CompanyAPIView):
    get_object = SuppressionDetail.get_object

    @extend_schema(
        summary="Bring an address back: proof of consent, or a double opt-in",
        description="For a person who asked to get the company's marketing again. "
        "**With proof** (`method`, `given_at`, `wording`, optionally `document_base64`): "
        "records an opt-in event carrying it (source `api`, by this key) and lifts the "
        'suppression at once; 201 with the event. **Or** `{"double_opt_in": "sms"}` '
        '(`"email"` for an email address): sends the person one transactional '
        "confirmation with a link (and by SMS “or reply START” where replies reach us); "
        "202 with the request, and nothing changes until the person confirms, within 7 "
        "days. One waits at a time per address, at most two go in 30 days, and none in the "
        "30 minutes after an opt-out. Without either, 400; without proof, an address never "
        "comes back.",
        request=ConsentSerializer,
        responses={
            201: ConsentRecordedSerializer,
            202: OptinRequestSerializer,
            **errors(400, 404),
            409: CONSENT_REFUSED,
            503: CONFIRMATION_NOT_SENT,
        },
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        examples=[
            OpenApiExample(
                "Consent on a paper form",
                value={
                    "method": "paper",
                    "given_at": "2026-12-01T14:30:00+01:00",
                    "wording": "Yes, send me offers from Acme by SMS and email. I can stop "
                    "at any time.",
                },
                request_only=True,
            ),
            OpenApiExample(
                "Ask the person to confirm by SMS",
                value={"double_opt_in": "sms"},
                request_only=True,
            ),
        ],
        tags=TAGS,
    )
    @idempotent
    def post(self, request: Request, ref: str) -> Response:
        suppression = self.get_object()
        incoming = ConsentSerializer(data=request.data, context={"company": self.company})
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        actor = Actor.api_key(request.auth)
        if "double_opt_in" in data:
            return self._double_optin(request, suppression, data["double_opt_in"], actor)
        proof = Proof(
            method=data["method"],
            given_at=data["given_at"],
            wording=data["wording"],
            document=data.get("document_base64"),
        )
        try:
            event = record_consent_again(
                company=self.company,
                address=suppression.address,
                source=Source.API,
                proof=proof,
                actor=actor,
                seen=Seen.from_request(request),
                ip=request.META.get("REMOTE_ADDR"),
            )
        except ConsentProofRequired as exc:
            raise invalid(str(exc), code="consent_proof_required") from None
        return Response(ConsentRecordedSerializer(event).data, status=status.HTTP_201_CREATED)

    def _double_optin(
        self, request: Request, suppression: Suppression, channel: str, actor: Actor
    ) -> Response:
        try:
            optin = request_double_optin(
                company=self.company,
                address=suppression.address,
                actor=actor,
                channel=channel,
                ip=request.META.get("REMOTE_ADDR"),
            )
        except OptinRefused as exc:
            if exc.code in OPTIN_CODES:
                raise Conflict(str(exc), code=OPTIN_CODES[exc.code]) from None
            raise invalid(str(exc), fields={"double_opt_in": [str(exc)]}) from None
        except OptinNotSent as exc:
            raise GatewayUnavailable(str(exc)) from None
        return Response(OptinRequestSerializer(optin).data, status=status.HTTP_202_ACCEPTED)


urlpatterns = [
    path("suppressions", SuppressionList.as_view(), name="suppression-list"),
    path("suppressions/check", SuppressionCheck.as_view(), name="suppression-check"),
    path("suppressions/<str:ref>", SuppressionDetail.as_view(), name="suppression-detail"),
    path(
        "suppressions/<str:ref>/consent", SuppressionConsent.as_view(), name="suppression-consent"
    ),
]
