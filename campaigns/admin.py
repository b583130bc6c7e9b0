from django.contrib import admin, messages

from addressbook.tenancy import request_ip
from optout.admin import ReadOnlyAdmin

from .models import Campaign, CampaignChunk, EmailFeedback, Message, RateWindow, SentTally
from .services import cancel_campaign, override_send_hours, pause_campaign, resume_campaign


def _action(service, done: str):
    def action(modeladmin, request, queryset):
        changed = sum(service(campaign=campaign) for campaign in queryset)
        skipped = queryset.count() - changed
        modeladmin.message_user(request, f"{changed} campaign(s) {done}.", messages.SUCCESS)
        if skipped:
            modeladmin.message_user(
                request, f"{skipped} left alone: not in a state that allows it.", messages.WARNING
            )

    action.__name__ = service.__name__
    return action


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "company", "status", "sender", "scheduled_at", "finished_at"]
    list_filter = ["status", "company"]
    search_fields = ["name", "body"]
    list_select_related = ["company"]
    raw_id_fields = ["groups"]
    readonly_fields = [
        "status",
        "created_at",
        "started_at",
        "finished_at",
        "hours_overridden_at",
        "hours_overridden_by",
    ]
    actions = [
        admin.action(description="Pause sending")(_action(pause_campaign, "paused")),
        admin.action(description="Resume sending")(_action(resume_campaign, "resumed")),
        admin.action(description="Cancel sending")(_action(cancel_campaign, "cancelled")),
        "send_held_now",
    ]

    @admin.action(description="Send held messages now, outside sending hours")
    def send_held_now(self, request, queryset) -> None:
        ip = request_ip(request)
        changed = sum(
            override_send_hours(campaign=campaign, actor=request.user, ip=ip)
            for campaign in queryset
        )
        skipped = queryset.count() - changed
        if changed:
            self.message_user(
                request,
                f"{changed} campaign(s) now send their held messages whatever the "
                "recipients' hours; the campaign page says who decided it.",
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                f"{skipped} left alone: not sending or paused, or overridden already.",
                messages.WARNING,
            )


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
    list_display = ["campaign", "after_id", "upto_id", "leased_until", "done_at"]
    list_filter = ["campaign__company"]
    raw_id_fields = ["campaign"]
    readonly_fields = ["lease", "leased_until", "done_at"]


@admin.register(SentTally)
class SentTallyAdmin(ReadOnlyAdmin):
    """Counters kept by the hand-over; a change here would make the reports lie."""

    list_display = ["campaign", "hour", "country", "channel", "sent"]
    list_filter = ["channel", "company"]
    list_select_related = ["campaign"]


@admin.register(RateWindow)
class RateWindowAdmin(admin.ModelAdmin):
    list_display = ["key", "next_at"]
    readonly_fields = ["key", "next_at"]


@admin.register(EmailFeedback)
class EmailFeedbackAdmin(ReadOnlyAdmin):
    """What the email services reported: the record behind undeliverable addresses."""

    list_display = ["received_at", "kind", "address", "company", "esp", "campaign_id"]
    list_filter = ["kind", "esp", "company"]
    search_fields = ["address", "event_id"]
    list_select_related = ["company"]
    raw_id_fields = ["message"]
