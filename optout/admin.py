from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from addressbook.csvfiles import FileProblem
from addressbook.services.audit import Action, record_audit
from addressbook.tenancy import request_ip

from .consent import Actor
from .forms import AssignReplyForm, CompanyAddOptoutsForm, CompanyUploadOptoutsForm
from .honour import honour_report
from .imports import UploadProblem, add_optouts, create_suppression_import, summary
from .models import (
    CompanyOptoutText,
    ConsentEvent,
    CountryRule,
    DedicatedNumber,
    Gateway,
    GatewayWebhook,
    InboundMessage,
    InboundPart,
    Keyword,
    LeaveReason,
    OptinRequest,
    ReplyRoute,
    Source,
    Suppression,
    SuppressionImport,
    SuppressionImportRejection,
)
from .services import (
    NotUndeliverable,
    apply_send_hours_change,
    process_inbound_sms,
    restore_deliverable,
    rotate_webhook_secrets,
)
from .suppression_views import rejected_rows_response


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
    list_display = [
        "created_at",
        "kind",
        "address",
        "company",
        "source",
        "actor_type",
        "campaign_id",
        "reason",
    ]
    list_filter = ["kind", "source", "actor_type", "reason", "company"]
    search_fields = ["address", "reason_text", "raw_text"]
    list_select_related = ["company"]
    date_hierarchy = "created_at"


