from django.contrib import admin

from .models import Campaign, CampaignChunk, Message


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "company", "status", "sender", "created_at", "finished_at"]
    list_filter = ["status", "company"]
    search_fields = ["name", "body"]
    list_select_related = ["company"]
    readonly_fields = ["status", "created_at", "started_at", "finished_at"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "to", "country", "status", "campaign", "company", "sent_at"]
    list_filter = ["kind", "status", "country", "company"]
    search_fields = ["to", "short_code", "gateway_reference"]
    list_select_related = ["campaign", "company"]
    raw_id_fields = ["campaign", "contact"]
    readonly_fields = ["created_at", "sent_at"]


@admin.register(CampaignChunk)
class CampaignChunkAdmin(admin.ModelAdmin):
    list_display = ["campaign", "after_id", "upto_id", "done_at"]
    list_filter = ["campaign__company"]
    raw_id_fields = ["campaign"]
