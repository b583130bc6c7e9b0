from django.contrib import admin, messages
from django.db import models

from optout.admin import ReadOnlyAdmin

from .keys import revoke_api_key
from .models import ApiKey, IdempotentRequest, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .webhooks import enable_endpoint


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are created where their secret can be shown once: the dashboard or
    ``manage.py create_api_key``. Staff may rename, limit, expire or revoke one."""

    list_display = ["name", "prefix", "company", "created_at", "last_used_at", "expires_at"]
    list_filter = ["company"]
    search_fields = ["name", "prefix"]
    list_select_related = ["company"]
    fields = ["company", "name", "prefix", "created_by", "created_at", "last_used_at",
              "expires_at", "revoked_at", "rate_limit"]  # fmt: skip
    readonly_fields = ["company", "prefix", "created_by", "created_at", "last_used_at",
                       "revoked_at"]  # fmt: skip
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request, queryset) -> None:
        revoked = sum(revoke_api_key(key=key, revoked_by=request.user) for key in queryset)
        self.message_user(request, f"{revoked} key(s) revoked.", messages.SUCCESS)


@admin.register(IdempotentRequest)
class IdempotentRequestAdmin(ReadOnlyAdmin):
    list_display = ["key", "company", "status_code", "created_at"]
    list_filter = ["company"]
    search_fields = ["key"]
    list_select_related = ["company"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ["url", "company", "active", "consecutive_failures", "disabled_reason"]
    list_filter = ["active", "company"]
    search_fields = ["url", "description"]
    list_select_related = ["company"]
    # The secrets stay with the company's owners.
    exclude = ["secret", "previous_secret"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    actions = ["enable"]

    @admin.action(description="Re-enable the selected endpoints")
    def enable(self, request, queryset) -> None:
        for endpoint in queryset:
            enable_endpoint(endpoint=endpoint, actor=request.user)
        self.message_user(request, "Endpoints enabled.", messages.SUCCESS)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "endpoint", "status", "attempts", "last_status_code"]
    list_filter = ["status", "kind", "company"]
    search_fields = ["endpoint__url"]
    list_select_related = ["endpoint"]
    date_hierarchy = "created_at"


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "delivery", "number", "status_code", "latency_ms", "error"]
    search_fields = ["error"]
    list_select_related = ["delivery__endpoint"]
