"""``/api/v1/consent-events/``: every opt-out and opt-in, oldest first, for a CRM to follow.

A client keeps the ``next_after`` of its last page and asks again with ``?after=``; after
downtime it catches up from where it was. The feed never shows an event before every
event with a smaller id is visible too (see ``optout.selectors.consent_feed``), so a
client that follows ``after`` never skips one.
"""

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from optout.models import ConsentEvent, Source
from optout.selectors import FEED_SETTLE, channel_of, consent_feed

from . import params
from .base import CompanyAPIView, invalid
from .schema import errors

DEFAULT_LIMIT, MAX_LIMIT = 100, 1000


class ConsentEventSerializer(serializers.ModelSerializer):
    channel = serializers.SerializerMethodField(help_text="`sms` or `email`")
    source = serializers.ChoiceField(choices=Source.choices)
    campaign_id = serializers.IntegerField(allow_null=True, help_text="The campaign it answered")
    linked_event_id = serializers.IntegerField(
        allow_null=True,
        help_text="Source `linked`: the opt-out or opt-in of the same person's other address "
        "that changed this one",
    )
    actor = serializers.SerializerMethodField(
        help_text="Who made the change: `person`, `user`, `staff`, `api_key`, `gateway` or `system`"
    )

    class Meta:
        model = ConsentEvent
        fields = [
            "id",
            "kind",
            "address",
            "channel",
            "source",
            "campaign_id",
            "reason",
            "reason_text",
            "raw_text",
            "linked_event_id",
            "actor",
            "created_at",
        ]
        read_only_fields = fields

    def get_channel(self, event: ConsentEvent) -> str:
        return channel_of(event.address)

    def get_actor(self, event: ConsentEvent) -> str | None:
        return event.actor_type or None


FeedPage = inline_serializer(
    name="ConsentEventPage",
    fields={
        "results": ConsentEventSerializer(many=True),
        "next_after": serializers.IntegerField(
            help_text="Send it as `?after=` next time: the last id of this page, or the "
            "`after` you sent when there was nothing new."
        ),
        "has_more": serializers.BooleanField(
            help_text="True when more events are ready: ask again at once."
        ),
    },
)


class ConsentEventFeed(CompanyAPIView):
    pagination_class = None

    @extend_schema(
        summary="Follow the consent events",
        description="Every opt-out and opt-in of the company, oldest first: the record it "
        "keeps for good. Start with `?after=0`, then send each answer's `next_after`. "
        f"An event appears about {FEED_SETTLE.seconds} seconds after it happened (longer "
        "while a long write, such as an import, is still running), once no event with a "
        "smaller id can still appear: a client that follows `next_after` misses none.",
        parameters=[
            OpenApiParameter("after", int, description="Events with a larger id (default 0)"),
            OpenApiParameter(
                "limit",
                int,
                description=f"At most this many (default {DEFAULT_LIMIT}, at most {MAX_LIMIT})",
            ),
            OpenApiParameter("kind", str, enum=ConsentEvent.Kind.values),
            OpenApiParameter(
                "address",
                str,
                description="One address: a phone number in any usual format or an email",
            ),
        ],
        responses={200: FeedPage, **errors(400)},
        tags=["Consent events"],
    )
    def get(self, request: Request) -> Response:
        problems: dict = {}
        after = params.whole(request, "after", problems, low=0) or 0
        limit = params.whole(request, "limit", problems, high=MAX_LIMIT) or DEFAULT_LIMIT
        kind = params.one_of(request, "kind", ConsentEvent.Kind.values, problems)
        address = params.address(request, "address", problems, company=self.company)
        if problems:
            raise invalid("Some parameters are not valid: see fields.", fields=problems)
        events = consent_feed(
            company=self.company, after=after, limit=limit + 1, kind=kind, address=address
        )
        page = events[:limit]
        return Response(
            {
                "results": ConsentEventSerializer(page, many=True).data,
                "next_after": page[-1].pk if page else after,
                "has_more": len(events) > limit,
            }
        )


urlpatterns = [path("consent-events", ConsentEventFeed.as_view(), name="consent-event-list")]
