"""The dashboard's integration screens: the company's API keys and webhook endpoints."""

from django.urls import path  # noqa: F401  (the screens add their paths below)

app_name = "integrations"

urlpatterns: list = []
