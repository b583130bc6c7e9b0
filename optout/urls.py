from django.urls import path

from . import views

app_name = "optout"

urlpatterns = [
    path("opt-outs/", views.suppressions, name="suppression-list"),
    path("replies/", views.replies, name="replies"),
    path("replies/<int:pk>/", views.reply_action, name="reply-action"),
]

hook_patterns = [
    path("hooks/sms/inbound/", views.inbound_sms, name="sms-inbound"),
    path("hooks/sms/<slug:key>/inbound/", views.inbound_sms, name="sms-inbound-company"),
]
