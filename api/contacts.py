"""``/api/v1/contacts/``: the address book's contacts, found, written and upserted in bulk.

Every write goes through the address book's services, so the API keeps the dashboard's
rules: addresses parsed with the company's default country, an opted-out address never
edited away, a deleted contact's opt-out kept. The bulk upsert follows the file import's
rules row for row (``addressbook.services.upserts``).
"""

import io

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
)
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from addressbook.addresses import InvalidAddress
from addressbook.models import Contact, Group, ImportJob
from addressbook.selectors import (
    ContactFilter,
    custom_fields_of,
    filter_contacts,
    groups_of,
    with_address,
)
from addressbook.services import (
    ContactError,
    create_contact,
    delete_contact,
    set_contact_groups,
    update_contact,
)
from addressbook.services.upserts import upsert_contacts
from optout.selectors import (
    reachable_for_marketing,
    suppressed_among,
    suppressed_contacts,
    with_optout_status,
)

from . import params
from .base import CompanyAPIView, Conflict, CursorPage, idempotent, invalid
from .schema import errors

TAGS = ["Contacts"]
MAX_ID = 2**63 - 1  # ids are 64-bit: anything larger names no row
BULK_MAX_ROWS = 10_000
# 10,000 rows with names, both addresses and a dozen custom values stay well below this.
BULK_MAX_BYTES = 20 * 1024 * 1024
MAX_GROUPS = 1000


# --- what goes out ---------------------------------------------------------------------
@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"oneOf": [{"type": "string"}, {"type": "number"}]},
        "example": {"city": "Utrecht", "visits": 3},
    }
)
class CustomValuesField(serializers.Field):
    """Custom values by the field's key: text, or a number for a number field.

    Coming in, a value is a string or a number (``null`` or ``""`` clears it); each key
    must be one of the company's custom fields. Going out, numbers are numbers and dates
    ISO text, as stored.
    """

    default_error_messages = {
        "not_a_dict": 'An object of custom values by key, such as {{"city": "Utrecht"}}.',
        "not_a_value": "{name}: a string or a number.",
        "too_long": "{name}: at most 1000 characters.",
        "unknown": "{name}: there is no custom field with this key. The company's fields are "
        "listed at /api/v1/custom-fields/.",
    }

    def to_representation(self, value: dict) -> dict:
        return value

    def to_internal_value(self, data) -> dict[str, str]:
        if not isinstance(data, dict):
            self.fail("not_a_dict")
        known = set(custom_fields_of(company=self.context["company"]).values_list("key", flat=True))
        cleaned = {}
        for key, value in data.items():
            if key not in known:
                self.fail("unknown", name=str(key)[:60])
            if value is None:
                value = ""
            elif isinstance(value, bool) or not isinstance(value, str | int | float):
                self.fail("not_a_value", name=key)
            text = str(value)
            if len(text) > 1000:
                self.fail("too_long", name=key)
            cleaned[key] = text
        return cleaned


class TextField(serializers.CharField):
    """Text only: a phone number sent as a JSON number has lost its + or leading 0."""

    def to_internal_value(self, data) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ContactSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    first_name = TextField(max_length=100, allow_blank=True, required=False)
    last_name = TextField(max_length=100, allow_blank=True, required=False)
    phone = TextField(
        max_length=64,
        allow_blank=True,
        required=False,
        help_text="Any usual format coming in (national numbers in the company's default "
        "country); E.164 going out, e.g. +31612345678. Empty when the contact has none.",
    )
    country = serializers.CharField(read_only=True, help_text="The phone number's region")
    email = TextField(max_length=254, allow_blank=True, required=False)
    custom = CustomValuesField(required=False)
    groups = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        max_length=MAX_GROUPS,
        required=False,
        help_text="Ids of the company's groups the contact belongs to. Given, it replaces "
        "the contact's groups.",
    )
    opted_out = serializers.BooleanField(
        read_only=True,
        help_text="True when the phone number or the email address opted out of the "
        "company's marketing: no marketing reaches this contact.",
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, contact: Contact) -> dict:
        # The groups are prefetched for the company (see _contacts): no query per contact.
        return {
            "id": contact.pk,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "phone": contact.phone,
            "country": contact.country,
            "email": contact.email,
            "custom": contact.custom,
            "groups": [g.pk for g in contact.company_groups],
            "opted_out": contact.opted_out,
            "created_at": self.fields["created_at"].to_representation(contact.created_at),
            "updated_at": self.fields["updated_at"].to_representation(contact.updated_at),
        }

    def validate_groups(self, ids: list[int]) -> list[int]:
        ids = list(dict.fromkeys(ids))
        found = set(
            Group.objects.filter(company=self.context["company"], pk__in=ids).values_list(
                "pk", flat=True
            )
        )
        missing = [pk for pk in ids if pk not in found]
        if missing:
            raise serializers.ValidationError(
                f"No such group in this company: {', '.join(map(str, missing[:20]))}."
            )
        return ids


