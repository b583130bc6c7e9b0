"""The company's people: the team page, invitations, the audit log. Owners only."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.forms import BaseUserCreationForm
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .forms import CompanySettingsForm
from .models import AuditEvent, Company, Invitation, Membership
from .selectors import audit_events_of, members_of, open_invitations_of
from .services.company import update_company
from .services.team import (
    TeamError,
    accept_invitation,
    change_role,
    invite_member,
    join_with_new_account,
    read_invitation,
    remove_member,
    revoke_invitation,
)
from .tenancy import SESSION_KEY, company_required, get_for_company, request_ip

Role = Membership.Role


@require_http_methods(["GET", "POST"])
@company_required(role=Role.OWNER)
def team(request: HttpRequest) -> HttpResponse:
    error, status = "", 200
    if request.method == "POST":
        email = request.POST.get("email", "")
        try:
            invite_member(
                company=request.company,
                email=email,
                role=request.POST.get("role", ""),
                invited_by=request.user,
                base_url=request.build_absolute_uri("/"),
                ip=request_ip(request),
            )
        except TeamError as exc:
            error, status = str(exc), 400
        else:
            messages.success(request, f"Invitation sent to {email.strip()}.")
            return redirect("addressbook:team")
    context = {
        "members": members_of(company=request.company),
        "invitations": open_invitations_of(company=request.company),
        "roles": Role.choices,
        "error": error,
        "email": request.POST.get("email", ""),
        "chosen_role": request.POST.get("role", Role.MARKETER),
    }
    return render(request, "addressbook/team.html", context, status=status)


@require_POST
@company_required(role=Role.OWNER)
def member_role(request: HttpRequest, pk: int) -> HttpResponse:
    membership = get_for_company(Membership.objects.select_related("user"), request.company, pk=pk)
    try:
        membership = change_role(
            membership=membership,
            role=request.POST.get("role", ""),
            actor=request.user,
            ip=request_ip(request),
        )
    except TeamError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, f"{membership.user} is now {membership.get_role_display().lower()}."
        )
    return redirect("addressbook:team")


@require_POST
@company_required(role=Role.OWNER)
def member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    membership = get_for_company(Membership.objects.select_related("user"), request.company, pk=pk)
    try:
        remove_member(membership=membership, actor=request.user, ip=request_ip(request))
    except TeamError as exc:
        messages.error(request, str(exc))
        return redirect("addressbook:team")
    messages.success(request, f"{membership.user} is no longer a member of {request.company}.")
    if membership.user_id == request.user.pk:
        request.session.pop(SESSION_KEY, None)
        return redirect(settings.LOGIN_REDIRECT_URL)
    return redirect("addressbook:team")


@require_POST
@company_required(role=Role.OWNER)
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = get_for_company(Invitation.objects, request.company, pk=pk)
    if revoke_invitation(invitation=invitation, actor=request.user, ip=request_ip(request)):
        messages.success(request, f"The invitation to {invitation.email} is withdrawn.")
    else:
        messages.warning(request, f"The invitation to {invitation.email} was already used.")
    return redirect("addressbook:team")


class NewAccountForm(BaseUserCreationForm):
    """Username and password; the email address is the one the invitation went to."""


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the invitation email: open to anyone who holds it, once."""
    try:
        invitation = read_invitation(token=token)
    except TeamError as exc:
        return render(
            request, "addressbook/team_invitation.html", {"refusal": str(exc)}, status=410
        )
    form = None if request.user.is_authenticated else NewAccountForm(request.POST or None)
    if request.method == "POST":
        try:
            if form is None:
                accept_invitation(invitation=invitation, user=request.user, ip=request_ip(request))
            elif form.is_valid():
                user = join_with_new_account(
                    invitation=invitation,
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password1"],
                    ip=request_ip(request),
                )
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            else:
                return _invitation_page(request, invitation, form, status=400)
        except TeamError as exc:
            return _invitation_page(request, invitation, form, error=str(exc), status=400)
        request.session[SESSION_KEY] = invitation.company_id
        messages.success(request, f"Welcome to {invitation.company}.")
        return redirect(settings.LOGIN_REDIRECT_URL)
    return _invitation_page(request, invitation, form)


def _invitation_page(request, invitation, form, *, error: str = "", status: int = 200):
    context = {"invitation": invitation, "form": form, "error": error}
    return render(request, "addressbook/team_invitation.html", context, status=status)


@require_GET
@company_required(role=Role.OWNER)
def audit_log(request: HttpRequest) -> HttpResponse:
    action = request.GET.get("action", "")
    events = audit_events_of(company=request.company, action=action)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    context = {"page": page, "action": action, "actions": AuditEvent.Action.choices}
    return render(request, "addressbook/audit_log.html", context)


@require_http_methods(["GET", "POST"])
@company_required(role=Role.OWNER)
def company_settings(request: HttpRequest) -> HttpResponse:
    # The form works on a copy, so a refused value never shows up as the company's name.
    company = Company.objects.get(pk=request.company.pk)
    form = CompanySettingsForm(request.POST or None, instance=company)
    if request.method == "POST" and form.is_valid():
        changed = update_company(
            company=request.company, actor=request.user, ip=request_ip(request), **form.cleaned_data
        )
        messages.success(request, "Settings saved." if changed else "Nothing changed.")
        return redirect("addressbook:company-settings")
    status = 400 if form.errors else 200
    return render(request, "addressbook/company_settings.html", {"form": form}, status=status)
