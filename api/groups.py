"""``/api/v1/groups/`` and ``/api/v1/custom-fields/``: how a company sorts its contacts.

Groups are lists of contacts; membership changes in bulk by contact id, and ids that are
no contact of the company are reported, never touched. Custom fields are the company's
own contact fields, whose values contacts carry under ``custom``.
"""

from django.http import Http404
from django.urls import path
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from addressbook.models import CustomField, Group
from addressbook.selectors import custom_fields_of, groups_of
from addressbook.services import (
    FieldError,
    GroupError,
    add_to_group,
    create_custom_field,
    create_group,
    delete_custom_field,
    delete_group,
    remove_from_group,
    rename_group,
)

from .base import CompanyAPIView, Conflict, idempotent, invalid
from .contacts import MAX_ID
from .schema import errors

GROUP_TAGS = ["Groups"]
FIELD_TAGS = ["Custom fields"]
MAX_MEMBERS = 10_000


# --- groups --------------------------------------------------------------------------------
class GroupSerializer(serializers.ModelSerializer):
    name = serializers.CharField(max_length=100)
    size = serializers.IntegerField(read_only=True, help_text="How many contacts it has")

    class Meta:
        model = Group
        fields = ["id", "name", "size", "created_at"]
        read_only_fields = ["id", "size", "created_at"]


class MembersSerializer(serializers.Serializer):
    contacts = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        min_length=1,
        max_length=MAX_MEMBERS,
        help_text=f"Contact ids, 1 to {MAX_MEMBERS:,}",
    )


class MembersAddedSerializer(serializers.Serializer):
    added = serializers.IntegerField(help_text="Contacts that joined the group")
    already_members = serializers.IntegerField()
    not_found = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Ids that are no contact of the company: nothing was done with them",
    )


class MembersRemovedSerializer(serializers.Serializer):
    removed = serializers.IntegerField(help_text="Contacts that left the group")
    not_members = serializers.IntegerField()
    not_found = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Ids that are no contact of the company: nothing was done with them",
    )


def _group_error(exc: GroupError) -> exceptions.APIException:
    if exc.code == "taken":
        return Conflict(str(exc), code="group_exists")
    return invalid(str(exc), fields={"name": [str(exc)]})


class GroupList(CompanyAPIView):
    serializer_class = GroupSerializer

    def get_queryset(self):
        return groups_of(company=self.company)

    @extend_schema(
        summary="List the groups",
        description="Newest first, in pages (`?limit=`, at most 1000; follow `next`), each "
        "with its number of contacts.",
        responses={200: GroupSerializer(many=True)},
        tags=GROUP_TAGS,
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(GroupSerializer(page, many=True).data)

    @extend_schema(
        summary="Create a group",
        description="409 `group_exists` when the company has a group of that name. Send an "
        "`Idempotency-Key` header so that a retry creates nothing twice.",
        request=GroupSerializer,
        responses={201: GroupSerializer, **errors(400, 409, 422)},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        examples=[OpenApiExample("A list", value={"name": "Newsletter"}, request_only=True)],
        tags=GROUP_TAGS,
    )
    @idempotent
    def post(self, request: Request) -> Response:
        incoming = GroupSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            group = create_group(company=self.company, name=incoming.validated_data["name"])
        except GroupError as exc:
            raise _group_error(exc) from None
        shown = self.get_queryset().get(pk=group.pk)
        return Response(
            GroupSerializer(shown).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": f"{request.path}{group.pk}/"},
        )


class GroupView(CompanyAPIView):
    def get_object(self) -> Group:
        found = groups_of(company=self.company).filter(pk=int(self.kwargs["pk"])).first()
        if found is None:
            raise Http404("No such group in this company.")
        return found


class GroupDetail(GroupView):
    serializer_class = GroupSerializer

    @extend_schema(
        summary="One group", responses={200: GroupSerializer, **errors(404)}, tags=GROUP_TAGS
    )
    def get(self, request: Request, pk: str) -> Response:
        return Response(GroupSerializer(self.get_object()).data)

    @extend_schema(
        summary="Rename a group",
        request=GroupSerializer,
        responses={200: GroupSerializer, **errors(400, 404, 409)},
        tags=GROUP_TAGS,
    )
    def patch(self, request: Request, pk: str) -> Response:
        return self._rename(request)

    @extend_schema(
        summary="Rename a group",
        request=GroupSerializer,
        responses={200: GroupSerializer, **errors(400, 404, 409)},
        tags=GROUP_TAGS,
    )
    def put(self, request: Request, pk: str) -> Response:
        return self._rename(request)

    def _rename(self, request: Request) -> Response:
        group = self.get_object()
        incoming = GroupSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            rename_group(group=group, name=incoming.validated_data["name"])
        except GroupError as exc:
            raise _group_error(exc) from None
        return Response(GroupSerializer(self.get_object()).data)

    @extend_schema(
        summary="Delete a group",
        description="The group goes; its contacts stay.",
        responses={204: None, **errors(404)},
        tags=GROUP_TAGS,
    )
    def delete(self, request: Request, pk: str) -> Response:
        delete_group(group=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class GroupMembers(GroupView):
    serializer_class = MembersSerializer

    def _ids(self, request: Request) -> list[int]:
        incoming = MembersSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        return incoming.validated_data["contacts"]

    @extend_schema(
        summary="Add contacts to a group",
        description="Contacts already in the group stay; ids that are no contact of the "
        "company are listed in `not_found` and nothing is done with them.",
        request=MembersSerializer,
        responses={200: MembersAddedSerializer, **errors(400, 404)},
        examples=[OpenApiExample("Three contacts", value={"contacts": [1, 2, 3]})],
        tags=GROUP_TAGS,
    )
    def post(self, request: Request, pk: str) -> Response:
        group = self.get_object()
        change = add_to_group(group=group, contact_ids=self._ids(request))
        return Response(
            {
                "added": change.changed,
                "already_members": change.unchanged,
                "not_found": change.unknown,
            }
        )

    @extend_schema(
        summary="Remove contacts from a group",
        description="The contacts stay in the address book. Ids that are no contact of "
        "the company are listed in `not_found` and nothing is done with them.",
        request=MembersSerializer,
        responses={200: MembersRemovedSerializer, **errors(400, 404)},
        tags=GROUP_TAGS,
    )
    def delete(self, request: Request, pk: str) -> Response:
        group = self.get_object()
        change = remove_from_group(group=group, contact_ids=self._ids(request))
        return Response(
            {
                "removed": change.changed,
                "not_members": change.unchanged,
                "not_found": change.unknown,
            }
        )


# --- custom fields --------------------------------------------------------------------------
class CustomFieldSerializer(serializers.ModelSerializer):
    name = serializers.CharField(max_length=60)
    key = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        help_text="The placeholder and the key in a contact's `custom`: a-z, 0-9 and _, "
        "starting with a letter. Made from the name when left out.",
    )
    type = serializers.ChoiceField(choices=CustomField.Type.choices, default="text")
    choices = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        max_length=50,
        help_text="For a choice field: its options",
        source="options",
    )

    class Meta:
        model = CustomField
        fields = ["id", "name", "key", "type", "choices", "position"]
        read_only_fields = ["id", "position"]

    def validate_choices(self, options: list[str]) -> list[str]:
        if any("," in option for option in options):
            raise serializers.ValidationError("An option cannot hold a comma.")
        text = ", ".join(o.strip() for o in options if o.strip())
        if len(text) > 500:
            raise serializers.ValidationError("At most 500 characters in all.")
        return options


