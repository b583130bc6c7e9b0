from django.urls import path

from . import certificate_views, home_views, views

app_name = "insights"

urlpatterns = [
    path("", home_views.home, name="home"),
    path("insights/", views.insights, name="insights"),
    path(
        "consent/certificate/",
        certificate_views.consent_certificate,
        name="consent-certificate",
    ),
]
