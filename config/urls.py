from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from addressbook.views import no_company
from campaigns.hooks import delivery_report_webhook
from optout.urls import hook_patterns

from .health import healthz

urlpatterns = [
    path("", include("addressbook.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("", include("optout.urls")),
    path("s/", include("shorturl.urls")),
    *hook_patterns,
    path("hooks/sms/status/", delivery_report_webhook, name="sms-status-hook"),
    path("healthz", healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("no-company/", no_company, name="no-company"),
    path("admin/", admin.site.urls),
]
