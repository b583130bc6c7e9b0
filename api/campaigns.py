"""``/api/v1/campaigns/``: marketing SMS and email campaigns, as the dashboard makes them.

Drafted and edited while a draft, previewed as the editor previews them (per country, with
the opt-out text each gets and what it costs), then sent, scheduled, paused, resumed or
cancelled through the same services as the dashboard's buttons; the counters and the
messages show how it went. A state that does not allow an action is a 409 saying why.
"""

import zoneinfo

from django.db.models import Prefetch
from django.http import Http404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
)
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from addressbook.models import Group
from campaigns.held import HeldSummary, held_before_send, held_in_campaign
from campaigns.models import Campaign, Channel, Message
from campaigns.segments import replace_lookalikes
from campaigns.selectors import (
    CONDITION_LOOKUPS,
    AudiencePreview,
    campaign_counters,
    campaigns_of,
    draft_preview,
    messages_of,
)
from campaigns.selectors import audience_preview as saved_preview
from campaigns.services import (
    CampaignError,
    CampaignInvalid,
    cancel_campaign,
    create_campaign,
    draft_errors,
    pause_campaign,
    record_campaign_action,
    refusal,
    resume_campaign,
    schedule_campaign,
    send_campaign,
    unschedule_campaign,
    update_campaign,
)
from campaigns.services.lifecycle import MAX_CONDITIONS
from optout.selectors import MAX_ID

from . import params
from .base import CompanyAPIView, Conflict, idempotent, invalid
from .messages import MessageSerializer
from .schema import errors

TAGS = ["Campaigns"]
Status = Campaign.Status
BODY_LENGTH = 100_000
MAX_GROUPS = 1000


# --- what goes out ---------------------------------------------------------------------
class ConditionSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=100, help_text="A custom field's key")
    op = serializers.ChoiceField(
        choices=list(CONDITION_LOOKUPS), help_text="`is` (any case) or `contains`"
    )
    value = serializers.CharField(max_length=200)

    def validate(self, data: dict) -> dict:
        # Whole even in a PATCH or a preview, where the fields around it may be left out.
        missing = [name for name in self.fields if name not in data]
        if missing:
            raise serializers.ValidationError(
                {name: ["This field is required."] for name in missing}
            )
        return data


class CountersSerializer(serializers.Serializer):
    audience = serializers.IntegerField(
        help_text="Recipients; before sending, who sending now would go to"
    )
    skipped = serializers.IntegerField(
        help_text="Skipped as opted out; before sending, how many sending now would skip"
    )
    queued = serializers.IntegerField(help_text="Waiting or being handed to the gateway")
    sent = serializers.IntegerField(help_text="Taken by the gateway, delivered ones included")
    delivered = serializers.IntegerField()
    failed = serializers.IntegerField()
    cancelled = serializers.IntegerField(help_text="Not sent: the campaign was cancelled")
    optouts = serializers.IntegerField(
        help_text="Opt-outs attributed to this campaign; each of them, with its reason: "
        "`GET /api/v1/suppressions/?campaign=<id>`"
    )
    optout_percent = serializers.FloatField(help_text="Opt-outs per 100 messages sent")
    done_percent = serializers.IntegerField(help_text="How far sending has come, 0–100")
    waiting_until = serializers.DateTimeField(
        allow_null=True,
        help_text="When recipients outside their country's sending hours get it",
    )


class CampaignSerializer(serializers.ModelSerializer):
    groups = serializers.SerializerMethodField(help_text="Ids of the audience's groups")
    countries = serializers.ListField(child=serializers.CharField())
    field_conditions = ConditionSerializer(many=True)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "channel",
            "status",
            "sender",
            "subject",
            "body",
            "html_body",
            "groups",
            "countries",
            "field_conditions",
            "scheduled_at",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_groups(self, campaign: Campaign) -> list[int]:
        return [group.pk for group in campaign.groups.all()]


