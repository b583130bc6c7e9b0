from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from optout.selectors import suppressed_contacts, suppression_for

from .forms import ContactForm
from .models import Contact
from .selectors import search_contacts
from .services import ContactError, create_contact, delete_contact, update_contact
from .tenancy import company_required, get_for_company, switch_company


@require_GET
@company_required
def contact_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    contacts = search_contacts(company=request.company, query=query)
    page = Paginator(contacts, 50).get_page(request.GET.get("page"))
    opted_out = set(
        suppressed_contacts(
            company=request.company,
            contacts=Contact.objects.filter(pk__in=[c.pk for c in page]),
        ).values_list("pk", flat=True)
    )
    context = {"page": page, "query": query, "opted_out": opted_out}
    template = "addressbook/contact_list.html"
    if request.htmx:
        template += "#results"
    return render(request, template, context)


def _contact_form(request: HttpRequest, contact: Contact | None) -> HttpResponse:
    initial = {}
    if contact:
        initial = {f: getattr(contact, f) for f in ("first_name", "last_name", "phone", "email")}
    form = ContactForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if contact:
                contact = update_contact(contact=contact, **form.cleaned_data)
                messages.success(request, f"Saved {contact}.")
            else:
                contact = create_contact(company=request.company, **form.cleaned_data)
                messages.success(request, f"Added {contact}.")
        except ContactError as exc:
            form.add_error(exc.field, str(exc))
        else:
            return redirect("addressbook:contact-list")
    suppression = (
        suppression_for(company=request.company, addresses=contact.addresses) if contact else None
    )
    context = {"form": form, "contact": contact, "suppression": suppression}
    status = 400 if form.errors else 200
    return render(request, "addressbook/contact_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@company_required
def contact_create(request: HttpRequest) -> HttpResponse:
    return _contact_form(request, None)


@require_http_methods(["GET", "POST"])
@company_required
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _contact_form(request, get_for_company(Contact.objects, request.company, pk=pk))


@require_POST
@company_required
def contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_for_company(Contact.objects, request.company, pk=pk)
    delete_contact(contact=contact)
    messages.success(request, f"Deleted {contact}. An opt-out of this contact still holds.")
    return redirect("addressbook:contact-list")


@require_POST
@login_required
def company_switch(request: HttpRequest, company_id: int) -> HttpResponse:
    company = switch_company(request, company_id)
    messages.info(request, f"Now working in {company}.")
    return redirect("addressbook:contact-list")


@require_GET
@login_required
def no_company(request: HttpRequest) -> HttpResponse:
    return render(request, "addressbook/no_company.html")
