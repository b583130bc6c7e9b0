from django.urls import path

from . import views

app_name = "campaigns"

urlpatterns = [
    path("", views.campaign_list, name="campaign-list"),
    path("new/", views.campaign_create, name="campaign-create"),
    path("preview/", views.campaign_preview, name="campaign-preview"),
    path("<int:pk>/", views.campaign_detail, name="campaign-detail"),
    path("<int:pk>/edit/", views.campaign_edit, name="campaign-edit"),
    path("<int:pk>/edit/preview/", views.campaign_preview, name="campaign-edit-preview"),
    path("<int:pk>/confirm/", views.campaign_confirm, name="campaign-confirm"),
    path("<int:pk>/send/", views.campaign_send, name="campaign-send"),
    path("<int:pk>/test/", views.campaign_test_send, name="campaign-test-send"),
    path("<int:pk>/schedule/", views.campaign_schedule, name="campaign-schedule"),
    path("<int:pk>/unschedule/", views.campaign_unschedule, name="campaign-unschedule"),
    path("<int:pk>/pause/", views.campaign_pause, name="campaign-pause"),
    path("<int:pk>/resume/", views.campaign_resume, name="campaign-resume"),
    path("<int:pk>/cancel/", views.campaign_cancel, name="campaign-cancel"),
    path("messages/<int:pk>/", views.message_detail, name="message-detail"),
]