class HeldSerializer(serializers.Serializer):
    country = serializers.CharField(help_text="ISO 3166 code; empty when the contact has none")
    time_zone = serializers.CharField(source="zone", help_text="Where the opening is told")
    recipients = serializers.IntegerField()
    opens_at = serializers.SerializerMethodField(
        help_text="When their hours open, with that time zone's offset"
    )

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_opens_at(self, group) -> str:
        # Not DRF's DateTimeField: it would move the moment into the server's zone.
        return group.opens_at.isoformat()


class CampaignDetailSerializer(CampaignSerializer):
    counters = serializers.SerializerMethodField(
        help_text="Before sending, what sending now would do; after, how it went"
    )
    held = serializers.SerializerMethodField(
        help_text="Recipients outside their sending hours, per country and time zone: before "
        "sending, those sending now would hold; while sending or paused, those held"
    )

    class Meta(CampaignSerializer.Meta):
        fields = [
            *CampaignSerializer.Meta.fields,
            "counters",
            "held",
            "hours_overridden_at",
            "hours_overridden_by",
        ]
        read_only_fields = fields

    @extend_schema_field(CountersSerializer)
    def get_counters(self, campaign: Campaign) -> dict:
        return CountersSerializer(campaign_counters(campaign=campaign)).data

    @extend_schema_field(HeldSerializer(many=True))
    def get_held(self, campaign: Campaign) -> list[dict]:
        summary: HeldSummary | None = None
        if campaign.status in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED):
            summary = held_before_send(campaign=campaign)
        elif campaign.status in (Campaign.Status.SENDING, Campaign.Status.PAUSED):
            summary = held_in_campaign(campaign=campaign)
        return HeldSerializer(summary.groups if summary else [], many=True).data


class CounterSerializer(serializers.Serializer):
    country = serializers.CharField(help_text="Whose opt-out text it was counted with")
    encoding = serializers.ChoiceField(choices=["GSM-7", "UCS-2"])
    characters = serializers.IntegerField(help_text="Septets (GSM-7) or UTF-16 units (UCS-2)")
    parts = serializers.IntegerField()
    per_part = serializers.IntegerField()
    remaining = serializers.IntegerField(help_text="Still free in the last part")
    ucs2_characters = serializers.ListField(
        child=serializers.CharField(trim_whitespace=False),
        help_text="The characters that force UCS-2",
    )
    replaceable = serializers.DictField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        help_text="Characters forcing UCS-2 that a GSM-7 stand-in can replace, and it",
    )
    as_typed = serializers.BooleanField(
        help_text="Counted from the body as typed: no contact to fill the placeholders yet"
    )


class CountryPreviewSerializer(serializers.Serializer):
    country = serializers.CharField(
        allow_null=True, help_text="ISO code; empty when unknown; null for an email"
    )
    total = serializers.IntegerField()
    reachable = serializers.IntegerField()
    skipped = serializers.IntegerField(help_text="Opted out: sending skips them")
    body = serializers.CharField(
        allow_null=True,
        help_text="The message as the first contact gets it; null while the body has errors",
    )
    footer = serializers.CharField(help_text="SMS: the opt-out text this country gets")
    encoding = serializers.CharField(allow_null=True)
    parts = serializers.IntegerField(allow_null=True, help_text="SMS parts of one message")
    total_parts = serializers.IntegerField(
        allow_null=True, help_text="SMS parts for all its reachable contacts"
    )


class PreviewSerializer(serializers.Serializer):
    body = serializers.CharField(
        trim_whitespace=False,
        help_text="The body previewed: as sent, or with look-alikes replaced when asked",
    )
    audience = serializers.IntegerField(help_text="Contacts the campaign goes to")
    skipped = serializers.IntegerField(help_text="Of them, opted out: skipped")
    reachable = serializers.IntegerField()
    estimated_parts = serializers.IntegerField(
        allow_null=True, help_text="SMS parts for the whole audience"
    )
    counter = CounterSerializer(
        allow_null=True, help_text="SMS: the longest message around (the costliest opt-out text)"
    )
    countries = CountryPreviewSerializer(many=True)
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="What would stop this draft from being saved, per field",
    )


