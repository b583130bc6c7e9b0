"""The public pages behind recipients' links: no login, no cookies needed, no JavaScript."""

from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from addressbook.addresses import country_of, mask_phone
from campaigns.models import Message
from campaigns.selectors import message_for_short_code, message_for_unsubscribe_token
from optout.consent import Seen
from optout.doubleoptin import (
    OptinClosed,
    confirm_double_optin,
    is_open,
    masked,
    optin_request_for_token,
)
from optout.languages import language_for, supported
from optout.models import ConsentEvent, OptinRequest
from optout.selectors import is_one_tap, leave_reasons

from .forms import LeaveForm
from .ratelimit import client_ip, over_limit
from .services import (
    POSTS_PER_IP_WINDOW_SECONDS,
    NotANumber,
    WrongNumber,
    leave_by_link,
    optin_for_token,
    optout_for_token,
    resubscribed_token,
    undo_optout,
    undo_token,
    unsubscribe_email,
    wording_version,
)

WRONG_NUMBER = gettext_noop(
    "That is not the number this message was sent to. Check it and try again."
)


def _render(request, template, context, *, language: str, status: int = 200) -> HttpResponse:
    with translation.override(language):
        context = {
            **context,
            "language": language,
            "languages": settings.LANGUAGES,
            "path": request.path,
        }
        response = render(request, template, context, status=status)
    response["Content-Language"] = language
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def _chosen(request: HttpRequest) -> str:
    return supported(request.GET.get("lang", "") or request.POST.get("lang", ""))


def _with_lang(url: str, chosen: str) -> str:
    return f"{url}?lang={chosen}" if chosen else url


def _unknown(request: HttpRequest) -> HttpResponse:
    language = language_for(request=request, chosen=_chosen(request))
    return _render(request, "shorturl/unknown.html", {}, language=language, status=404)


def _too_many(request: HttpRequest, language: str) -> HttpResponse:
    return _render(request, "shorturl/too_many.html", {}, language=language, status=429)


def _back_to_landing(message: Message, chosen: str) -> HttpResponse:
    return redirect(_with_lang(reverse("shorturl:landing", args=[message.short_code]), chosen))


def _for_message(view):
    """Resolve the link's code to its message, and the language to speak, or say the link
    does not work (in the browser's language)."""

    @wraps(view)
    def wrapper(request: HttpRequest, code: str) -> HttpResponse:
        message = message_for_short_code(code)
        if message is None:
            return _unknown(request)
        chosen = _chosen(request)
        language = language_for(country=message.country, request=request, chosen=chosen)
        return view(request, message, chosen=chosen, language=language)

    return wrapper


def _seen(request: HttpRequest, page: str, language: str) -> Seen:
    """Where the person acted from, and the version of the page they read."""
    return Seen.from_request(request, wording_version=wording_version(page, language))


def _ip_over_limit(request: HttpRequest) -> bool:
    key = f"ip:{client_ip(request)}"
    return over_limit(key, limit=settings.LANDING_POSTS_PER_IP, window=POSTS_PER_IP_WINDOW_SECONDS)


# No CSRF token: in-app browsers of messaging apps often drop cookies, and a person must
# always be able to leave. Typing the number the message went to is the check.
@csrf_exempt
@require_http_methods(["GET", "POST"])
@_for_message
def landing(request: HttpRequest, message: Message, *, chosen: str, language: str) -> HttpResponse:
    code = message.short_code
    one_tap = is_one_tap(message.country)
    with translation.override(language):
        form = LeaveForm(
            request.POST if request.method == "POST" else None,
            reasons=leave_reasons(company=message.company),
            one_tap=one_tap,
        )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                left = leave_by_link(
                    message=message,
                    typed_phone=None if one_tap else data["phone"],
                    reason=data["reason"],
                    reason_text=data["reason_text"],
                    client_ip=client_ip(request),
                    seen=_seen(request, "landing", language),
                )
            except NotANumber:
                with translation.override(language):
                    form.add_error("phone", _("That doesn't look like a phone number."))
            except WrongNumber:
                with translation.override(language):
                    form.add_error("phone", _(WRONG_NUMBER))
            else:
                if left.neutral:
                    context = {"message": message}
                    return _render(request, "shorturl/if_yours.html", context, language=language)
                done = reverse("shorturl:done", args=[code])
                query = f"?t={undo_token(left.event)}" + (f"&lang={chosen}" if chosen else "")
                return redirect(done + query)
        status = 400
    context = {
        "message": message,
        "masked": mask_phone(message.to),
        "last_digits": message.to[-4:],
        "form": form,
        "one_tap": one_tap,
        "chosen": chosen,
    }
    return _render(request, "shorturl/landing.html", context, language=language, status=status)


