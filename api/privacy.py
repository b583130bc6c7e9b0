"""``/api/v1/contacts/{id}/export`` and ``/erase``: a person's rights, as the dashboard offers them.

Both call ``privacy.services``: the export is everything the company holds about the
contact, the erasure takes the contact and its texts and keeps its addresses opted out.
"""

from django.http import Http404
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from addressbook.models import Contact
from optout.consent import Actor
from optout.models import Source
from privacy.services import erase_person, export_person

from .base import CompanyAPIView, idempotent
from .schema import errors

TAGS = ["Contacts"]


# --- what goes out (the shape of privacy.selectors.person_data) ----------------------------
def _moment(**kwargs) -> serializers.DateTimeField:
    return serializers.DateTimeField(**kwargs)


class ExportCompanySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ExportContactSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    phone = serializers.CharField(help_text="E.164; empty when the contact has none")
    country = serializers.CharField()
    email = serializers.CharField()
    created_at = _moment()
    updated_at = _moment()


class ExportCustomValueSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField(help_text="The custom field's name (its key if deleted)")
    value = serializers.JSONField(help_text="Text, or a number for a number field")


class ExportGroupSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ExportMessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    campaign_id = serializers.IntegerField(allow_null=True)
    campaign_name = serializers.CharField(allow_null=True)
    kind = serializers.CharField()
    channel = serializers.CharField()
    to = serializers.CharField()
    country = serializers.CharField()
    sender = serializers.CharField()
    subject = serializers.CharField()
    body = serializers.CharField(help_text="Empty once the company's retention has passed")
    status = serializers.CharField()
    error = serializers.CharField()
    created_at = _moment()
    sent_at = _moment(allow_null=True)
    delivered_at = _moment(allow_null=True)


class ExportReplySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sender = serializers.CharField()
    recipient = serializers.CharField()
    text = serializers.CharField(help_text="Empty once the company's retention has passed")
    status = serializers.CharField()
    campaign_id = serializers.IntegerField(allow_null=True)
    replied_at = _moment(allow_null=True)
    received_at = _moment()


class ExportConsentEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    address = serializers.CharField()
    kind = serializers.CharField(help_text="opt_out or opt_in")
    source = serializers.CharField()
    campaign_id = serializers.IntegerField(allow_null=True)
    campaign_name = serializers.CharField(allow_null=True)
    reason = serializers.CharField()
    reason_label = serializers.CharField()
    reason_text = serializers.CharField()
    raw_text = serializers.CharField()
    actor_type = serializers.CharField()
    actor_label = serializers.CharField()
    ip_address = serializers.CharField(allow_null=True)
    user_agent = serializers.CharField()
    wording_version = serializers.CharField()
    linked_event_id = serializers.IntegerField(allow_null=True)
    consent_method = serializers.CharField()
    consent_given_at = _moment(allow_null=True)
    consent_wording = serializers.CharField()
    consent_document = serializers.CharField(help_text="The stored proof's file name, if any")
    created_at = _moment()


class ExportSuppressionSerializer(serializers.Serializer):
    address = serializers.CharField()
    since = _moment()
    event_id = serializers.IntegerField()


class ExportOptinRequestSerializer(serializers.Serializer):
    address = serializers.CharField()
    channel = serializers.CharField()
    status = serializers.CharField()
    wording = serializers.CharField()
    created_at = _moment()
    expires_at = _moment()
    confirmed_at = _moment(allow_null=True)


class PersonExportSerializer(serializers.Serializer):
    format = serializers.CharField(help_text="person-export/1")
    exported_at = _moment()
    company = ExportCompanySerializer()
    contact = ExportContactSerializer()
    custom_values = ExportCustomValueSerializer(many=True)
    groups = ExportGroupSerializer(many=True)
    messages = ExportMessageSerializer(many=True)
    replies = ExportReplySerializer(many=True)
    consent_events = ExportConsentEventSerializer(many=True)
    suppressions = ExportSuppressionSerializer(many=True)
    optin_requests = ExportOptinRequestSerializer(many=True)


class ErasureSerializer(serializers.Serializer):
    contact_id = serializers.IntegerField()
    addresses = serializers.ListField(
        child=serializers.CharField(),
        help_text="What stands for the contact's phone and email in the rows that stay: "
        "erased: and a keyed hash",
    )
    messages = serializers.IntegerField(help_text="Messages whose text was blanked")
    replies = serializers.IntegerField(help_text="Replies whose text was blanked")
    consent_events = serializers.IntegerField(
        help_text="Consent events kept, with what the person wrote blanked"
    )
    suppressed = serializers.IntegerField(
        help_text="Addresses this erasure opted out (the others already were)"
    )


def _contact(company, pk: str) -> Contact:
    found = Contact.objects.filter(company=company, pk=int(pk)).select_related("company").first()
    if found is None:
        raise Http404("No such contact in this company.")
    return found


# --- the endpoints -----------------------------------------------------------------------
class ContactExport(CompanyAPIView):
    @extend_schema(
        summary="Everything held about a contact",
        description="For a person's request to see their data (GDPR articles 15 and 20): "
        "the contact, its custom values and groups, the messages sent to it (with their "
        "campaign), its replies, the consent events and opt-outs of its phone and email "
        "with their proof, and its double opt-in requests. Texts older than the company's "
        "retention are empty. The export is on the company's audit log.",
        responses={200: PersonExportSerializer, **errors(404)},
        tags=TAGS,
    )
    def get(self, request: Request, pk: str) -> Response:
        contact = _contact(self.company, pk)
        return Response(
            export_person(contact=contact, api_key_name=request.auth.name, ip=_ip(request))
        )


class ContactErase(CompanyAPIView):
    @extend_schema(
        summary="Erase a contact (GDPR)",
        description="For a person's request to be erased. The contact goes, with its custom "
        "values and groups; the texts of its messages and replies are blanked and its "
        "phone and email are replaced by a keyed hash where rows stay (messages still "
        "count in reports). Its phone and email stay opted out, with their consent "
        "events: an address that was still reachable is opted out now (source `api`), so "
        "a later import or upsert of it stays opted out. Cannot be undone. Send an "
        "`Idempotency-Key` header so that a retry gets the same answer.",
        request=None,
        responses={200: ErasureSerializer, **errors(404)},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        tags=TAGS,
    )
    @idempotent
    def post(self, request: Request, pk: str) -> Response:
        contact = _contact(self.company, pk)
        try:
            erasure = erase_person(
                contact=contact,
                source=Source.API,
                actor=Actor.api_key(request.auth),
                api_key_name=request.auth.name,
                ip=_ip(request),
            )
        except Contact.DoesNotExist:
            raise Http404("No such contact in this company.") from None
        return Response(ErasureSerializer(erasure.as_dict()).data)


def _ip(request: Request) -> str | None:
    return request.META.get("REMOTE_ADDR")


urlpatterns = [
    path("contacts/<id:pk>/export", ContactExport.as_view(), name="contact-export"),
    path("contacts/<id:pk>/erase", ContactErase.as_view(), name="contact-erase"),
]
