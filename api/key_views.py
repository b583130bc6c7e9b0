"""The company's API keys on the dashboard: list, create (the secret shown once), revoke.

Owners only: a key reads and changes everything of the company, so it is given out by
the people who run the company.
"""

from datetime import timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from addressbook.models import Membership
from addressbook.tenancy import company_required, get_for_company, request_ip

from .keys import NAME_MAX_LENGTH, ApiKeyError, api_keys_of, create_api_key, revoke_api_key
from .models import ApiKey

Role = Membership.Role
# The secret lives in the session only from the POST that made it to the page that
# shows it, which takes it out: a reload, or the back button, cannot show it again.
NEW_SECRET = "api_key_new_secret"
EXPIRIES = [
    ("", "Never"),
    ("7", "In 7 days"),
    ("30", "In 30 days"),
    ("90", "In 90 days"),
    ("365", "In a year"),
]


def _expiry(choice: str):
    if choice not in dict(EXPIRIES):
        raise ApiKeyError("Choose when the key expires from the list.")
    return timezone.now() + timedelta(days=int(choice)) if choice else None


@require_http_methods(["GET", "POST"])
@company_required(role=Role.OWNER)
def api_keys(request: HttpRequest) -> HttpResponse:
    error, status = "", 200
    if request.method == "POST":
        try:
            issued = create_api_key(
                company=request.company,
                name=request.POST.get("name", ""),
                created_by=request.user,
                expires_at=_expiry(request.POST.get("expires_in_days", "")),
                ip=request_ip(request),
            )
        except ApiKeyError as exc:
            error, status = str(exc), 400
        else:
            request.session[NEW_SECRET] = {"key": issued.key.pk, "secret": issued.secret}
            return redirect("integrations:api-key-created", pk=issued.key.pk)
    context = {
        "keys": api_keys_of(company=request.company),
        "expiries": EXPIRIES,
        "name_max_length": NAME_MAX_LENGTH,
        "error": error,
        "name": request.POST.get("name", ""),
        "chosen_expiry": request.POST.get("expires_in_days", ""),
    }
    return render(request, "api/keys.html", context, status=status)


@require_GET
@never_cache
@company_required(role=Role.OWNER)
def api_key_created(request: HttpRequest, pk: int) -> HttpResponse:
    key = get_for_company(ApiKey.objects.select_related("created_by"), request.company, pk=pk)
    new = request.session.get(NEW_SECRET) or {}
    secret = None
    if new.get("key") == key.pk:
        secret = request.session.pop(NEW_SECRET)["secret"]
    return render(request, "api/keys_created.html", {"key": key, "secret": secret})


@require_POST
@company_required(role=Role.OWNER)
def api_key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    key = get_for_company(ApiKey.objects, request.company, pk=pk)
    if revoke_api_key(key=key, revoked_by=request.user, ip=request_ip(request)):
        messages.success(request, f"The key “{key.name}” is revoked: it opens nothing any more.")
    else:
        messages.warning(request, f"The key “{key.name}” was already revoked.")
    return redirect("integrations:api-keys")