def _preview_data(
    preview: AudiencePreview, *, body: str, channel: str, problems: dict[str, list[str]]
) -> dict:
    counter = preview.counter
    return {
        "body": body,
        "audience": preview.total,
        "skipped": preview.opted_out,
        "reachable": preview.reachable,
        "estimated_parts": preview.estimated_parts,
        "counter": None
        if counter is None
        else {
            "country": counter.country,
            "encoding": counter.segments.encoding,
            "characters": counter.segments.units,
            "parts": counter.segments.parts,
            "per_part": counter.segments.per_part,
            "remaining": counter.segments.remaining,
            "ucs2_characters": list(counter.segments.ucs2_characters),
            "replaceable": dict(counter.replaceable),
            "as_typed": counter.as_typed,
        },
        "countries": [
            {
                "country": None if channel == Channel.EMAIL else c.country,
                "total": c.total,
                "reachable": c.reachable,
                "skipped": c.total - c.reachable,
                "body": c.body,
                "footer": c.footer,
                "encoding": c.counter.segments.encoding if c.counter else None,
                "parts": c.counter.segments.parts if c.counter else None,
                "total_parts": c.parts,
            }
            for c in preview.countries
        ],
        "errors": problems,
    }


# --- what comes in -----------------------------------------------------------------------
class CampaignInputSerializer(serializers.Serializer):
    """A draft as the editor has it: what it says, from whom, and to whom."""

    name = serializers.CharField(max_length=120)
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.SMS)
    sender = serializers.CharField(
        max_length=254,
        required=False,
        allow_blank=True,
        default="",
        help_text="SMS: up to 11 letters, digits and spaces, or a number of up to 16 digits. "
        "Email: a From address. Empty: the company's default.",
    )
    subject = serializers.CharField(
        max_length=255, required=False, allow_blank=True, default="", help_text="Email only"
    )
    body = serializers.CharField(
        max_length=BODY_LENGTH,
        trim_whitespace=False,
        help_text="Placeholders such as {{ first_name }} or a custom field's key are filled "
        'per contact; a fallback if empty: {{ first_name|default:"there" }}. SMS end with '
        "the opt-out text of each recipient's country, emails with a personal unsubscribe "
        "link: do not write them yourself.",
    )
    html_body = serializers.CharField(
        max_length=BODY_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        help_text="Email only, optional",
    )
    groups = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        default=list,
        max_length=MAX_GROUPS,
        help_text="Contacts in any of these groups; none: every contact",
    )
    countries = serializers.ListField(
        child=serializers.CharField(max_length=2, min_length=2),
        required=False,
        default=list,
        max_length=300,
        help_text="ISO 3166 codes of the contacts' countries; none: every country",
    )
    field_conditions = ConditionSerializer(
        many=True,
        required=False,
        default=list,
        max_length=MAX_CONDITIONS,
        help_text="Every one must match a contact's custom field",
    )

    def validate_groups(self, ids: list[int]) -> list[Group]:
        wanted = list(dict.fromkeys(ids))
        found = {
            g.pk: g for g in Group.objects.filter(company=self.context["company"], pk__in=wanted)
        }
        missing = [pk for pk in wanted if pk not in found]
        if missing:
            raise serializers.ValidationError(f"No group with id {missing[0]} in this company.")
        return [found[pk] for pk in wanted]

    def validate_countries(self, codes: list[str]) -> list[str]:
        return sorted({code.upper() for code in codes})


class PreviewInputSerializer(CampaignInputSerializer):
    """A draft being written: any field may be left out (the saved campaign's, if any)."""

    replace_lookalikes = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Preview the body with the characters that force UCS-2 and have a GSM-7 "
        "stand-in (’ “ ” – … and the like) replaced by it, as the editor's button does; "
        "save the body answered to keep it.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
        self.fields["body"].allow_blank = True
        self.fields["name"].allow_blank = True


