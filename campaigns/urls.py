from django.urls import path

from . import views

app_name = "campaigns"

urlpatterns = [
    path("", views.campaign_list, name="campaign-list"),
    path("new/", views.campaign_create, name="campaign-create"),
    path("<int:pk>/", views.campaign_detail, name="campaign-detail"),
    path("<int:pk>/send/", views.campaign_send, name="campaign-send"),
    path("messages/<int:pk>/", views.message_detail, name="message-detail"),
]
