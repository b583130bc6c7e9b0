"""The dashboard's integration screens: the company's API keys and webhook endpoints."""

from django.urls import path  # noqa: F401  (the screens add their paths below)

from . import key_views

app_name = "integrations"

urlpatterns: list = [
    path("api-keys/", key_views.api_keys, name="api-keys"),
    path("api-keys/<int:pk>/created/", key_views.api_key_created, name="api-key-created"),
    path("api-keys/<int:pk>/revoke/", key_views.api_key_revoke, name="api-key-revoke"),
]
