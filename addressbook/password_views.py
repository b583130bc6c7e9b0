"""Password reset by email: Django's views, answering a form with errors with a 400."""

from django.contrib.auth import views as auth_views
from django.http import HttpResponse


class _InvalidIs400:
    def form_invalid(self, form) -> HttpResponse:
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class PasswordResetView(_InvalidIs400, auth_views.PasswordResetView):
    """Answers the same whether or not the address has an account, so it finds nobody."""

    subject_template_name = "emails/password-reset-subject.txt"
    email_template_name = "emails/password-reset-body.txt"
    html_email_template_name = "emails/password-reset-body.html"


class PasswordResetConfirmView(_InvalidIs400, auth_views.PasswordResetConfirmView):
    pass
