from django.contrib import admin

from .models import ConsentEvent, CountryRule, InboundMessage, Keyword, ReplyRoute, Suppression


class ReadOnlyAdmin(admin.ModelAdmin):
    """The record is written by the optout services only; staff read it."""

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
    list_display = ["country", "method", "shortcode", "template", "updated_at"]
    list_filter = ["method"]
    search_fields = ["country", "shortcode", "template"]


@admin.register(Keyword)
class KeywordAdmin(admin.ModelAdmin):
    list_display = ["word", "action", "language"]
    list_filter = ["action", "language"]
    search_fields = ["word"]


@admin.register(ReplyRoute)
class ReplyRouteAdmin(ReadOnlyAdmin):
    list_display = ["address", "shortcode", "company", "campaign_id", "sent_at"]
    list_filter = ["shortcode", "company"]
    search_fields = ["address"]


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "sender", "recipient", "text", "status", "company"]
    list_filter = ["status", "recipient", "company"]
    search_fields = ["sender", "sender_e164", "text"]
    list_select_related = ["company"]
