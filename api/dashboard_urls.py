"""The dashboard's integration screens: the company's API keys and webhook endpoints."""

from django.urls import path

from . import key_views, webhook_views

app_name = "integrations"

urlpatterns: list = [
    path("api-keys/", key_views.api_keys, name="api-keys"),
    path("api-keys/<int:pk>/created/", key_views.api_key_created, name="api-key-created"),
    path("api-keys/<int:pk>/revoke/", key_views.api_key_revoke, name="api-key-revoke"),
    path("webhooks/", webhook_views.webhooks, name="webhooks"),
    path("webhooks/<int:pk>/", webhook_views.webhook_detail, name="webhook-detail"),
    path("webhooks/<int:pk>/rotate/", webhook_views.webhook_rotate, name="webhook-rotate"),
    path("webhooks/<int:pk>/enable/", webhook_views.webhook_enable, name="webhook-enable"),
    path("webhooks/<int:pk>/test/", webhook_views.webhook_test, name="webhook-test"),
    path("webhooks/<int:pk>/delete/", webhook_views.webhook_delete, name="webhook-delete"),
]
