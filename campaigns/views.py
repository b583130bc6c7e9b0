from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from addressbook.tenancy import company_required, get_for_company

from .forms import CampaignForm
from .models import Campaign, Message
from .selectors import audience_preview, campaign_optouts, campaign_stats, campaigns_of
from .services import create_campaign, send_campaign


@require_GET
@company_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    campaigns = campaigns_of(company=request.company)
    return render(request, "campaigns/campaign_list.html", {"campaigns": campaigns})


@require_http_methods(["GET", "POST"])
@company_required
def campaign_create(request: HttpRequest) -> HttpResponse:
    form = CampaignForm(request.POST or None, company=request.company)
    if request.method == "POST" and form.is_valid():
        campaign = create_campaign(
            company=request.company, created_by=request.user, **form.cleaned_data
        )
        return redirect("campaigns:campaign-detail", pk=campaign.pk)
    status = 400 if form.errors else 200
    return render(request, "campaigns/campaign_form.html", {"form": form}, status=status)


@require_GET
@company_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_for_company(Campaign.objects, request.company, pk=pk)
    optouts, reasons = campaign_optouts(campaign=campaign)
    context = {
        "campaign": campaign,
        "preview": audience_preview(campaign=campaign)
        if campaign.status == Campaign.Status.DRAFT
        else None,
        "stats": campaign_stats(campaign=campaign),
        "optouts": optouts[:50],
        "reasons": reasons,
        "messages_page": Paginator(campaign.messages.all(), 50).get_page(request.GET.get("page")),
    }
    template = "campaigns/campaign_detail.html"
    if request.htmx:
        template += "#progress"
    return render(request, template, context)


@require_POST
@company_required
def campaign_send(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_for_company(Campaign.objects, request.company, pk=pk)
    if send_campaign(campaign=campaign):
        messages.success(request, f"“{campaign}” is being sent.")
    else:
        messages.warning(request, f"“{campaign}” was already sent.")
    return redirect("campaigns:campaign-detail", pk=campaign.pk)


@require_GET
@company_required
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_for_company(Message.objects.select_related("campaign"), request.company, pk=pk)
    return render(request, "campaigns/message_detail.html", {"message": message})
