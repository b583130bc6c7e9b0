from django.urls import path

from . import views

app_name = "shorturl"

urlpatterns = [
    path("u/<str:token>", views.email_unsubscribe, name="email-unsubscribe"),
    path("c/<str:token>", views.optin_confirm, name="optin-confirm"),
    path("<str:code>", views.landing, name="landing"),
    path("<str:code>/done", views.done, name="done"),
    path("<str:code>/undo", views.undo, name="undo"),
    path("<str:code>/back", views.resubscribed, name="resubscribed"),
]
