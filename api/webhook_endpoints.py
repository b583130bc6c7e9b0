"""``/api/v1/webhook-endpoints/``: the company's webhook endpoints and their delivery logs.

What an owner does on the webhooks screen, a program does here, through the same services
(``api.webhooks``): register an endpoint (its secret is in that answer, and in the answer
to a rotation, only), change it, send it a test event, enable it again after it was
disabled, read what was delivered to it, remove it.
"""

from django.http import Http404
from django.urls import path
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from .base import CompanyAPIView, Conflict, CursorPage, idempotent, invalid
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .schema import errors
from .webhooks import (
    WebhookError,
    create_endpoint,
    delete_endpoint,
    deliveries_of,
    enable_endpoint,
    endpoints_of,
    rotate_secret,
    send_test_event,
    update_endpoint,
)

TAGS = ["Webhooks"]
EVENTS = ["opt_out", "opt_in"]
IDEMPOTENCY = OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)


class Text(serializers.CharField):
    """A JSON string, never a number or a list turned into one."""

    def to_internal_value(self, data) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class UrlText(serializers.URLField):
    """A JSON string that is a URL; where it may point is the service's to say."""

    def to_internal_value(self, data) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class EndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENTS),
        help_text="What it is sent: `opt_out`, `opt_in` or both.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "active",
            "disabled_at",
            "disabled_reason",
            "consecutive_failures",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "active": {"help_text": "False once disabled after a long run of failures"},
            "disabled_reason": {"help_text": "Why it was disabled: the last error"},
            "consecutive_failures": {"help_text": "Failed attempts in a row, reset by a 2xx"},
        }


class EndpointWithSecretSerializer(EndpointSerializer):
    secret = serializers.CharField(
        help_text="Signs every request (`X-Webhook-Signature`). Shown in this answer only; "
        "rotate it for a new one."
    )
    previous_secret_until = serializers.DateTimeField(
        allow_null=True, help_text="After a rotation, the old secret also signs until then."
    )

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret", "previous_secret_until"]
        read_only_fields = fields


class EndpointInputSerializer(serializers.Serializer):
    url = UrlText(
        max_length=500,
        help_text="An https:// URL of your own systems; not this platform's machines or a "
        "private network.",
    )
    description = Text(max_length=200, allow_blank=True, required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENTS),
        min_length=1,
        max_length=2,
        required=False,
        help_text="Default: both.",
    )


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["number", "started_at", "status_code", "latency_ms", "error", "response_snippet"]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    type = serializers.CharField(source="kind", help_text="consent.opt_out, consent.opt_in, test")
    event_id = serializers.IntegerField(allow_null=True, help_text="The consent event's id")
    payload = serializers.JSONField(help_text="The body sent, as it is sent on every attempt")
    attempts_log = AttemptSerializer(many=True, source="log", help_text="Newest first")

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "type",
            "event_id",
            "status",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "last_latency_ms",
            "delivered_at",
            "created_at",
            "payload",
            "attempts_log",
        ]
        read_only_fields = fields


def _refused(exc: WebhookError):
    field = exc.field or "events"
    return invalid(str(exc), fields={field: [str(exc)]}, code="invalid")


def _wants(events: list[str] | None, default: WebhookEndpoint | None = None) -> dict:
    if events is None:
        return (
            {"sends_opt_outs": default.sends_opt_outs, "sends_opt_ins": default.sends_opt_ins}
            if default
            else {}
        )
    return {"sends_opt_outs": "opt_out" in events, "sends_opt_ins": "opt_in" in events}


class EndpointView(CompanyAPIView):
    def get_object(self) -> WebhookEndpoint:
        found = endpoints_of(company=self.company).filter(pk=int(self.kwargs["pk"])).first()
        if found is None:
            raise Http404("No such webhook endpoint in this company.")
        return found

    def _audit(self, request: Request) -> dict:
        return {"ip": request.META.get("REMOTE_ADDR"), "api_key": request.auth.name}