@admin.register(Suppression)
class SuppressionAdmin(ReadOnlyAdmin):
    """Staff add opt-outs for a company through the service, never as bare rows: each is
    a consent event with source ``admin`` (an uploaded list: ``import``)."""

    list_display = ["address", "company", "reason", "country", "created_at", "event"]
    list_filter = ["reason", "company"]
    search_fields = ["address"]
    list_select_related = ["company", "event"]
    change_list_template = "admin/optout/suppression/change_list.html"
    actions = ["mark_deliverable"]

    def has_restore_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("optout.change_suppression")

    @admin.action(
        description="Mark deliverable again (the address was fixed)", permissions=["restore"]
    )
    def mark_deliverable(self, request: HttpRequest, queryset) -> None:
        """Lifts "undeliverable" through the service, on the record with the staff member
        as actor; opt-outs in the selection are left alone (only the person lifts those)."""
        restored = skipped = 0
        for suppression in queryset.select_related("company"):
            try:
                restore_deliverable(
                    company=suppression.company,
                    address=suppression.address,
                    actor=Actor.staff(request.user),
                )
            except NotUndeliverable:
                skipped += 1
            else:
                restored += 1
        self.message_user(request, f"{restored} marked deliverable again.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} left as they are: opted out, not undeliverable.",
                messages.WARNING,
            )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("add-optouts/", view(self.add_optouts), name="optout_suppression_add_optouts"),
            path("upload/", view(self.upload_list), name="optout_suppression_upload"),
            *super().get_urls(),
        ]

    def _form_page(self, request: HttpRequest, title: str, form, **context) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "form": form,
            **context,
        }
        status = 400 if request.method == "POST" and not context.get("outcomes") else 200
        return TemplateResponse(
            request, "admin/optout/suppression/form.html", context, status=status
        )

    def add_optouts(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("optout.add_suppression"):
            raise PermissionDenied
        form = CompanyAddOptoutsForm(request.POST or None)
        outcomes, error = None, ""
        if request.method == "POST" and form.is_valid():
            try:
                outcomes = add_optouts(
                    company=form.cleaned_data["company"],
                    text=form.cleaned_data["addresses"],
                    source=Source.ADMIN,
                    actor=request.user,
                    ip=request_ip(request),
                )
            except UploadProblem as exc:
                error = str(exc)
        counts = summary(outcomes) if outcomes else None
        return self._form_page(
            request,
            "Add opt-outs for a company",
            form,
            outcomes=outcomes,
            counts=counts,
            error=error,
        )

    def upload_list(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("optout.add_suppressionimport"):
            raise PermissionDenied
        form = CompanyUploadOptoutsForm(request.POST or None, request.FILES or None)
        error = ""
        if request.method == "POST" and form.is_valid():
            try:
                job = create_suppression_import(
                    company=form.cleaned_data["company"],
                    upload=form.cleaned_data["file"],
                    user=request.user,
                    ip=request_ip(request),
                )
            except (FileProblem, UploadProblem) as exc:
                error = str(exc)
            else:
                self.message_user(request, f"{job.filename} is being read.", messages.SUCCESS)
                return redirect("admin:optout_suppressionimport_change", job.pk)
        return self._form_page(
            request, "Upload an opt-out list for a company", form, error=error, multipart=True
        )


@admin.register(SuppressionImport)
class SuppressionImportAdmin(ReadOnlyAdmin):
    list_display = [
        "filename",
        "company",
        "status",
        "rows_done",
        "counts",
        "created_by",
        "created_at",
    ]
    list_filter = ["status", "company"]
    list_select_related = ["company", "created_by"]
    readonly_fields = ["rejected_rows"]

    def get_urls(self):
        return [
            path(
                "<int:pk>/rejected.csv",
                self.admin_site.admin_view(self.rejected_csv),
                name="optout_suppressionimport_rejected",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="Rejected rows")
    def rejected_rows(self, obj: SuppressionImport) -> str:
        if not obj.rejections.exists():
            return "None"
        url = reverse("admin:optout_suppressionimport_rejected", args=[obj.pk])
        return format_html('<a href="{}">Download (CSV, with the reason on each)</a>', url)

    def rejected_csv(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = self.get_object(request, pk)
        if job is None or not self.has_view_permission(request, job):
            raise PermissionDenied
        return rejected_rows_response(job)


class CountryRuleForm(forms.ModelForm):
    """The admin's form for a rule (its fields are the admin's)."""

    def clean_send_hours(self) -> dict:
        # A cleared box is "any time", as the help text says: the empty object, not NULL.
        return self.cleaned_data["send_hours"] or {}


@admin.register(CountryRule)
class CountryRuleAdmin(admin.ModelAdmin):
    form = CountryRuleForm
    list_display = ["country", "method", "shortcode", "template", "one_tap", "updated_at"]
    list_filter = ["method", "one_tap"]
    search_fields = ["country", "shortcode", "template"]
    # A rule's own hours, or which countries fall back on the default rule's.
    HOURS_FIELDS = {"country", "send_hours", "skip_public_holidays"}

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if not change or self.HOURS_FIELDS & set(form.changed_data):
            apply_send_hours_change()

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        apply_send_hours_change()

    def delete_queryset(self, request, queryset) -> None:
        super().delete_queryset(request, queryset)
        apply_send_hours_change()


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

    list_display = ["company", "gateway", "key", "updated_at"]
    list_filter = ["gateway"]
    search_fields = ["company__name", "key"]
    autocomplete_fields = ["company"]
    fields = [
        "company",
        "gateway",
        "key",
        "secret",
        "twilio_auth_token",
        "vonage_signature_secret",
        "vonage_signature_method",
        "endpoints",
        "updated_at",
    ]
    readonly_fields = ["endpoints", "updated_at"]
    actions = ["rotate_secrets"]

    @admin.display(description="URLs for the gateway")
    def endpoints(self, obj: GatewayWebhook) -> str:
        # The saved key and gateway: a form sent back with errors holds the refused ones.
        saved = GatewayWebhook.objects.filter(pk=obj.pk).values_list("key", "gateway").first()
        if saved is None:
            return "Shown once saved."
        key, gateway = saved
        if gateway == Gateway.SIGNED:
            inbound = reverse("sms-inbound-company", args=[key])
            status = reverse("sms-status-hook-company", args=[key])
        else:
            inbound = reverse("gateway-inbound-company", args=[gateway, key])
            status = reverse("gateway-status-company", args=[gateway, key])
        # CM signs nothing: the URLs it is given carry the account's secret.
        query = "?token=<secret>" if gateway == Gateway.CM else ""
        return format_html(
            "Inbound SMS: <code>{}{}</code><br>Delivery reports: <code>{}{}</code>",
            inbound,
            query,
            status,
            query,
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


@admin.register(SuppressionImportRejection)
class SuppressionImportRejectionAdmin(ReadOnlyAdmin):
    list_display = ["upload", "row", "reason"]
    list_select_related = ["upload"]
    search_fields = ["reason"]


@admin.register(InboundPart)
class InboundPartAdmin(ReadOnlyAdmin):
    """Parts of long replies: waiting for the rest, or joined into the reply they name."""

    list_display = ["received_at", "gateway", "sender", "concat_ref", "number", "total", "inbound"]
    list_filter = ["gateway"]
    search_fields = ["sender", "concat_ref", "part_id"]


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "sender", "recipient", "text", "status", "company", "reference"]
    list_filter = ["status", "recipient", "company"]
    search_fields = ["sender", "sender_e164", "text"]
    list_select_related = ["company"]
    actions = ["assign_to_company"]

    def has_assign_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("optout.change_inboundmessage")

    @admin.action(description="Assign to a company (replies no company was found for)",
                  permissions=["assign"])  # fmt: skip
    def assign_to_company(self, request: HttpRequest, queryset) -> HttpResponse | None:
        """Handle each chosen unattributed reply as a reply to the company staff name."""
        replies = queryset.filter(status=InboundMessage.Status.UNATTRIBUTED, company__isnull=True)
        if not replies.exists():
            self.message_user(
                request, "Only replies no company was found for can be assigned.", messages.WARNING
            )
            return None
        form = AssignReplyForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            self._assign(request, list(replies), form.cleaned_data["company"])
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Assign replies to a company",
            "form": form,
            "replies": replies,
            "action": "assign_to_company",
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
        }
        return TemplateResponse(request, "admin/optout/inboundmessage/assign.html", context)

    def _assign(self, request: HttpRequest, replies: list[InboundMessage], company) -> None:
        for reply in replies:
            done = process_inbound_sms(inbound=reply, assign_to=company)
            if done.company_id is None:
                self.message_user(
                    request,
                    f"The reply from “{done.sender}” was not assigned: its number cannot be read.",
                    messages.WARNING,
                )
                continue
            self.log_change(request, done, f"Assigned to {company}: {done.get_status_display()}")
            if done.status == InboundMessage.Status.OPTED_OUT:
                record_audit(
                    company=company,
                    action=Action.OPTOUT_RECORDED,
                    actor=request.user,
                    obj=done,
                    target=done.sender_e164,
                    details={"reply": done.text[:200], "assigned_by": "staff"},
                    ip=request_ip(request),
                )
            self.message_user(
                request,
                f"The reply from {done.sender_e164} is {company}'s: {done.get_status_display()}.",
                messages.SUCCESS,
            )

    # The honour deadline report: the replies whose opt-out took over a minute, and the
    # oldest STOP no company was found for. Linked from this changelist.
    def get_urls(self):
        report = self.admin_site.admin_view(self.honour_report_view)
        return [
            path("honour/", report, name="optout_inboundmessage_honour"),
            *super().get_urls(),
        ]

    def honour_report_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Honour deadline",
            "report": honour_report(page=request.GET.get("p")),
        }
        return TemplateResponse(request, "admin/optout/inboundmessage/honour.html", context)


@admin.register(CompanyOptoutText)
class CompanyOptoutTextAdmin(ReadOnlyAdmin):
    """Each company's owners write and check these on their opt-out settings page."""

    list_display = ["company", "country", "language", "template", "updated_at"]
    list_filter = ["company"]
    list_select_related = ["company"]


@admin.register(OptinRequest)
class OptinRequestAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "company", "address", "channel", "status", "confirmed_at"]
    list_filter = ["status", "channel", "company"]
    search_fields = ["address"]
    list_select_related = ["company"]
    exclude = ["token"]  # only the person may confirm
