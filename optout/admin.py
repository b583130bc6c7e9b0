from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from .models import (
    ConsentEvent,
    CountryRule,
    DedicatedNumber,
    GatewayWebhook,
    InboundMessage,
    Keyword,
    LeaveReason,
    ReplyRoute,
    Suppression,
)
from .services import rotate_webhook_secrets


class ReadOnlyAdmin(admin.ModelAdmin):
    """The record is written by the services only; staff read it."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "address", "company", "source", "campaign_id", "reason"]
    list_filter = ["kind", "source", "reason", "company"]
    search_fields = ["address", "reason_text", "raw_text"]
    list_select_related = ["company"]
    date_hierarchy = "created_at"


@admin.register(Suppression)
class SuppressionAdmin(ReadOnlyAdmin):
    list_display = ["address", "company", "created_at", "event"]
    list_filter = ["company"]
    search_fields = ["address"]
    list_select_related = ["company", "event"]


@admin.register(CountryRule)
class CountryRuleAdmin(admin.ModelAdmin):
    list_display = ["country", "method", "shortcode", "template", "one_tap", "updated_at"]
    list_filter = ["method", "one_tap"]
    search_fields = ["country", "shortcode", "template"]


@admin.register(Keyword)
class KeywordAdmin(admin.ModelAdmin):
    list_display = ["word", "action", "language", "countries"]
    list_filter = ["action", "language"]
    search_fields = ["word"]

    # STOP, START and HELP always work: their rows can be neither removed nor changed.
    def has_delete_permission(self, request, obj=None) -> bool:
        return not (obj and obj.word in Keyword.PROTECTED)

    def get_readonly_fields(self, request, obj=None):
        return ["word", "action"] if obj and obj.word in Keyword.PROTECTED else []


@admin.register(DedicatedNumber)
class DedicatedNumberAdmin(admin.ModelAdmin):
    list_display = ["number", "company"]
    search_fields = ["number", "company__name"]
    autocomplete_fields = ["company"]


@admin.register(GatewayWebhook)
class GatewayWebhookAdmin(admin.ModelAdmin):
    """A company's own gateway account: staff give its URLs and secret to the gateway."""

    list_display = ["company", "key", "updated_at"]
    search_fields = ["company__name", "key"]
    autocomplete_fields = ["company"]
    fields = ["company", "key", "secret", "endpoints", "updated_at"]
    readonly_fields = ["endpoints", "updated_at"]
    actions = ["rotate_secrets"]

    @admin.display(description="URLs for the gateway")
    def endpoints(self, obj: GatewayWebhook) -> str:
        # The saved key: a form sent back with errors holds the refused one.
        key = GatewayWebhook.objects.filter(pk=obj.pk).values_list("key", flat=True).first()
        if key is None:
            return "Shown once saved."
        return format_html(
            "Inbound SMS: <code>{}</code><br>Delivery reports: <code>{}</code>",
            reverse("sms-inbound-company", args=[key]),
            reverse("sms-status-hook-company", args=[key]),
        )

    @admin.action(description="Generate new secrets (the gateway must be given them)")
    def rotate_secrets(self, request, queryset) -> None:
        count = rotate_webhook_secrets(webhooks=queryset)
        self.message_user(
            request,
            f"New secrets for {count} gateway webhook(s): requests signed with the old ones "
            "are refused from now on.",
            messages.SUCCESS,
        )


@admin.register(LeaveReason)
class LeaveReasonAdmin(admin.ModelAdmin):
    list_display = ["label", "company", "position"]
    list_filter = ["company"]
    search_fields = ["label"]


@admin.register(ReplyRoute)
class ReplyRouteAdmin(ReadOnlyAdmin):
    list_display = ["address", "shortcode", "company", "campaign_id", "sent_at"]
    list_filter = ["shortcode", "company"]
    search_fields = ["address"]


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "sender", "recipient", "text", "status", "company", "reference"]
    list_filter = ["status", "recipient", "company"]
    search_fields = ["sender", "sender_e164", "text"]
    list_select_related = ["company"]
