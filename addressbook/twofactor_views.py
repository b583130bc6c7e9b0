"""Log-in with an optional second step, and the page where a user sets that step up."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django_otp import login as otp_login

from .services.twofactor import (
    CodeRefused,
    confirm_two_factor,
    disable_two_factor,
    has_two_factor,
    pending_device,
    qr_code_svg,
    secret_for_typing,
    start_two_factor_setup,
    verify_two_factor,
)


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code from your app",
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class LoginView(auth_views.LoginView):
    """Django's log-in; a user with two-factor sign-in goes on to the code."""

    def form_valid(self, form):
        response = super().form_valid(form)
        if has_two_factor(user=form.get_user()):
            return redirect_to_login(self.get_success_url(), reverse("login-code"))
        return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = reverse(settings.LOGIN_REDIRECT_URL)
    if request.user.is_verified() or not has_two_factor(user=request.user):
        return redirect(next_url)
    form = CodeForm(request.POST or None)
    if form.is_valid():
        try:
            device = verify_two_factor(user=request.user, token=form.cleaned_data["code"])
        except CodeRefused as refused:
            form.add_error("code", str(refused))
        else:
            # A new session key for the fully signed-in session, as Django does at log-in.
            request.session.cycle_key()
            otp_login(request, device)
            return redirect(next_url)
    status = 400 if form.errors else 200
    return render(
        request, "registration/otp_verify.html", {"form": form, "next": next_url}, status=status
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = CodeForm(request.POST or None)
    action = request.POST.get("action")
    if action == "start":
        start_two_factor_setup(user=user)
        return redirect("two-factor")
    if action in ("confirm", "disable") and form.is_valid():
        try:
            if action == "confirm":
                device = confirm_two_factor(user=user, token=form.cleaned_data["code"])
                # This session has just proved the code: it stays signed in.
                otp_login(request, device)
                messages.success(request, "Two-factor sign-in is on.")
            else:
                disable_two_factor(user=user, token=form.cleaned_data["code"])
                messages.success(request, "Two-factor sign-in is off.")
        except CodeRefused as refused:
            form.add_error("code", str(refused))
        else:
            return redirect("two-factor")
    elif request.method == "POST" and action not in ("confirm", "disable"):
        return HttpResponse("Unknown action.", status=400, content_type="text/plain")
    enabled = has_two_factor(user=user)
    pending = None if enabled else pending_device(user=user)
    context = {
        "form": form,
        "enabled": enabled,
        "pending": pending,
        "secret": secret_for_typing(device=pending) if pending else "",
    }
    return render(
        request, "registration/otp_setup.html", context, status=400 if form.errors else 200
    )


@never_cache
@login_required
@require_GET
def two_factor_qr(request: HttpRequest) -> HttpResponse:
    """The QR code of the secret being set up, as an image (no data: URI, no script)."""
    device = pending_device(user=request.user)
    if device is None:
        return HttpResponse("No two-factor set-up in progress.", status=404)
    return HttpResponse(qr_code_svg(device=device), content_type="image/svg+xml")