class EndpointList(CompanyAPIView):
    serializer_class = EndpointSerializer

    def get_queryset(self):
        return endpoints_of(company=self.company)

    @extend_schema(
        summary="List the webhook endpoints",
        description="Every consent event of the company is posted to each active one.",
        responses={200: EndpointSerializer(many=True)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(EndpointSerializer(page, many=True).data)

    @extend_schema(
        summary="Register a webhook endpoint",
        description="The answer holds the endpoint's signing `secret`, which no later answer "
        "shows. A URL that is not https, or that points at a private network, is a 400. "
        "At most 10 endpoints per company.",
        request=EndpointInputSerializer,
        responses={201: EndpointWithSecretSerializer, **errors(400, 409, 422)},
        parameters=[IDEMPOTENCY],
        examples=[
            OpenApiExample(
                "The CRM's listener",
                value={"url": "https://crm.example.com/hooks/optout", "description": "CRM"},
                request_only=True,
            )
        ],
        tags=TAGS,
    )
    @idempotent
    def post(self, request: Request) -> Response:
        incoming = EndpointInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            endpoint = create_endpoint(
                company=self.company,
                url=data["url"],
                description=data.get("description", ""),
                ip=request.META.get("REMOTE_ADDR"),
                api_key=request.auth.name,
                **_wants(data.get("events")),
            )
        except WebhookError as exc:
            raise _refused(exc) from None
        return Response(
            EndpointWithSecretSerializer(endpoint).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": f"{request.path}{endpoint.pk}/"},
        )


class EndpointDetail(EndpointView):
    serializer_class = EndpointSerializer

    @extend_schema(
        summary="One webhook endpoint",
        responses={200: EndpointSerializer, **errors(404)},
        tags=TAGS,
    )
    def get(self, request: Request, pk: str) -> Response:
        return Response(EndpointSerializer(self.get_object()).data)

    @extend_schema(
        summary="Change a webhook endpoint",
        description="The fields given change; the others stay.",
        request=EndpointInputSerializer(partial=True),
        responses={200: EndpointSerializer, **errors(400, 404)},
        tags=TAGS,
    )
    def patch(self, request: Request, pk: str) -> Response:
        endpoint = self.get_object()
        incoming = EndpointInputSerializer(data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            update_endpoint(
                endpoint=endpoint,
                url=data.get("url", endpoint.url),
                description=data.get("description", endpoint.description),
                **_wants(data.get("events"), default=endpoint),
                **self._audit(request),
            )
        except WebhookError as exc:
            raise _refused(exc) from None
        return Response(EndpointSerializer(self.get_object()).data)

    @extend_schema(
        summary="Remove a webhook endpoint",
        description="It hears of nothing any more; its delivery log goes with it.",
        responses={204: None, **errors(404)},
        tags=TAGS,
    )
    def delete(self, request: Request, pk: str) -> Response:
        delete_endpoint(endpoint=self.get_object(), **self._audit(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class EndpointRotate(EndpointView):
    serializer_class = EndpointWithSecretSerializer

    @extend_schema(
        summary="Rotate an endpoint's signing secret",
        description="A new secret signs from now on; for a day the old one also signs, as a "
        "second `sha256=` in `X-Webhook-Signature`, so receivers can switch.",
        request=None,
        responses={200: EndpointWithSecretSerializer, **errors(404)},
        tags=TAGS,
    )
    def post(self, request: Request, pk: str) -> Response:
        endpoint = rotate_secret(endpoint=self.get_object(), **self._audit(request))
        return Response(EndpointWithSecretSerializer(endpoint).data)


class EndpointEnable(EndpointView):
    serializer_class = EndpointSerializer

    @extend_schema(
        summary="Enable a disabled webhook endpoint",
        description="What was waiting for it is sent, oldest first. An active endpoint "
        "stays as it is.",
        request=None,
        responses={200: EndpointSerializer, **errors(404)},
        tags=TAGS,
    )
    def post(self, request: Request, pk: str) -> Response:
        enable_endpoint(endpoint=self.get_object(), **self._audit(request))
        return Response(EndpointSerializer(self.get_object()).data)


class EndpointTest(EndpointView):
    serializer_class = DeliverySerializer

    @extend_schema(
        summary="Send a test event to an endpoint",
        description="Queues a delivery of type `test` (after what already waits, which is "
        "tried at once too); follow it in the endpoint's deliveries. A disabled endpoint is "
        "a 409: enable it first.",
        request=None,
        responses={202: DeliverySerializer, **errors(404, 409, 422)},
        parameters=[IDEMPOTENCY],
        tags=TAGS,
    )
    @idempotent
    def post(self, request: Request, pk: str) -> Response:
        try:
            delivery = send_test_event(endpoint=self.get_object(), api_key=request.auth.name)
        except WebhookError as exc:
            raise Conflict(str(exc), code="endpoint_disabled") from None
        shown = deliveries_of(endpoint=delivery.endpoint).get(pk=delivery.pk)
        return Response(DeliverySerializer(shown).data, status=status.HTTP_202_ACCEPTED)


class DeliveryPage(CursorPage):
    page_size = 50
    max_page_size = 200


class EndpointDeliveries(EndpointView):
    serializer_class = DeliverySerializer
    pagination_class = DeliveryPage

    @extend_schema(
        summary="An endpoint's delivery log",
        description="Newest first, each with its attempts (time, status code, latency, "
        "error, the start of the answer). Kept for WEBHOOK_LOG_DAYS once delivered or "
        "failed.",
        parameters=[
            OpenApiParameter(
                "status", str, enum=list(WebhookDelivery.Status.values), description="Only these"
            )
        ],
        responses={200: DeliverySerializer(many=True), **errors(400, 404)},
        tags=TAGS,
    )
    def get(self, request: Request, pk: str) -> Response:
        deliveries = deliveries_of(endpoint=self.get_object())
        wanted = request.query_params.get("status")
        if wanted is not None:
            if wanted not in WebhookDelivery.Status.values:
                choices = ", ".join(WebhookDelivery.Status.values)
                message = f"status is one of {choices}."
                raise invalid(message, fields={"status": [message]})
            deliveries = deliveries.filter(status=wanted)
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)


urlpatterns = [
    path("webhook-endpoints", EndpointList.as_view(), name="webhook-endpoint-list"),
    path("webhook-endpoints/<id:pk>", EndpointDetail.as_view(), name="webhook-endpoint"),
    path(
        "webhook-endpoints/<id:pk>/rotate-secret",
        EndpointRotate.as_view(),
        name="webhook-endpoint-rotate",
    ),
    path(
        "webhook-endpoints/<id:pk>/enable",
        EndpointEnable.as_view(),
        name="webhook-endpoint-enable",
    ),
    path("webhook-endpoints/<id:pk>/test", EndpointTest.as_view(), name="webhook-endpoint-test"),
    path(
        "webhook-endpoints/<id:pk>/deliveries",
        EndpointDeliveries.as_view(),
        name="webhook-endpoint-deliveries",
    ),
]
