from django.urls import path
from django.views.generic import RedirectView

from . import views

app_name = "addressbook"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="addressbook:contact-list"), name="home"),
    path("contacts/", views.contact_list, name="contact-list"),
    path("contacts/new/", views.contact_create, name="contact-create"),
    path("contacts/<int:pk>/", views.contact_edit, name="contact-edit"),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="contact-delete"),
    path("company/<int:company_id>/switch/", views.company_switch, name="company-switch"),
]
