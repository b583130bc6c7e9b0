from django.urls import path

from . import suppression_views, views

app_name = "optout"

urlpatterns = [
    path("opt-outs/", suppression_views.suppressions, name="suppression-list"),
    path("opt-outs/export.csv", suppression_views.suppressions_export, name="suppression-export"),
    path("opt-outs/add/", suppression_views.suppressions_add, name="suppression-add"),
    path("opt-outs/upload/", suppression_views.suppressions_upload, name="suppression-upload"),
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
]

hook_patterns = [
    path("hooks/sms/inbound/", views.inbound_sms, name="sms-inbound"),
    path("hooks/sms/<slug:key>/inbound/", views.inbound_sms, name="sms-inbound-company"),
]
