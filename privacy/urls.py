from django.urls import path

from . import views

app_name = "privacy"

urlpatterns = [
    path("contacts/<int:pk>/erase/", views.contact_erase, name="contact-erase"),
    path("contacts/<int:pk>/export.json", views.contact_export, name="contact-export"),
]
