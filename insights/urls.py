from django.urls import path

from . import certificate_views, history_views, home_views, views

app_name = "insights"

urlpatterns = [
    path("", home_views.home, name="home"),
    path("insights/", views.insights, name="insights"),
    path("contacts/<int:pk>/history/", history_views.contact_history, name="contact-history"),
    path(
        "consent/certificate/",
        certificate_views.consent_certificate,
        name="consent-certificate",
    ),
]