@require_GET
@_for_message
def done(request: HttpRequest, message: Message, *, chosen: str, language: str) -> HttpResponse:
    token = request.GET.get("t", "")
    if optout_for_token(message=message, token=token) is None:
        # Anyone may type this address: without the link's own opt-out it confirms
        # nothing, and the landing page tells no more than the link already does.
        return _back_to_landing(message, chosen)
    context = {"message": message, "token": token, "chosen": chosen}
    return _render(request, "shorturl/done.html", context, language=language)


@csrf_exempt
@require_POST
@_for_message
def undo(request: HttpRequest, message: Message, *, chosen: str, language: str) -> HttpResponse:
    if _ip_over_limit(request):
        return _too_many(request, language)
    try:
        event = undo_optout(
            message=message,
            token=request.POST.get("t", ""),
            seen=_seen(request, "undo", language),
        )
    except ConsentEvent.DoesNotExist:
        context = {"message": message, "chosen": chosen}
        return _render(
            request, "shorturl/undo_expired.html", context, language=language, status=400
        )
    back = reverse("shorturl:resubscribed", args=[message.short_code])
    query = f"?t={resubscribed_token(event)}" + (f"&lang={chosen}" if chosen else "")
    return redirect(back + query)


@require_GET
@_for_message
def resubscribed(
    request: HttpRequest, message: Message, *, chosen: str, language: str
) -> HttpResponse:
    token = request.GET.get("t", "")
    if optin_for_token(message=message, token=token) is None:
        return _back_to_landing(message, chosen)
    context = {"message": message, "token": token}
    return _render(request, "shorturl/resubscribed.html", context, language=language)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def email_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """RFC 8058: a POST (no cookies, no login, no CSRF token) unsubscribes and answers 200,
    never a redirect; a GET only shows the page, because link scanners prefetch."""
    message: Message | None = message_for_unsubscribe_token(token)
    if message is None:
        return _unknown(request)
    language = language_for(request=request, chosen=_chosen(request))
    context = {"message": message}
    if request.method == "GET":
        return _render(request, "shorturl/email_confirm.html", context, language=language)
    # No per-IP limit here: mailbox providers send everyone's one-click from a few
    # addresses, and a signed token cannot be guessed anyway.
    one_click = request.POST.get("List-Unsubscribe") == "One-Click"
    # One-click comes from the mailbox provider, for the person: what the request tells
    # (the provider's address and agent) is recorded as it is, beside the person as actor.
    seen = (
        Seen.from_request(request, wording_version=wording_version("one_click"))
        if one_click
        else _seen(request, "email", language)
    )
    unsubscribe_email(message=message, one_click=one_click, seen=seen)
    if one_click:
        return HttpResponse("Unsubscribed.", content_type="text/plain; charset=utf-8")
    return _render(request, "shorturl/email_done.html", context, language=language)


# No CSRF token, as on the landing page: in-app browsers drop cookies, and the link's own
# token, 32 random characters, is the check. A GET only shows what the person would
# confirm: mail and link scanners open links, and must never subscribe anyone.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def optin_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The person confirms the double opt-in the company sent them, or does nothing."""
    optin = optin_request_for_token(token)
    chosen = _chosen(request)
    country = country_of(optin.address) if optin else ""
    language = language_for(country=country, request=request, chosen=chosen)
    if optin is None or not is_open(optin):
        return _optin_closed(request, optin, language)
    if request.method == "POST":
        if _ip_over_limit(request):
            return _too_many(request, language)
        try:
            confirm_double_optin(token=token, seen=_seen(request, "optin", language))
        except OptinClosed as closed:
            return _optin_closed(request, closed.request, language)
        context = {"company": optin.company.name}
        return _render(request, "shorturl/optin_done.html", context, language=language)
    context = {"company": optin.company.name, "masked": masked(optin.address), "chosen": chosen}
    return _render(request, "shorturl/optin_confirm.html", context, language=language)


def _optin_closed(request: HttpRequest, optin: OptinRequest | None, language: str) -> HttpResponse:
    """A forged link is a 404; a used or expired one a 410, saying which."""
    state = "unknown" if optin is None else optin.status
    if state == OptinRequest.Status.PENDING:  # pending but past its time
        state = OptinRequest.Status.EXPIRED
    context = {"state": state, "company": optin.company.name if optin else ""}
    return _render(
        request,
        "shorturl/optin_closed.html",
        context,
        language=language,
        status=404 if optin is None else 410,
    )
