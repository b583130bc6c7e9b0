from django.contrib import admin

from .models import (
    AuditEvent,
    Company,
    Contact,
    CustomField,
    Group,
    ImportJob,
    ImportRange,
    ImportRejection,
    Invitation,
    Membership,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "default_country", "timezone", "sms_per_second", "created_at"]
    search_fields = ["name", "slug"]
    list_filter = ["default_country"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "company", "role", "created_at"]
    list_filter = ["role", "company"]
    search_fields = ["user__username", "user__email", "company__name"]
    autocomplete_fields = ["user", "company"]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["__str__", "phone", "email", "country", "company", "created_at"]
    list_filter = ["company", "country"]
    filter_horizontal = ["groups"]
    raw_id_fields = ["last_import"]
    search_fields = ["phone", "email", "first_name", "last_name"]
    list_select_related = ["company"]
    autocomplete_fields = ["company"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ["name", "company", "created_at"]
    list_filter = ["company"]
    search_fields = ["name"]


@admin.register(CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "type", "company", "position"]
    list_filter = ["type", "company"]
    search_fields = ["name", "key"]


class ImportRejectionInline(admin.TabularInline):
    model = ImportRejection
    extra = 0
    can_delete = False
    readonly_fields = ["row", "reason", "values"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ImportRangeInline(admin.TabularInline):
    """How far each range of the file has come: a stalled one shows here."""

    model = ImportRange
    extra = 0
    can_delete = False
    fields = readonly_fields = ["number", "first_row", "last_row", "rows_done", "done_at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["filename", "company", "status", "rows_done", "created_at", "finished_at"]
    list_filter = ["status", "company"]
    search_fields = ["filename"]
    readonly_fields = ["rows_done", "counts", "heartbeat_at", "started_at", "finished_at"]
    inlines = [ImportRangeInline, ImportRejectionInline]


@admin.register(ImportRange)
class ImportRangeAdmin(admin.ModelAdmin):
    list_display = ["job", "number", "first_row", "last_row", "rows_done", "done_at"]
    search_fields = ["job__filename"]
    raw_id_fields = ["job"]
    readonly_fields = ["rows_done", "done_at"]


@admin.register(ImportRejection)
class ImportRejectionAdmin(admin.ModelAdmin):
    list_display = ["job", "row", "reason"]
    search_fields = ["reason"]
    raw_id_fields = ["job"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "company", "role", "created_at", "accepted_at", "revoked_at"]
    list_filter = ["role", "company"]
    search_fields = ["email", "company__name"]
    readonly_fields = ["invited_by", "created_at", "accepted_at", "accepted_by"]
    raw_id_fields = ["company"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit log is append-only: staff read it here, nobody edits or deletes it."""

    list_display = ["created_at", "company", "actor_name", "action", "target", "ip"]
    list_filter = ["action", "company"]
    search_fields = ["target", "actor_name", "company__name"]
    list_select_related = ["company"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
