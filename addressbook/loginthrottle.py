"""Failed log-ins: locked per account and, at a higher limit, per address (django-axes)."""

import math

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


class LoginThrottleHandler(AxesDatabaseHandler):
    """Axes' database handler with a limit of its own for the address.

    Axes compares one count with one limit (AXES_FAILURE_LIMIT, the account's). The
    address's count is expressed in units of that limit, so it reaches it exactly at
    LOGIN_FAILURES_PER_ADDRESS: many colleagues behind one office address may mistype,
    while one address trying passwords on many accounts is still stopped.
    """

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        recent = AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))
        by_account = _failures(recent.filter(username=get_client_username(request, credentials)))
        by_address = _failures(recent.filter(ip_address=request.axes_ip_address))
        scaled = by_address * settings.AXES_FAILURE_LIMIT / settings.LOGIN_FAILURES_PER_ADDRESS
        return max(by_account, math.floor(scaled))

    def reset_user_attempts(self, request: HttpRequest, credentials: dict | None = None) -> int:
        # A good password forgives that account's mistakes only: an attacker who owns one
        # account must not wipe the address's count by logging in to it now and then.
        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count


def attempted_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The username tried, cut to what axes stores: no account has a longer one."""
    if credentials is not None:
        username = credentials.get(settings.AXES_USERNAME_FORM_FIELD)
    else:
        username = request.POST.get(settings.AXES_USERNAME_FORM_FIELD)
    if username is None:
        return None
    return username[: AccessAttempt._meta.get_field("username").max_length]


def _failures(attempts: QuerySet[AccessAttempt]) -> int:
    return attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    minutes = math.ceil(get_cool_off(request).total_seconds() / 60)
    response = render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response
