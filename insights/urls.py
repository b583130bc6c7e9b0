from django.urls import path

from . import home_views, views

app_name = "insights"

urlpatterns = [
    path("", home_views.home, name="home"),
    path("insights/", views.insights, name="insights"),
]
