from django.urls import path

from . import views

app_name = "optout"

urlpatterns = [
    path("opt-outs/", views.suppressions, name="suppression-list"),
]

hook_patterns = [
    path("hooks/sms/inbound/", views.inbound_sms, name="sms-inbound"),
]
