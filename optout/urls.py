from django.urls import path, register_converter

from . import settings_views, suppression_views, views
from .models import Gateway


class GatewayConverter:
    regex = "|".join(gateway for gateway in Gateway.values if gateway != Gateway.SIGNED)

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


app_name = "optout"

urlpatterns = [
    path("opt-outs/", suppression_views.suppressions, name="suppression-list"),
    path("opt-outs/export.csv", suppression_views.suppressions_export, name="suppression-export"),
    path("opt-outs/add/", suppression_views.suppressions_add, name="suppression-add"),
    path("opt-outs/upload/", suppression_views.suppressions_upload, name="suppression-upload"),
    path("opt-outs/<int:pk>/", suppression_views.suppression_detail, name="suppression-detail"),
    path(
        "opt-outs/<int:pk>/consent/",
        suppression_views.suppression_consent,
        name="suppression-consent",
    ),
    path(
        "opt-outs/<int:pk>/double-opt-in/",
        suppression_views.suppression_double_optin,
        name="suppression-double-optin",
    ),
    path("opt-outs/events/<int:pk>/", suppression_views.consent_event, name="consent-event"),
    path(
        "opt-outs/events/<int:pk>/document",
        suppression_views.consent_document,
        name="consent-document",
    ),
    path(
        "opt-outs/upload/<int:pk>/",
        suppression_views.suppressions_upload_detail,
        name="suppression-upload-detail",
    ),
    path(
        "opt-outs/upload/<int:pk>/resume/",
        suppression_views.suppressions_upload_resume,
        name="suppression-upload-resume",
    ),
    path(
        "opt-outs/upload/<int:pk>/rejected.csv",
        suppression_views.suppressions_upload_rejected,
        name="suppression-upload-rejected",
    ),
    path("replies/", views.replies, name="replies"),
    path("replies/<int:pk>/", views.reply_action, name="reply-action"),
    # The company's opt-out settings (owners): its own texts and leave reasons.
    path("company/settings/opt-out/", settings_views.optout_settings, name="settings"),
    path("company/settings/opt-out/texts/new/", settings_views.text_add, name="text-add"),
    path(
        "company/settings/opt-out/texts/preview/", settings_views.text_preview, name="text-preview"
    ),
    path("company/settings/opt-out/texts/<int:pk>/", settings_views.text_edit, name="text-edit"),
    path(
        "company/settings/opt-out/texts/<int:pk>/preview/",
        settings_views.text_preview,
        name="text-edit-preview",
    ),
    path(
        "company/settings/opt-out/texts/<int:pk>/remove/",
        settings_views.text_remove,
        name="text-remove",
    ),
    path("company/settings/opt-out/reasons/", settings_views.reason_add, name="reason-add"),
    path(
        "company/settings/opt-out/reasons/<int:pk>/",
        settings_views.reason_rename,
        name="reason-rename",
    ),
    path(
        "company/settings/opt-out/reasons/<int:pk>/move/",
        settings_views.reason_move,
        name="reason-move",
    ),
    path(
        "company/settings/opt-out/reasons/<int:pk>/remove/",
        settings_views.reason_remove,
        name="reason-remove",
    ),
]

# The real gateways' URLs come first: /hooks/sms/twilio/inbound/ names Twilio, never a
# company's key "twilio" (a key may not be a gateway's name).
register_converter(GatewayConverter, "gateway")

hook_patterns = [
    path("hooks/sms/<gateway:gateway>/inbound/", views.gateway_inbound_sms, name="gateway-inbound"),
    path(
        "hooks/sms/<gateway:gateway>/<slug:key>/inbound/",
        views.gateway_inbound_sms,
        name="gateway-inbound-company",
    ),
    path("hooks/sms/inbound/", views.inbound_sms, name="sms-inbound"),
    path("hooks/sms/<slug:key>/inbound/", views.inbound_sms, name="sms-inbound-company"),
]
