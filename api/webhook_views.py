"""The company's webhook endpoints on the dashboard: owners manage them, members read.

Every member may see which systems hear of the company's opt-outs and how that goes (the
delivery log); only owners add, change, rotate, test, enable or remove an endpoint, and
only they see its signing secret.
"""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from addressbook.models import Membership
from addressbook.tenancy import company_required, get_for_company, request_ip

from .models import WebhookEndpoint
from .webhooks import (
    WebhookError,
    create_endpoint,
    delete_endpoint,
    deliveries_of,
    enable_endpoint,
    endpoints_of,
    rotate_secret,
    send_test_event,
    update_endpoint,
)

Role = Membership.Role
DELIVERIES_PER_PAGE = 20


class EndpointForm(forms.Form):
    url = forms.URLField(
        label="URL",
        max_length=500,
        assume_scheme="https",
        # A text box (the dashboard's style), with a phone's URL keyboard.
        widget=forms.TextInput(attrs={"inputmode": "url", "spellcheck": "false"}),
        help_text="An HTTPS URL of your own systems, such as https://crm.example.com/hooks/optout.",
    )
    description = forms.CharField(
        max_length=200, required=False, help_text="What listens there, such as “CRM sync”."
    )
    sends_opt_outs = forms.BooleanField(required=False, initial=True, label="Opt-outs")
    sends_opt_ins = forms.BooleanField(required=False, initial=True, label="Opt-ins")


def _endpoint(request: HttpRequest, pk: int) -> WebhookEndpoint:
    return get_for_company(WebhookEndpoint.objects, request.company, pk=pk)


def _is_owner(request: HttpRequest) -> bool:
    return request.membership.has_role(Role.OWNER)


@require_http_methods(["GET", "POST"])
@company_required(writes=Role.OWNER)
def webhooks(request: HttpRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                endpoint = create_endpoint(
                    company=request.company,
                    created_by=request.user,
                    ip=request_ip(request),
                    **form.cleaned_data,
                )
            except WebhookError as exc:
                form.add_error(exc.field, str(exc))
            else:
                messages.success(
                    request,
                    "Endpoint added. Check each request's signature with the secret below.",
                )
                return redirect("integrations:webhook-detail", pk=endpoint.pk)
        status = 400
    context = {
        "endpoints": endpoints_of(company=request.company),
        "form": form,
        "can_manage": _is_owner(request),
    }
    return render(request, "api/webhooks.html", context, status=status)


@require_http_methods(["GET", "POST"])
@never_cache
@company_required(writes=Role.OWNER)
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "sends_opt_outs": endpoint.sends_opt_outs,
        "sends_opt_ins": endpoint.sends_opt_ins,
    }
    form = EndpointForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                update_endpoint(
                    endpoint=endpoint,
                    actor=request.user,
                    ip=request_ip(request),
                    **form.cleaned_data,
                )
            except WebhookError as exc:
                form.add_error(exc.field, str(exc))
            else:
                messages.success(request, "Endpoint saved.")
                return redirect("integrations:webhook-detail", pk=endpoint.pk)
        status = 400
        endpoint.refresh_from_db()
    page = Paginator(deliveries_of(endpoint=endpoint), DELIVERIES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {"endpoint": endpoint, "form": form, "page": page, "can_manage": _is_owner(request)}
    if request.htmx and request.method == "GET":
        return render(request, "api/webhooks_detail.html#log", context)
    return render(request, "api/webhooks_detail.html", context, status=status)


@require_POST
@company_required(role=Role.OWNER)
def webhook_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = rotate_secret(
        endpoint=_endpoint(request, pk), actor=request.user, ip=request_ip(request)
    )
    messages.success(
        request,
        f"New secret. The old one also signs until "
        f"{endpoint.previous_secret_until:%-d %b %Y %H:%M} UTC, so your systems can switch.",
    )
    return redirect("integrations:webhook-detail", pk=endpoint.pk)


@require_POST
@company_required(role=Role.OWNER)
def webhook_enable(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = enable_endpoint(
        endpoint=_endpoint(request, pk), actor=request.user, ip=request_ip(request)
    )
    messages.success(request, "Endpoint enabled: what was waiting for it is being sent.")
    return redirect("integrations:webhook-detail", pk=endpoint.pk)


@require_POST
@company_required(role=Role.OWNER)
def webhook_test(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    try:
        send_test_event(endpoint=endpoint, actor=request.user)
    except WebhookError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Test event queued: it shows in the log below once sent.")
    return redirect("integrations:webhook-detail", pk=endpoint.pk)


@require_POST
@company_required(role=Role.OWNER)
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    delete_endpoint(endpoint=endpoint, actor=request.user, ip=request_ip(request))
    messages.success(request, f"Endpoint {endpoint.url} removed: it hears of nothing any more.")
    return redirect("integrations:webhooks")
