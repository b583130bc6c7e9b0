"""The contact page's privacy actions: download what is held about a person, erase them."""

import json

from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from addressbook.models import Contact
from addressbook.tenancy import Role, company_required, get_for_company, request_ip
from optout.consent import Actor
from optout.models import Source

from .forms import EraseForm
from .selectors import footprint_of_person
from .services import erase_person, export_person


@require_http_methods(["GET", "POST"])
@company_required(role=Role.MARKETER)
def contact_erase(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_for_company(Contact.objects, request.company, pk=pk)
    form = EraseForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        name = str(contact)
        try:
            erase_person(
                contact=contact,
                source=Source.DASHBOARD,
                actor=Actor.user(request.user),
                user=request.user,
                ip=request_ip(request),
            )
        except Contact.DoesNotExist:
            raise Http404("This contact has already been erased.") from None
        messages.success(
            request,
            f"Erased {name}. Their number and email stay on the opt-out list, so they get no "
            "more marketing, even if they are imported again.",
        )
        return redirect("addressbook:contact-list")
    context = {"contact": contact, "form": form, "footprint": footprint_of_person(contact=contact)}
    status = 400 if form.errors else 200
    return render(request, "privacy/contact_erase.html", context, status=status)


# A POST, though it changes no data of the person: who took their data out goes on the
# audit log, and a GET changes nothing anywhere. Viewers, who read everything, may.
@require_POST
@company_required(writes=Role.VIEWER)
def contact_export(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_for_company(Contact.objects, request.company, pk=pk)
    data = export_person(contact=contact, user=request.user, ip=request_ip(request))
    body = json.dumps(data, indent=2, ensure_ascii=False, cls=DjangoJSONEncoder)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    name = f"contact-{contact.pk}-{request.company.slug}-{timezone.now():%Y%m%d-%H%M}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