def _contacts(company, contacts: QuerySet[Contact] | None = None) -> QuerySet[Contact]:
    """The company's contacts as the API shows them: opt-out status and group ids."""
    if contacts is None:
        contacts = Contact.objects.filter(company=company)
    groups = Prefetch(
        "groups", queryset=Group.objects.filter(company=company), to_attr="company_groups"
    )
    return with_optout_status(company=company, contacts=contacts.prefetch_related(groups))


def _contact_error(exc: ContactError) -> exceptions.APIException:
    field = "custom" if (exc.field or "").startswith("custom_") else exc.field or "contact"
    if exc.code == "taken":
        return Conflict(
            f"{exc} Find it with /api/v1/contacts/lookup and update it instead.",
            code="contact_exists",
        )
    if exc.code == "opted_out":
        return Conflict(str(exc), code="address_opted_out")
    return invalid(str(exc), fields={field: [str(exc)]})


# --- the query string --------------------------------------------------------------------
ORDERINGS = ["-id", "id", "-updated_at", "updated_at"]


class ContactPage(CursorPage):
    """``?ordering=updated_at`` with ``?updated_after=`` is how a CRM syncs changes."""

    def get_ordering(self, request, queryset, view) -> tuple[str, ...]:
        chosen = request.query_params.get("ordering", "-id")
        if chosen not in ORDERINGS:
            raise invalid(
                f"Order by one of {', '.join(ORDERINGS)}.",
                fields={"ordering": [f"One of {', '.join(ORDERINGS)}."]},
            )
        # The id breaks ties between contacts changed in the same instant.
        return (chosen,) if chosen.endswith("id") else (chosen, chosen.replace("updated_at", "id"))


LIST_PARAMETERS = [
    OpenApiParameter(
        "q", str, description="Any part of a first or last name, an email or a phone number"
    ),
    OpenApiParameter("group", int, description="Members of this group"),
    OpenApiParameter(
        "phone",
        str,
        description="Exactly this phone number, in any usual format (national numbers in "
        "the company's default country)",
    ),
    OpenApiParameter("email", str, description="Exactly this email address"),
    OpenApiParameter("country", str, description="Phone numbers of this region, e.g. NL"),
    OpenApiParameter(
        "opted_out",
        bool,
        description="true: only contacts no marketing reaches; false: only reachable ones",
    ),
    OpenApiParameter(
        "updated_after", OpenApiTypes.DATETIME, description="Changed after this moment"
    ),
    OpenApiParameter("ordering", str, enum=ORDERINGS, description="Default -id: newest first"),
]


