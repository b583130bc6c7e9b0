"""Staff erase a person or download their data from the Contact admin, as actions.

The address book's own ``ContactAdmin`` knows nothing of opt-outs or messages; this one
adds the actions that reach them all, and takes its place.
"""

import json

from django.contrib import admin, messages
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from addressbook.admin import ContactAdmin
from addressbook.models import Contact
from addressbook.tenancy import request_ip
from optout.consent import Actor
from optout.models import Source

from .forms import EraseForm
from .services import erase_person, export_person

admin.site.unregister(Contact)


@admin.register(Contact)
class PrivacyContactAdmin(ContactAdmin):
    actions = ["export_person", "erase_people"]

    def has_erase_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("addressbook.delete_contact")

    @admin.action(description="Download the chosen person's data (JSON)")
    def export_person(self, request: HttpRequest, queryset) -> HttpResponse | None:
        contacts = list(queryset.select_related("company")[:2])
        if len(contacts) != 1:
            self.message_user(
                request, "Choose one contact: each person's data is a file of its own.",
                messages.WARNING,
            )  # fmt: skip
            return None
        contact = contacts[0]
        data = export_person(contact=contact, user=request.user, ip=request_ip(request))
        body = json.dumps(data, indent=2, ensure_ascii=False, cls=DjangoJSONEncoder)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
        name = f"contact-{contact.pk}-{contact.company.slug}-{timezone.now():%Y%m%d-%H%M}.json"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    @admin.action(description="Erase the chosen people (GDPR)", permissions=["erase"])
    def erase_people(self, request: HttpRequest, queryset) -> HttpResponse | None:
        """After a confirmation page: each contact erased, its addresses kept opted out."""
        contacts = list(queryset.select_related("company").order_by("pk"))
        form = EraseForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            for contact in contacts:
                try:
                    erase_person(
                        contact=contact,
                        source=Source.ADMIN,
                        actor=Actor.staff(request.user),
                        user=request.user,
                        ip=request_ip(request),
                    )
                except Contact.DoesNotExist:
                    continue
            self.message_user(
                request,
                f"Erased {len(contacts)} contact{'s' * (len(contacts) != 1)}. Their addresses "
                "stay on their company's opt-out list.",
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Erase people",
            "form": form,
            "contacts": contacts,
            "action": "erase_people",
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
        }
        return TemplateResponse(request, "privacy/admin_erase.html", context)