def _field_error(exc: FieldError) -> exceptions.APIException:
    if exc.code == "taken":
        return Conflict(str(exc), code="field_exists")
    return invalid(str(exc))


class CustomFieldList(CompanyAPIView):
    serializer_class = CustomFieldSerializer

    def get_queryset(self):
        return custom_fields_of(company=self.company)

    @extend_schema(
        summary="List the custom fields",
        description="Newest first, in pages (`?limit=`, at most 1000; follow `next`).",
        responses={200: CustomFieldSerializer(many=True)},
        tags=FIELD_TAGS,
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(CustomFieldSerializer(page, many=True).data)

    @extend_schema(
        summary="Add a custom field",
        description="409 `field_exists` when the company has a field of that name or key. "
        "Send an `Idempotency-Key` header so that a retry adds nothing twice.",
        request=CustomFieldSerializer,
        responses={201: CustomFieldSerializer, **errors(400, 409, 422)},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        examples=[
            OpenApiExample(
                "A choice field",
                value={"name": "Tier", "type": "choice", "choices": ["Gold", "Silver"]},
                request_only=True,
            )
        ],
        tags=FIELD_TAGS,
    )
    @idempotent
    def post(self, request: Request) -> Response:
        incoming = CustomFieldSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            field = create_custom_field(
                company=self.company,
                name=data["name"],
                key=data.get("key", ""),
                type=data["type"],
                choices=", ".join(o.strip() for o in data.get("options", []) if o.strip()),
            )
        except FieldError as exc:
            raise _field_error(exc) from None
        return Response(
            CustomFieldSerializer(field).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": f"{request.path}{field.pk}/"},
        )


class CustomFieldDetail(CompanyAPIView):
    serializer_class = CustomFieldSerializer

    def get_object(self) -> CustomField:
        found = custom_fields_of(company=self.company).filter(pk=int(self.kwargs["pk"])).first()
        if found is None:
            raise Http404("No such custom field in this company.")
        return found

    @extend_schema(
        summary="One custom field",
        responses={200: CustomFieldSerializer, **errors(404)},
        tags=FIELD_TAGS,
    )
    def get(self, request: Request, pk: str) -> Response:
        return Response(CustomFieldSerializer(self.get_object()).data)

    @extend_schema(
        summary="Delete a custom field",
        description="The field goes; what contacts hold under its key stays in their "
        "`custom` until it is overwritten, and the key is no longer accepted.",
        responses={204: None, **errors(404)},
        tags=FIELD_TAGS,
    )
    def delete(self, request: Request, pk: str) -> Response:
        delete_custom_field(field=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("groups", GroupList.as_view(), name="group-list"),
    path("groups/<id:pk>", GroupDetail.as_view(), name="group-detail"),
    path("groups/<id:pk>/members", GroupMembers.as_view(), name="group-members"),
    path("custom-fields", CustomFieldList.as_view(), name="custom-field-list"),
    path("custom-fields/<id:pk>", CustomFieldDetail.as_view(), name="custom-field-detail"),
]