# --- the endpoints -----------------------------------------------------------------------
class ContactList(CompanyAPIView):
    serializer_class = ContactSerializer
    pagination_class = ContactPage

    def get_queryset(self) -> QuerySet[Contact]:
        problems: dict = {}
        request, company = self.request, self.company
        group = params.one(request, "group", problems)
        if group and not (group.isascii() and group.isdigit() and 0 < int(group) <= MAX_ID):
            problems["group"] = ["A group id: a positive whole number."]
        filters = ContactFilter(
            q=params.one(request, "q", problems)[:254],
            group=group,
            country=params.one(request, "country", problems),
        )
        contacts = filter_contacts(company=company, filters=filters)
        for name in ("phone", "email"):
            value = params.one(request, name, problems)
            try:
                contacts = with_address(contacts, company=company, **{name: value})
            except InvalidAddress as exc:
                problems[name] = [str(exc)]
        opted_out = params.one(request, "opted_out", problems).lower()
        if opted_out == "true":
            contacts = suppressed_contacts(company=company, contacts=contacts)
        elif opted_out == "false":
            contacts = reachable_for_marketing(company=company, contacts=contacts)
        elif opted_out:
            problems["opted_out"] = ["true or false."]
        if after := params.moment(request, "updated_after", problems):
            contacts = contacts.filter(updated_at__gt=after)
        if problems:
            raise invalid("Some filters are not valid: see fields.", fields=problems)
        return _contacts(company, contacts)

    @extend_schema(
        summary="List and search the contacts",
        description="In pages (`?limit=`, at most 1000; follow `next`), newest first unless "
        "`ordering` says otherwise. To sync changes, walk `?ordering=updated_at` from the "
        "last `updated_after` you saw.",
        parameters=LIST_PARAMETERS,
        responses={200: ContactSerializer(many=True), **errors(400)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ContactSerializer(page, many=True).data)

    @extend_schema(
        summary="Add a contact",
        description="A phone number, an email address or both; the phone in any usual "
        "format (national numbers in the company's default country). 409 "
        "`contact_exists` when another contact has the phone or email: update that one. "
        "Send an `Idempotency-Key` header so that a retry adds nothing twice.",
        request=ContactSerializer,
        responses={201: ContactSerializer, **errors(400, 409, 422)},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        examples=[
            OpenApiExample(
                "A new customer from a CRM",
                value={
                    "first_name": "Anna",
                    "last_name": "de Vries",
                    "phone": "06 12345678",
                    "email": "anna@example.com",
                },
                request_only=True,
            )
        ],
        tags=TAGS,
    )
    @idempotent
    def post(self, request: Request) -> Response:
        incoming = ContactSerializer(data=request.data, context={"company": self.company})
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        groups = data.pop("groups", None)
        try:
            with transaction.atomic():
                contact = create_contact(company=self.company, **data)
                if groups:
                    set_contact_groups(contact=contact, group_ids=groups)
        except ContactError as exc:
            raise _contact_error(exc) from None
        shown = _contacts(self.company).get(pk=contact.pk)
        return Response(
            ContactSerializer(shown).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": f"{request.path}{contact.pk}/"},
        )


class ContactDetail(CompanyAPIView):
    serializer_class = ContactSerializer

    def get_object(self) -> Contact:
        found = _contacts(self.company).filter(pk=int(self.kwargs["pk"])).first()
        if found is None:
            raise Http404("No such contact in this company.")
        return found

    @extend_schema(
        summary="One contact", responses={200: ContactSerializer, **errors(404)}, tags=TAGS
    )
    def get(self, request: Request, pk: str) -> Response:
        return Response(ContactSerializer(self.get_object()).data)

    @extend_schema(
        summary="Change some of a contact's fields",
        description="Only the fields sent change; `custom` values are merged key by key "
        "(`null` clears one), `groups` replaces the contact's groups. An address that "
        "opted out cannot be changed or removed (409 `address_opted_out`): the opt-out "
        "would no longer hold. Add a new contact for a new address.",
        request=ContactSerializer,
        responses={200: ContactSerializer, **errors(400, 404, 409)},
        tags=TAGS,
    )
    def patch(self, request: Request, pk: str) -> Response:
        return self._update(request, partial=True)

    @extend_schema(
        summary="Replace a contact",
        description="Every field is set to what is sent; what is left out is cleared "
        "(`groups` and `custom` too). An address that opted out cannot be changed or "
        "removed (409 `address_opted_out`).",
        request=ContactSerializer,
        responses={200: ContactSerializer, **errors(400, 404, 409)},
        tags=TAGS,
    )
    def put(self, request: Request, pk: str) -> Response:
        return self._update(request, partial=False)

    def _update(self, request: Request, *, partial: bool) -> Response:
        contact = self.get_object()
        incoming = ContactSerializer(
            data=request.data, partial=partial, context={"company": self.company}
        )
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        groups = data.pop("groups", None if partial else [])
        custom = data.pop("custom", None if partial else {})
        if partial:
            current = {
                f: getattr(contact, f) for f in ("first_name", "last_name", "phone", "email")
            }
            data = {**current, **data}
            if custom is not None:
                custom = {**{k: str(v) for k, v in contact.custom.items()}, **custom}
        try:
            with transaction.atomic():
                update_contact(contact=contact, custom=custom, **data)
                if groups is not None:
                    set_contact_groups(contact=contact, group_ids=groups)
        except ContactError as exc:
            raise _contact_error(exc) from None
        return Response(ContactSerializer(self.get_object()).data)

    @extend_schema(
        summary="Delete a contact",
        description="The contact goes; an opt-out of its phone or email stays, so a later "
        "import or upsert of the same address is still opted out.",
        responses={204: None, **errors(404)},
        tags=TAGS,
    )
    def delete(self, request: Request, pk: str) -> Response:
        delete_contact(contact=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class ContactLookup(CompanyAPIView):
    serializer_class = ContactSerializer

    @extend_schema(
        summary="The contact with this phone number or email address",
        description="Give `phone` (any usual format: `+31 6 12345678`, `0612345678`, "
        "`0031612345678`, `(06) 12 34 56 78` all find the same contact) or `email`. "
        "404 when no contact has it.",
        parameters=[
            OpenApiParameter("phone", str, description="e.g. +31612345678 or 06 12345678"),
            OpenApiParameter("email", str, description="e.g. anna@example.com"),
        ],
        responses={200: ContactSerializer, **errors(400, 404)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        problems: dict = {}
        given = {name: params.one(request, name, problems) for name in ("phone", "email")}
        given = {name: value for name, value in given.items() if value}
        if not problems and len(given) != 1:
            problems["phone"] = ["Give one of ?phone= or ?email=."]
        contacts = _contacts(self.company)
        for name, value in given.items():
            try:
                contacts = with_address(contacts, company=self.company, **{name: value})
            except InvalidAddress as exc:
                problems[name] = [str(exc)]
        if problems:
            raise invalid("Give one phone number or one email address.", fields=problems)
        found = contacts.first()
        if found is None:
            raise Http404(f"No contact in this company has this {next(iter(given))}.")
        return Response(ContactSerializer(found).data)


# --- bulk upsert ---------------------------------------------------------------------------
ROW_FIELDS = ("phone", "email", "first_name", "last_name", "country")


class BulkContactSerializer(serializers.Serializer):
    """For documentation: rows are checked by hand, 10,000 at a time (see ``_row``)."""

    phone = serializers.CharField(required=False, help_text="Any usual format")
    email = serializers.CharField(required=False)
    first_name = serializers.CharField(required=False)
    last_name = serializers.CharField(required=False)
    country = serializers.CharField(
        required=False, help_text="Region to read a national phone number in, e.g. FR"
    )
    custom = CustomValuesField(required=False)


class BulkUpsertSerializer(serializers.Serializer):
    contacts = BulkContactSerializer(
        many=True, help_text=f"1 to {BULK_MAX_ROWS:,} contacts, matched by phone then email"
    )
    mode = serializers.ChoiceField(
        choices=ImportJob.Mode.values,
        default=ImportJob.Mode.UPDATE,
        help_text="update: fill in and overwrite what a row brings; skip: leave existing "
        "contacts as they are",
    )
    group = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ID,
        help_text="A group every contact of the request joins",
    )


class BulkRowResultSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Position in `contacts`, from 1")
    status = serializers.ChoiceField(choices=["created", "updated", "unchanged", "rejected"])
    id = serializers.IntegerField(allow_null=True, help_text="The contact; null when rejected")
    error = serializers.CharField(allow_null=True, help_text="Why the row was rejected")
    opted_out = serializers.BooleanField(
        help_text="The contact's phone or email opted out: it stays opted out"
    )


class BulkTotalsSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rejected = serializers.IntegerField()
    opted_out = serializers.IntegerField()


class BulkUpsertResultSerializer(serializers.Serializer):
    results = BulkRowResultSerializer(many=True)
    totals = BulkTotalsSerializer()


# What the import's outcomes are called here: skipped rows are unchanged contacts, and a
# duplicate of an earlier row is rejected with the import's reason.
STATUS = {
    "created": "created",
    "updated": "updated",
    "unchanged": "unchanged",
    "skipped": "unchanged",
    "duplicate": "rejected",
    "invalid": "rejected",
}


class Rejected(ValueError):
    pass


def _row(row) -> tuple[dict[str, str], dict[str, str]]:
    """One row's values as the import reads a file's: text only, each field known."""
    if not isinstance(row, dict):
        raise Rejected('A contact is a JSON object, such as {"phone": "+31612345678"}.')
    unknown = row.keys() - {*ROW_FIELDS, "custom"}
    if unknown:
        raise Rejected(f"Unknown field: {', '.join(sorted(str(k)[:40] for k in unknown))}.")
    raw = {}
    for name in ROW_FIELDS:
        value = row.get(name)
        if value is not None and not isinstance(value, str):
            raise Rejected(f"{name}: a string.")
        raw[name] = value or ""
    custom = row.get("custom") or {}
    if not isinstance(custom, dict):
        raise Rejected("custom: an object of values by key.")
    texts = {}
    for key, value in custom.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise Rejected(f"custom.{key[:40]}: a string or a number.")
        texts[key] = str(value)
    return raw, texts


class ContactBulk(CompanyAPIView):
    serializer_class = BulkUpsertSerializer

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        # 10,000 contacts outgrow DATA_UPLOAD_MAX_MEMORY_SIZE, which guards every other
        # request: this one reads its body itself, up to its own limit. Django keeps the
        # body read this way and hands it to the parser unchecked.
        django_request = request._request
        if django_request.method != "POST" or django_request._read_started:
            return
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > BULK_MAX_BYTES:
            raise _too_large()
        body = django_request.read(BULK_MAX_BYTES + 1)
        if len(body) > BULK_MAX_BYTES:
            raise _too_large()
        django_request._body = body
        django_request._stream = io.BytesIO(body)

    @extend_schema(
        summary="Create or update up to 10,000 contacts",
        description="By the same rules as a file import: each row is matched to a contact "
        "by phone, then by email; a matched contact gets what the row brings, but its "
        "addresses are only ever added, never replaced; a row that reaches the same "
        "contact as an earlier row is rejected, as is one with no valid phone or email; "
        "names longer than 100 characters are cut. Nobody is resubscribed: a row whose "
        "address opted out creates or updates the contact, which stays opted out "
        "(`opted_out: true`). Every row gets one result, in order, and the request is "
        "written all at once or not at all. Send an `Idempotency-Key` header so that a "
        "retry writes nothing twice.",
        request=BulkUpsertSerializer,
        responses={200: BulkUpsertResultSerializer, **errors(400, 409, 413, 422)},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        examples=[
            OpenApiExample(
                "Two contacts from a CRM",
                value={
                    "contacts": [
                        {"phone": "+31 6 12345678", "first_name": "Anna"},
                        {"email": "ben@example.com", "country": "FR", "custom": {}},
                    ]
                },
                request_only=True,
            )
        ],
        tags=TAGS,
    )
    @idempotent
    def post(self, request: Request) -> Response:
        body = request.data
        if not isinstance(body, dict):
            raise invalid('Send {"contacts": [...]}.', fields={"contacts": ["Required."]})
        rows = body.get("contacts")
        if not isinstance(rows, list) or not rows:
            raise invalid(
                "Send the contacts as a list of 1 to 10,000 objects.",
                fields={"contacts": ["A list of 1 to 10,000 contacts."]},
            )
        if len(rows) > BULK_MAX_ROWS:
            raise invalid(
                f"At most {BULK_MAX_ROWS:,} contacts per request; this one has "
                f"{len(rows):,}. Split it into several requests.",
                fields={"contacts": [f"At most {BULK_MAX_ROWS:,} contacts."]},
                code="too_many_rows",
            )
        unknown = body.keys() - {"contacts", "mode", "group"}
        if unknown:
            names = sorted(str(k)[:40] for k in unknown)
            raise invalid(
                f"Unknown field: {', '.join(names)}. Send contacts, mode and group.",
                fields={name: ["Unknown field."] for name in names},
            )
        options = BulkUpsertSerializer(
            data={k: v for k, v in body.items() if k != "contacts"}, partial=True
        )
        options.is_valid(raise_exception=True)
        mode = options.validated_data.get("mode", ImportJob.Mode.UPDATE)
        group_id = options.validated_data.get("group")
        if group_id and not groups_of(company=self.company).filter(pk=group_id).exists():
            raise invalid("No such group in this company.", fields={"group": ["No such group."]})
        read, refused = [], {}
        for number, row in enumerate(rows, start=1):
            try:
                read.append(_row(row))
            except Rejected as exc:
                refused[number] = str(exc)
        outcomes = upsert_contacts(
            company=self.company,
            rows=read,
            mode=mode,
            group_id=group_id,
            suppressed_of=suppressed_among,
        )
        return Response(_results(len(rows), refused, outcomes))


def _results(total: int, refused: dict[int, str], outcomes) -> dict:
    written = iter(outcomes)
    results = []
    for number in range(1, total + 1):
        if number in refused:
            results.append(_result(number, "rejected", None, refused[number], False))
            continue
        o = next(written)
        state = STATUS[o.outcome]
        error = o.reason if state == "rejected" else None
        contact_id = o.contact_id if state != "rejected" else None
        results.append(_result(number, state, contact_id, error, o.opted_out))
    totals = {name: 0 for name in ("created", "updated", "unchanged", "rejected")}
    for result in results:
        totals[result["status"]] += 1
    totals["opted_out"] = sum(r["opted_out"] for r in results)
    return {"results": results, "totals": totals}


def _result(row: int, state: str, contact_id, error, opted_out: bool) -> dict:
    return {"row": row, "status": state, "id": contact_id, "error": error, "opted_out": opted_out}


class TooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


def _too_large() -> TooLarge:
    return TooLarge(
        f"The request body is larger than {BULK_MAX_BYTES // 1024 // 1024} MB. Send at most "
        f"{BULK_MAX_ROWS:,} contacts per request."
    )


urlpatterns = [
    path("contacts", ContactList.as_view(), name="contact-list"),
    path("contacts/lookup", ContactLookup.as_view(), name="contact-lookup"),
    path("contacts/bulk", ContactBulk.as_view(), name="contact-bulk"),
    path("contacts/<id:pk>", ContactDetail.as_view(), name="contact-detail"),
]
