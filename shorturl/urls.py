from django.urls import path

from . import views

app_name = "shorturl"

urlpatterns = [
    path("<str:code>", views.landing, name="landing"),
    path("<str:code>/done", views.done, name="done"),
]
