"""Password reset by email: Django's views, answering a form with errors with a 400."""

import hashlib

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseRedirect

RESET_WINDOW_SECONDS = 3600


class _InvalidIs400:
    def form_invalid(self, form) -> HttpResponse:
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class PasswordResetView(_InvalidIs400, auth_views.PasswordResetView):
    """Answers the same whether or not the address has an account, so it finds nobody.

    Past ``PASSWORD_RESETS_PER_ADDRESS`` requests for one address in an hour no more
    email goes out (the answer stays the same), so the form cannot flood an inbox.
    """

    subject_template_name = "emails/password-reset-subject.txt"
    email_template_name = "emails/password-reset-body.txt"
    html_email_template_name = "emails/password-reset-body.html"

    def form_valid(self, form) -> HttpResponse:
        address = form.cleaned_data["email"].strip().lower()
        key = "pwreset:" + hashlib.sha256(address.encode()).hexdigest()
        cache.add(key, 0, timeout=RESET_WINDOW_SECONDS)
        try:
            count = cache.incr(key)
        except ValueError:  # the counter expired between add and incr
            cache.set(key, count := 1, timeout=RESET_WINDOW_SECONDS)
        if count > settings.PASSWORD_RESETS_PER_ADDRESS:
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class PasswordResetConfirmView(_InvalidIs400, auth_views.PasswordResetConfirmView):
    pass
