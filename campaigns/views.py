from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, HttpResponseClientRefresh

from addressbook.charts import chart_csv
from addressbook.tenancy import company_required, get_for_company

from .forms import CampaignForm, ScheduleForm
from .held import held_before_send, held_in_campaign, held_in_draft
from .models import Campaign, Message
from .overview import list_figures
from .reports import REPORT_CSV, CampaignReport, campaign_report, report_csv
from .segments import replace_lookalikes
from .selectors import (
    CampaignProgress,
    audience_preview,
    campaign_optouts,
    campaign_progress,
    campaigns_of,
    draft_preview,
    message_link,
)
from .services import (
    CampaignError,
    cancel_campaign,
    create_campaign,
    pause_campaign,
    record_campaign_action,
    refusal,
    resume_campaign,
    schedule_campaign,
    send_campaign,
    unschedule_campaign,
    update_campaign,
)

Status = Campaign.Status
EDITOR = "campaigns/campaign_form.html"
NOT_A_DRAFT = "Only a draft can be edited; cancel its schedule first."


@require_GET
@company_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(campaigns_of(company=request.company), 50).get_page(request.GET.get("page"))
    figures = list_figures(company=request.company, campaigns=list(page))
    rows = [(campaign, figures[campaign.pk]) for campaign in page]
    return render(request, "campaigns/campaign_list.html", {"page": page, "rows": rows})