class ScheduleSerializer(serializers.Serializer):
    at = serializers.DateTimeField(
        help_text="When to send, ISO 8601; without an offset, in the company's time zone"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if company := self.context.get("company"):
            self.fields["at"].timezone = zoneinfo.ZoneInfo(company.timezone)


def _fields(data: dict) -> dict:
    """Validated input as ``create_campaign`` and ``update_campaign`` take it."""
    return {
        "name": data["name"],
        "channel": data["channel"],
        "sender": data["sender"],
        "subject": data["subject"],
        "body": data["body"],
        "html_body": data["html_body"],
        "groups": data["groups"],
        "countries": data["countries"],
        "field_conditions": [dict(c) for c in data["field_conditions"]],
    }


def _saved_fields(campaign: Campaign) -> dict:
    return {
        "name": campaign.name,
        "channel": campaign.channel,
        "sender": campaign.sender,
        "subject": campaign.subject,
        "body": campaign.body,
        "html_body": campaign.html_body,
        "groups": list(campaign.groups.all()),
        "countries": campaign.countries,
        "field_conditions": campaign.field_conditions,
    }


def _merged(campaign: Campaign, changes: dict) -> dict:
    """The saved campaign with these changes; a sender of the old channel is not kept."""
    fields = {**_saved_fields(campaign), **changes}
    if fields["channel"] != campaign.channel and "sender" not in changes:
        fields["sender"] = ""
    return fields


def _not_valid(exc: CampaignInvalid):
    return invalid("The campaign cannot be saved: see fields.", fields=exc.errors)


def _campaigns(company):
    # The groups of each campaign in one query, scoped to the company like every query.
    groups = Group.objects.filter(company=company).only("id")
    return campaigns_of(company=company).prefetch_related(Prefetch("groups", queryset=groups))


def campaign_or_404(company, pk: int) -> Campaign:
    found = _campaigns(company).filter(pk=pk).first() if pk <= MAX_ID else None
    if found is None:
        raise Http404("No such campaign in this company.")
    return found


def _detail(campaign: Campaign, *, code: int = status.HTTP_200_OK) -> Response:
    fresh = campaign_or_404(campaign.company, campaign.pk)
    return Response(CampaignDetailSerializer(fresh).data, status=code)


# --- the endpoints -----------------------------------------------------------------------
class CampaignList(mixins.ListModelMixin, CompanyAPIView):
    serializer_class = CampaignSerializer

    def get_queryset(self):
        problems: dict = {}
        wanted = {
            "status": params.one_of(self.request, "status", Status.values, problems),
            "channel": params.one_of(self.request, "channel", Channel.values, problems),
        }
        if problems:
            raise invalid("Some filters are not valid: see fields.", fields=problems)
        return _campaigns(self.company).filter(**{k: v for k, v in wanted.items() if v})

    @extend_schema(
        summary="List the campaigns",
        description="Newest first, in pages (`?limit=`, at most 1000; follow `next`). "
        "The counters are on each campaign's own page.",
        parameters=[
            OpenApiParameter("status", str, enum=Status.values),
            OpenApiParameter("channel", str, enum=Channel.values),
        ],
        responses={200: CampaignSerializer(many=True), **errors(400)},
        tags=TAGS,
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return self.list(request, *args, **kwargs)

    @extend_schema(
        summary="Create a draft campaign",
        description="SMS or email, to groups and/or contacts matching countries and custom "
        "fields, checked as the editor checks it (placeholders, sender, subject). It is "
        "sent only by `send` or `schedule`. Send an `Idempotency-Key` header so that a "
        "retry creates nothing twice.",
        request=CampaignInputSerializer,
        responses={201: CampaignDetailSerializer, **errors(400)},
        examples=[
            OpenApiExample(
                "An SMS to one group in the Netherlands",
                value={
                    "name": "Spring beans",
                    "channel": "sms",
                    "body": "Hi {{ first_name }}, our spring beans are in!",
                    "groups": [12],
                    "countries": ["NL"],
                },
                request_only=True,
            )
        ],
        tags=TAGS,
    )
    @idempotent
    def post(self, request: Request) -> Response:
        incoming = CampaignInputSerializer(data=request.data, context={"company": self.company})
        incoming.is_valid(raise_exception=True)
        try:
            campaign = create_campaign(
                company=self.company, created_by=None, **_fields(incoming.validated_data)
            )
        except CampaignInvalid as exc:
            raise _not_valid(exc) from None
        return _detail(campaign, code=status.HTTP_201_CREATED)


class CampaignDetail(CompanyAPIView):
    @extend_schema(
        summary="One campaign, with its status and counters",
        responses={200: CampaignDetailSerializer, **errors(404)},
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        return _detail(campaign_or_404(self.company, pk))

    @extend_schema(
        summary="Change a draft",
        description="Only the fields given change; `groups`, `countries` and "
        "`field_conditions` are replaced whole. A campaign that is no longer a draft "
        "(scheduled: unschedule it first) is a 409 `not_draft`.",
        request=CampaignInputSerializer,
        responses={200: CampaignDetailSerializer, **errors(400, 404, 409)},
        tags=TAGS,
    )
    def patch(self, request: Request, pk: int) -> Response:
        campaign = campaign_or_404(self.company, pk)
        if campaign.status != Status.DRAFT:
            raise _not_draft(campaign)
        incoming = CampaignInputSerializer(
            data=request.data, partial=True, context={"company": self.company}
        )
        incoming.is_valid(raise_exception=True)
        changes = dict(incoming.validated_data)
        if "field_conditions" in changes:
            changes["field_conditions"] = [dict(c) for c in changes["field_conditions"]]
        try:
            update_campaign(campaign=campaign, **_merged(campaign, changes))
        except CampaignInvalid as exc:
            raise _not_valid(exc) from None
        except CampaignError:  # sent or scheduled meanwhile
            raise _not_draft(campaign) from None
        return _detail(campaign)


def _not_draft(campaign: Campaign) -> Conflict:
    message = refusal(campaign=campaign, what="edited")
    if campaign.status == Status.SCHEDULED:
        message += " Unschedule it first."
    return Conflict(message, code="not_draft")


PREVIEW = (
    "The same as the editor shows: per destination country the message its first contact "
    "gets, with the opt-out text of that country, its encoding (GSM-7 or UCS-2) and parts; "
    "the audience and how many of it will be skipped as opted out; and what would stop the "
    "draft from being saved."
)


class CampaignPreview(CompanyAPIView):
    @extend_schema(
        summary="Preview a campaign as saved",
        description=PREVIEW,
        responses={200: PreviewSerializer, **errors(404)},
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        campaign = campaign_or_404(self.company, pk)
        problems = _problems(self.company, _saved_fields(campaign))
        preview = saved_preview(campaign=campaign)
        data = _preview_data(
            preview, body=campaign.body, channel=campaign.channel, problems=problems
        )
        return Response(data)

    @extend_schema(
        summary="Preview changes to a draft before saving them",
        description=PREVIEW + " The fields sent replace the saved ones; nothing is saved. "
        "A campaign that is no longer a draft is a 409 `not_draft`.",
        request=PreviewInputSerializer,
        responses={200: PreviewSerializer, **errors(400, 404, 409)},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        campaign = campaign_or_404(self.company, pk)
        if campaign.status != Status.DRAFT:
            raise _not_draft(campaign)
        return _preview_of(request, self.company, _saved_fields(campaign), base=campaign)


class DraftPreview(CompanyAPIView):
    @extend_schema(
        operation_id="campaigns_draft_preview",
        summary="Preview a campaign not saved yet",
        description=PREVIEW + " Nothing is saved.",
        request=PreviewInputSerializer,
        responses={200: PreviewSerializer, **errors(400)},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        empty = {
            "name": "",
            "channel": Channel.SMS,
            "sender": "",
            "subject": "",
            "body": "",
            "html_body": "",
            "groups": [],
            "countries": [],
            "field_conditions": [],
        }
        return _preview_of(request, self.company, empty)


def _preview_of(request: Request, company, saved: dict, base: Campaign | None = None) -> Response:
    incoming = PreviewInputSerializer(data=request.data, partial=True, context={"company": company})
    incoming.is_valid(raise_exception=True)
    changes = dict(incoming.validated_data)
    replace = changes.pop("replace_lookalikes", False)
    if "field_conditions" in changes:
        changes["field_conditions"] = [dict(c) for c in changes["field_conditions"]]
    fields = _merged(base, changes) if base is not None else {**saved, **changes}
    if replace:
        fields["body"] = replace_lookalikes(fields["body"])
    # A condition on no field of the company is named in the errors, not queried.
    keys = set(company.custom_fields.values_list("key", flat=True))
    preview = draft_preview(
        company=company,
        channel=fields["channel"],
        body=fields["body"],
        subject=fields["subject"],
        group_ids=[g.pk for g in fields["groups"]],
        countries=fields["countries"],
        field_conditions=[c for c in fields["field_conditions"] if c["key"] in keys],
    )
    problems = _problems(company, fields)
    data = _preview_data(preview, body=fields["body"], channel=fields["channel"], problems=problems)
    return Response(data)


def _problems(company, fields: dict) -> dict[str, list[str]]:
    problems = draft_errors(
        company=company,
        channel=fields["channel"],
        sender=fields["sender"],
        subject=fields["subject"],
        body=fields["body"],
        html_body=fields["html_body"],
        countries=fields["countries"],
        field_conditions=fields["field_conditions"],
    )
    if not fields["name"].strip():
        problems["name"] = ["Give the campaign a name."]
    if not fields["body"].strip():
        problems["body"] = ["Write the message."]
    return problems


# --- the actions -------------------------------------------------------------------------
class _Action(CompanyAPIView):
    """One button of the campaign's page: its lifecycle service, a 409 when it refuses,
    and the audit log where the button records one."""

    what = ""  # as in "cannot be <what>"

    def service(self, campaign: Campaign, request: Request):
        """The lifecycle service the action calls, and its keyword arguments besides the
        campaign (``request.data`` read and checked)."""
        raise NotImplementedError

    def details(self, arguments: dict) -> dict:
        """More for the audit log, as the dashboard's button records it."""
        return {}

    def run(self, request: Request, pk: int) -> Response:
        campaign = campaign_or_404(self.company, pk)
        service, arguments = self.service(campaign, request)
        try:
            done = service(campaign=campaign, **arguments)
        except CampaignError as exc:  # a time in the past
            raise invalid(str(exc), fields={name: [str(exc)] for name in arguments}) from None
        if not done:
            raise Conflict(refusal(campaign=campaign, what=self.what), code="invalid_state")
        record_campaign_action(
            campaign=campaign,
            service=service,
            ip=request.META.get("REMOTE_ADDR"),
            api_key=request.auth.name,
            **self.details(arguments),
        )
        return _detail(campaign)


def _action_schema(summary: str, description: str, *, request=None):
    """An action's answers: the campaign, or 409 when its state does not allow it (the
    foundation adds what an ``@idempotent`` one can answer besides)."""
    return extend_schema(
        summary=summary,
        description=description,
        request=request,
        responses={
            200: CampaignDetailSerializer,
            **errors(*((400,) if request else ()), 404, 409),
        },
        tags=TAGS,
    )


class CampaignSend(_Action):
    what = "sent now"

    def service(self, campaign: Campaign, request: Request):
        return send_campaign, {}

    @_action_schema(
        "Send a campaign now",
        "A draft or scheduled campaign starts sending at once, in the background: follow "
        "`status` and `counters`. Each eligible recipient gets it once; opted-out ones are "
        "skipped; recipients outside their country's sending hours get it when those open. "
        "Send an `Idempotency-Key` header so that a retry does nothing twice.",
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        return self.run(request, pk)


class CampaignSchedule(_Action):
    what = "scheduled"

    def service(self, campaign: Campaign, request: Request):
        incoming = ScheduleSerializer(data=request.data, context={"company": self.company})
        incoming.is_valid(raise_exception=True)
        return schedule_campaign, {"at": incoming.validated_data["at"]}

    def details(self, arguments: dict) -> dict:
        return {"send_at": arguments["at"].isoformat()}

    @_action_schema(
        "Schedule a campaign",
        "A draft (or a scheduled campaign, to move it) is sent at `at`. Until then it can be "
        "unscheduled and edited again.",
        request=ScheduleSerializer,
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        return self.run(request, pk)


class CampaignUnschedule(_Action):
    what = "unscheduled"

    def service(self, campaign: Campaign, request: Request):
        return unschedule_campaign, {}

    @_action_schema("Unschedule a campaign", "A scheduled campaign is a draft again.")
    def post(self, request: Request, pk: int) -> Response:
        return self.run(request, pk)


class CampaignPause(_Action):
    what = "paused"

    def service(self, campaign: Campaign, request: Request):
        return pause_campaign, {}

    @_action_schema(
        "Pause a campaign",
        "Nothing more is handed to the gateway until it is resumed; nothing queued is lost.",
    )
    def post(self, request: Request, pk: int) -> Response:
        return self.run(request, pk)


class CampaignResume(_Action):
    what = "resumed"

    def service(self, campaign: Campaign, request: Request):
        return resume_campaign, {}

    @_action_schema("Resume a paused campaign", "Sending goes on where it stopped.")
    def post(self, request: Request, pk: int) -> Response:
        return self.run(request, pk)


class CampaignCancel(_Action):
    what = "cancelled"

    def service(self, campaign: Campaign, request: Request):
        return cancel_campaign, {}

    @_action_schema(
        "Cancel a campaign",
        "A sending or paused campaign stops for good: what has not been handed to the "
        "gateway is never sent (status `cancelled`).",
    )
    def post(self, request: Request, pk: int) -> Response:
        return self.run(request, pk)


class CampaignMessages(mixins.ListModelMixin, CompanyAPIView):
    serializer_class = MessageSerializer

    def get_queryset(self):
        campaign = campaign_or_404(self.company, self.kwargs["pk"])
        problems: dict = {}
        wanted = params.one_of(self.request, "status", Message.Status.values, problems)
        if problems:
            raise invalid("Some filters are not valid: see fields.", fields=problems)
        found = messages_of(company=self.company).filter(campaign=campaign)
        return found.filter(status=wanted) if wanted else found

    @extend_schema(
        summary="The messages of a campaign",
        description="One per recipient, made as sending goes: to whom, the body as they "
        "got it (with their opt-out text), its status, the gateway's reference and the "
        "recipient's own short link. Newest first, in pages (`?limit=`, at most 1000; "
        "follow `next`).",
        parameters=[OpenApiParameter("status", str, enum=Message.Status.values)],
        responses={200: MessageSerializer(many=True), **errors(400, 404)},
        tags=TAGS,
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return self.list(request, *args, **kwargs)


urlpatterns = [
    path("campaigns", CampaignList.as_view(), name="campaign-list"),
    path("campaigns/preview", DraftPreview.as_view(), name="campaign-draft-preview"),
    path("campaigns/<id:pk>", CampaignDetail.as_view(), name="campaign-detail"),
    path("campaigns/<id:pk>/preview", CampaignPreview.as_view(), name="campaign-preview"),
    path("campaigns/<id:pk>/send", CampaignSend.as_view(), name="campaign-send"),
    path("campaigns/<id:pk>/schedule", CampaignSchedule.as_view(), name="campaign-schedule"),
    path("campaigns/<id:pk>/unschedule", CampaignUnschedule.as_view(), name="campaign-unschedule"),
    path("campaigns/<id:pk>/pause", CampaignPause.as_view(), name="campaign-pause"),
    path("campaigns/<id:pk>/resume", CampaignResume.as_view(), name="campaign-resume"),
    path("campaigns/<id:pk>/cancel", CampaignCancel.as_view(), name="campaign-cancel"),
    path("campaigns/<id:pk>/messages", CampaignMessages.as_view(), name="campaign-messages"),
]
