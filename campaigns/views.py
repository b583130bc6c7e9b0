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
from addressbook.models import Membership
from addressbook.tenancy import company_required, get_for_company, request_ip
from optout.sendhours import judged_at

from .confirmation import send_confirmation
from .forms import CampaignForm, ScheduleForm, SendTestForm
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
    TEST_SENDS_PER_HOUR,
    CampaignError,
    RefusedTestSend,
    cancel_campaign,
    create_campaign,
    pause_campaign,
    record_campaign_action,
    refusal,
    remaining_test_sends,
    resume_campaign,
    schedule_campaign,
    send_campaign,
    send_test_messages,
    unschedule_campaign,
    update_campaign,
)

Status = Campaign.Status
EDITOR = "campaigns/campaign_form.html"
NOT_A_DRAFT = "Only a draft can be edited; cancel its schedule first."
ONLY_DRAFTS_TESTED = "Only a draft can be sent as a test."
CONFIRM_FIRST = "Nothing was sent: check who gets it below, then confirm."


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
    return _detail(request, campaign)


def _detail(
    request: HttpRequest, campaign: Campaign, *, test_form: SendTestForm | None = None, status=200
) -> HttpResponse:
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
    draft = campaign.status == Status.DRAFT
    testing = draft and request.membership.has_role(Membership.Role.MARKETER)
    context = {
        "campaign": campaign,
        "zone": request.company.timezone,
        "preview": audience_preview(campaign=campaign) if unsent else None,
        "held": held,
        "schedule_form": ScheduleForm(company=request.company) if draft else None,
        "test_form": (test_form or SendTestForm()) if testing else None,
        "tests_left": remaining_test_sends(campaign=campaign) if testing else None,
        "tests_per_hour": TEST_SENDS_PER_HOUR,
        "progress": progress,
        "report": report,
        "optouts": optouts[:50],
        "reasons": reasons,
        "messages_page": _messages_page(request, campaign, progress),
    }
    return render(request, "campaigns/campaign_detail.html", context, status=status)


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


@require_GET
@company_required(role=Membership.Role.MARKETER)
def campaign_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """The last look before sending now (or, with ``send_at``, scheduling): who gets it,
    who is skipped, the parts, and who waits for their sending hours. Plain GET and a
    form: it works without JavaScript."""
    campaign = get_for_company(Campaign.objects, request.company, pk=pk)
    return _confirmation(request, campaign, request.GET)


def _confirmation(
    request: HttpRequest, campaign: Campaign, data, *, error: str = "", status: int = 200
) -> HttpResponse:
    detail = redirect("campaigns:campaign-detail", pk=campaign.pk)
    schedule_form = at = None
    if "send_at" in data:
        schedule_form = ScheduleForm(data, company=request.company)
        if not schedule_form.is_valid():
            messages.error(request, f"Not scheduled: {schedule_form.errors['send_at'][0]}")
            return detail
        at = schedule_form.cleaned_data["send_at"]
        if at <= timezone.now():
            messages.error(request, "Not scheduled: Pick a time in the future.")
            return detail
    if campaign.status not in (Status.DRAFT, Status.SCHEDULED):
        messages.warning(request, _refused(campaign, "scheduled" if at else "sent now"))
        return detail
    context = {
        "campaign": campaign,
        "confirmation": send_confirmation(campaign=campaign, at=at or judged_at()),
        "schedule_form": schedule_form,
        "send_at": at,
        "zone": request.company.timezone,
        "error": error,
    }
    return render(request, "campaigns/campaign_confirm.html", context, status=status)


def _confirmed(request: HttpRequest) -> bool:
    # An old page's form, a script or a double-click on "Send now" has no confirm field:
    # only the confirmation page's button sends.
    return request.POST.get("confirm") == "yes"


@require_POST
@company_required
def campaign_send(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_for_company(Campaign.objects, request.company, pk=pk)
    if not _confirmed(request):
        return _confirmation(request, campaign, {}, error=CONFIRM_FIRST, status=400)
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
    if not _confirmed(request):
        return _confirmation(request, campaign, request.POST, error=CONFIRM_FIRST, status=400)
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
def campaign_test_send(request: HttpRequest, pk: int) -> HttpResponse:
    """The draft to a few addresses the marketer types, marked as a test."""
    campaign = get_for_company(Campaign.objects, request.company, pk=pk)
    if campaign.status != Status.DRAFT:  # its page offers no test: say why there
        messages.warning(request, ONLY_DRAFTS_TESTED)
        return redirect("campaigns:campaign-detail", pk=campaign.pk)
    form = SendTestForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            sent = send_test_messages(
                campaign=campaign,
                text=form.cleaned_data["to"],
                actor=request.user,
                ip=request_ip(request),
            )
        except RefusedTestSend as exc:
            form.add_error("to", str(exc))
            status = 429 if exc.rate_limited else 400
        else:
            _report_tests(request, sent)
            return redirect(reverse("campaigns:campaign-detail", args=[campaign.pk]) + "#test-send")
    return _detail(request, campaign, test_form=form, status=status)


def _report_tests(request: HttpRequest, sent: list[Message]) -> None:
    failed = [m for m in sent if m.status == Message.Status.FAILED]
    if done := [m.to for m in sent if m not in failed]:
        messages.success(request, f"Test sent to {', '.join(done)}.")
    for message in failed:
        messages.error(request, f"Test to {message.to} not sent: {message.error}")


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