@require_http_methods(["GET", "POST"])
@company_required
def campaign_create(request: HttpRequest) -> HttpResponse:
    form = CampaignForm(request.POST or None, company=request.company)
    if request.method == "POST" and form.is_valid():
        campaign = create_campaign(
            company=request.company, created_by=request.user, **form.campaign_fields()
        )
        messages.success(request, f"“{campaign}” is saved as a draft.")
        return redirect("campaigns:campaign-detail", pk=campaign.pk)
    return _editor(request, form, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@company_required
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_for_company(Campaign.objects, request.company, pk=pk)
    if campaign.status != Status.DRAFT:
        messages.warning(request, NOT_A_DRAFT)
        return redirect("campaigns:campaign-detail", pk=campaign.pk)
    form = CampaignForm(request.POST or None, company=request.company, campaign=campaign)
    if request.method == "POST" and form.is_valid():
        try:
            update_campaign(campaign=campaign, **form.campaign_fields())
        except CampaignError as exc:  # sent or scheduled from another tab meanwhile
            messages.warning(request, str(exc))
        else:
            messages.success(request, f"“{campaign}” is saved.")
        return redirect("campaigns:campaign-detail", pk=campaign.pk)
    return _editor(request, form, status=400 if form.errors else 200)


@require_POST
@company_required
def campaign_preview(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """The editor's live panel for what is typed so far; without JavaScript, the editor
    page again with it. ``replace_lookalikes`` swaps characters that force UCS-2."""
    campaign = None
    if pk is not None:
        campaign = get_for_company(Campaign.objects, request.company, pk=pk)
        if campaign.status != Status.DRAFT:
            messages.warning(request, NOT_A_DRAFT)
            detail = reverse("campaigns:campaign-detail", args=[campaign.pk])
            return HttpResponseClientRedirect(detail) if request.htmx else redirect(detail)
    data = request.POST.copy()
    replaced = bool(data.get("replace_lookalikes"))
    if replaced:
        data["body"] = replace_lookalikes(data.get("body", ""))
    form = CampaignForm(data, company=request.company, campaign=campaign)
    form.is_valid()
    if request.htmx:
        return _editor(request, form, partial="preview", replaced=replaced)
    return _editor(request, form)


def _editor(
    request: HttpRequest, form: CampaignForm, *, partial: str = "", status: int = 200, **extra
) -> HttpResponse:
    campaign = form.campaign
    if campaign is None:
        save_url = reverse("campaigns:campaign-create")
        preview_url = reverse("campaigns:campaign-preview")
    else:
        save_url = reverse("campaigns:campaign-edit", args=[campaign.pk])
        preview_url = reverse("campaigns:campaign-edit-preview", args=[campaign.pk])
    fields = form.preview_fields()
    context = {
        "form": form,
        "campaign": campaign,
        "preview": draft_preview(company=request.company, **fields),
        "held": held_in_draft(
            company=request.company,
            channel=fields["channel"],
            group_ids=fields["group_ids"],
            countries=fields["countries"],
            field_conditions=fields["field_conditions"],
        ),
        "live_errors": form.live_errors() if form.is_bound else [],
        "save_url": save_url,
        "preview_url": preview_url,
        **extra,
    }
    template = f"{EDITOR}#{partial}" if partial else EDITOR
    return render(request, template, context, status=status)


@require_GET
@company_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_for_company(Campaign.objects, request.company, pk=pk)
    if request.htmx:
        # The progress poll: when the status moved on (finished, or paused in another
        # tab), the page's actions are out of date too.
        shown = request.GET.get("shown")
        if shown and shown != campaign.status:
            return HttpResponseClientRefresh()
        if request.GET.get("part") == "held":
            context = {"campaign": campaign, "held": held_in_campaign(campaign=campaign)}
            return render(request, "campaigns/campaign_detail.html#held", context)
        context = {"campaign": campaign, "progress": campaign_progress(campaign=campaign)}
        return render(request, "campaigns/campaign_detail.html#progress", context)
    optouts, reasons = campaign_optouts(campaign=campaign)
    unsent = campaign.status in (Status.DRAFT, Status.SCHEDULED)
    progress = report = held = None
    if unsent:
        held = held_before_send(campaign=campaign)
    else:
        progress = campaign_progress(campaign=campaign)
        if campaign.status in (Status.SENDING, Status.PAUSED):
            held = held_in_campaign(campaign=campaign)
        report = campaign_report(campaign=campaign, progress=progress, reasons=reasons)
    if "csv" in request.GET:
        return _report_download(campaign, report, request.GET["csv"])
    context = {
        "campaign": campaign,
        "zone": request.company.timezone,
        "preview": audience_preview(campaign=campaign) if unsent else None,
        "held": held,
        "schedule_form": ScheduleForm(company=request.company)
        if campaign.status == Status.DRAFT
        else None,
        "progress": progress,
        "report": report,
        "optouts": optouts[:50],
        "reasons": reasons,
        "messages_page": _messages_page(request, campaign, progress),
    }
    return render(request, "campaigns/campaign_detail.html", context)


def _messages_page(request: HttpRequest, campaign: Campaign, progress: CampaignProgress | None):
    paginator = Paginator(campaign.messages.filter(company=request.company), 50)
    if progress is not None:
        # Counted already: counting a million messages again would double the page's time.
        paginator.count = progress.stats.recipients
    return paginator.get_page(request.GET.get("page"))


def _report_download(campaign: Campaign, report: CampaignReport | None, wanted: str):
    """``?csv=report``: the whole report in one file; ``?csv=<chart id>``: one chart's."""
    if report is not None and wanted == REPORT_CSV:
        response = StreamingHttpResponse(report_csv(report), content_type="text/csv; charset=utf-8")
        name = f"campaign-{campaign.pk}-report.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    chart = report.chart(wanted) if report else None
    if chart is None:
        raise Http404("This campaign has no such report.")
    return chart_csv(chart, filename=f"campaign-{campaign.pk}-{chart.id}.csv")


@require_POST
@company_required
def campaign_send(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_for_company(Campaign.objects, request.company, pk=pk)
    if send_campaign(campaign=campaign):
        _audit(request, send_campaign, campaign)
        messages.success(request, f"“{campaign}” is being sent.")
    else:
        messages.warning(request, _refused(campaign, "sent now"))
    return redirect("campaigns:campaign-detail", pk=campaign.pk)


@require_POST
@company_required
def campaign_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_for_company(Campaign.objects, request.company, pk=pk)
    form = ScheduleForm(request.POST, company=request.company)
    if not form.is_valid():
        messages.error(request, f"Not scheduled: {form.errors['send_at'][0]}")
        return redirect("campaigns:campaign-detail", pk=campaign.pk)
    at = form.cleaned_data["send_at"]
    try:
        scheduled = schedule_campaign(campaign=campaign, at=at)
    except CampaignError as exc:
        messages.error(request, f"Not scheduled: {exc}")
    else:
        if scheduled:
            local = format_date(timezone.localtime(at, form.zone), "j M Y, H:i")
            _audit(request, schedule_campaign, campaign, send_at=at.isoformat())
            messages.success(
                request, f"“{campaign}” will be sent on {local} ({request.company.timezone})."
            )
        else:
            messages.warning(request, _refused(campaign, "scheduled"))
    return redirect("campaigns:campaign-detail", pk=campaign.pk)


@require_POST
@company_required
def campaign_unschedule(request: HttpRequest, pk: int) -> HttpResponse:
    return _transition(
        request,
        pk,
        unschedule_campaign,
        done="“{}” is a draft again: it is sent only when you send or schedule it.",
        refused="unscheduled",
    )


@require_POST
@company_required
def campaign_pause(request: HttpRequest, pk: int) -> HttpResponse:
    return _transition(
        request,
        pk,
        pause_campaign,
        done="“{}” is paused: nothing more is handed to the gateway until you resume it.",
        refused="paused",
    )


@require_POST
@company_required
def campaign_resume(request: HttpRequest, pk: int) -> HttpResponse:
    return _transition(
        request, pk, resume_campaign, done="“{}” is sending again.", refused="resumed"
    )


@require_POST
@company_required
def campaign_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _transition(
        request,
        pk,
        cancel_campaign,
        done="“{}” is cancelled: messages not yet handed to the gateway will not be sent.",
        refused="cancelled",
    )


def _transition(request: HttpRequest, pk: int, service, *, done: str, refused: str):
    campaign = get_for_company(Campaign.objects, request.company, pk=pk)
    if service(campaign=campaign):
        _audit(request, service, campaign)
        messages.success(request, done.format(campaign))
    else:
        messages.warning(request, _refused(campaign, refused))
    return redirect("campaigns:campaign-detail", pk=campaign.pk)


def _audit(request: HttpRequest, service, campaign: Campaign, **details) -> None:
    record_campaign_action(
        campaign=campaign,
        service=service,
        actor=request.user,
        ip=request.META.get("REMOTE_ADDR"),
        **details,
    )


def _refused(campaign: Campaign, what: str) -> str:
    return refusal(campaign=campaign, what=what)


@require_GET
@company_required
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_for_company(Message.objects.select_related("campaign"), request.company, pk=pk)
    context = {"message": message, "link": message_link(message)}
    return render(request, "campaigns/message_detail.html", context)
