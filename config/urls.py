from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from addressbook import password_views, twofactor_views
from addressbook.views import no_company
from campaigns.email_hooks import email_hook_patterns
from campaigns.hooks import delivery_report_webhook, gateway_status_webhook
from optout.urls import hook_patterns

from .health import healthz

urlpatterns = [
    path("", include("insights.urls")),
    path("", include("addressbook.urls")),
    path("", include("privacy.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("", include("optout.urls")),
    path("s/", include("shorturl.urls")),
    path("api/", include("api.urls")),
    path("integrations/", include("api.dashboard_urls")),
    *hook_patterns,
    # Before the keyed one: /hooks/sms/vonage/status/ names Vonage, never a key.
    path("hooks/sms/<gateway:gateway>/status/", gateway_status_webhook, name="gateway-status"),
    path(
        "hooks/sms/<gateway:gateway>/<slug:key>/status/",
        gateway_status_webhook,
        name="gateway-status-company",
    ),
    path("hooks/sms/status/", delivery_report_webhook, name="sms-status-hook"),
    path("hooks/sms/<slug:key>/status/", delivery_report_webhook, name="sms-status-hook-company"),
    # Bounces, complaints and unsubscribe mail from the email services (anymail's views).
    path("hooks/email/", include((email_hook_patterns, "anymail"))),
    path("healthz", healthz, name="healthz"),
    path("login/", twofactor_views.LoginView.as_view(), name="login"),
    path("login/code/", twofactor_views.login_code, name="login-code"),
    path("account/two-factor/", twofactor_views.two_factor, name="two-factor"),
    path("account/two-factor/qr.svg", twofactor_views.two_factor_qr, name="two-factor-qr"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Password reset by email. The form answers the same whether or not the address
    # belongs to an account, so it cannot be used to find out who has one.
    path("password-reset/", password_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        password_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("no-company/", no_company, name="no-company"),
    path(settings.ADMIN_URL, admin.site.urls),
]
