from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from addressbook.addresses import mask_phone
from campaigns.selectors import message_for_short_code

from .forms import ConfirmOptOutForm
from .services import WrongNumber, confirm_optout


def _unknown(request: HttpRequest) -> HttpResponse:
    return render(request, "shorturl/unknown.html", status=404)


# No CSRF token: in-app browsers of messaging apps often drop cookies, and a person must
# always be able to leave. Typing the number the message went to is the check.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def landing(request: HttpRequest, code: str) -> HttpResponse:
    message = message_for_short_code(code)
    if message is None:
        return _unknown(request)
    form = ConfirmOptOutForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                confirm_optout(
                    message=message,
                    typed_phone=form.cleaned_data["phone"],
                    reason=form.cleaned_data["reason"],
                    reason_text=form.cleaned_data["reason_text"],
                )
            except WrongNumber as exc:
                form.add_error("phone", str(exc))
            else:
                return redirect("shorturl:done", code=code)
        status = 400
    context = {"message": message, "masked": mask_phone(message.to), "form": form}
    return render(request, "shorturl/landing.html", context, status=status)


@require_GET
def done(request: HttpRequest, code: str) -> HttpResponse:
    message = message_for_short_code(code)
    if message is None:
        return _unknown(request)
    return render(request, "shorturl/done.html", {"message": message})
