from django.urls import path

from . import import_views, team_views, views

app_name = "addressbook"

urlpatterns = [
    path("contacts/", views.contact_list, name="contact-list"),
    path("contacts/new/", views.contact_create, name="contact-create"),
    path("contacts/bulk/", views.contact_bulk, name="contact-bulk"),
    path("contacts/export.csv", views.contact_export, name="contact-export"),
    path("imports/new/", import_views.import_create, name="import-create"),
    path("imports/<int:pk>/", import_views.import_detail, name="import-detail"),
    path("imports/<int:pk>/resume/", import_views.import_resume, name="import-resume"),
    path("imports/<int:pk>/rejected.csv", import_views.import_rejected, name="import-rejected"),
    path("groups/", views.group_list, name="group-list"),
    path("groups/<int:pk>/", views.group_edit, name="group-edit"),
    path("fields/", views.field_list, name="field-list"),
    path("fields/<int:pk>/delete/", views.field_delete, name="field-delete"),
    path("contacts/<int:pk>/", views.contact_edit, name="contact-edit"),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="contact-delete"),
    path("company/<int:company_id>/switch/", views.company_switch, name="company-switch"),
    path("team/", team_views.team, name="team"),
    path("team/<int:pk>/role/", team_views.member_role, name="member-role"),
    path("team/<int:pk>/remove/", team_views.member_remove, name="member-remove"),
    path(
        "team/invitations/<int:pk>/revoke/",
        team_views.invitation_revoke,
        name="invitation-revoke",
    ),
    path("invitations/<str:token>/", team_views.invitation_accept, name="invitation-accept"),
    path("audit/", team_views.audit_log, name="audit-log"),
    path("company/settings/", team_views.company_settings, name="company-settings"),
]
