from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

# The dashboard shows each contact's opt-out status: these screens compose the address
# book with the opt-out record. The address book's models and services know nothing of it.
from optout.selectors import (
    reachable_for_marketing,
    suppressed_contacts,
    suppression_for,
    undeliverable_among,
    with_optout_status,
)

from .exports import contacts_csv
from .forms import ContactForm, CustomFieldForm, GroupForm
from .models import Contact, CustomField, Group
from .selectors import (
    ContactFilter,
    countries_of,
    custom_fields_of,
    filter_contacts,
    groups_of,
    sort_contacts,
)
from .services import (
    ContactError,
    FieldError,
    GroupError,
    add_to_group,
    create_contact,
    create_custom_field,
    create_group,
    delete_contact,
    delete_custom_field,
    delete_group,
    remove_from_group,
    rename_group,
    set_contact_groups,
    update_contact,
)
from .tenancy import company_required, get_for_company, switch_company

# The contact list's sortable columns, in the order they are shown.
SORT_COLUMNS = [
    ("name", "Name"),
    ("phone", "Phone"),
    ("email", "Email"),
    ("created", "Added"),
    ("status", "Status"),
]


def _filtered(request: HttpRequest, filters: ContactFilter):
    contacts = filter_contacts(company=request.company, filters=filters)
    if filters.status == "reachable":
        contacts = reachable_for_marketing(company=request.company, contacts=contacts)
    elif filters.status == "opted_out":
        contacts = suppressed_contacts(company=request.company, contacts=contacts)
    return contacts


@require_GET
@company_required
def contact_list(request: HttpRequest) -> HttpResponse:
    filters = ContactFilter.from_query(request.GET)
    contacts = sort_contacts(
        with_optout_status(company=request.company, contacts=_filtered(request, filters)),
        sort=filters.sort,
    )
    page = Paginator(contacts, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filters": filters,
        "query": filters.q,
        "total": request.company.contacts.count(),
        "groups": groups_of(company=request.company),
        "countries": countries_of(company=request.company),
        "custom_fields": custom_fields_of(company=request.company),
        "sort_columns": [
            {
                "key": key,
                "label": label,
                "link": filters.sort_link(key),
                "direction": filters.sort_direction(key),
            }
            for key, label in SORT_COLUMNS
        ],
    }
    template = "addressbook/contact_list.html"
    if request.htmx:
        template += "#results"
    return render(request, template, context)


@require_POST
@company_required
def contact_bulk(request: HttpRequest) -> HttpResponse:
    """Add to or remove from a group: the ticked contacts, or all that match the filter."""
    target = request.POST.get("target_group", "")
    group = get_for_company(Group.objects, request.company, pk=_as_id(target))
    if request.POST.get("scope") == "all":
        filters = ContactFilter.from_query(request.POST)
        ids = _filtered(request, filters).values_list("pk", flat=True).iterator(chunk_size=5000)
    else:
        ids = [_as_id(pk) for pk in request.POST.getlist("ids") if _as_id(pk)]
    if request.POST.get("action") == "remove":
        n = remove_from_group(group=group, contact_ids=ids).changed
        messages.success(request, f"Removed {n} contact{'s' * (n != 1)} from {group}.")
    else:
        n = add_to_group(group=group, contact_ids=ids).changed
        messages.success(request, f"Added {n} contact{'s' * (n != 1)} to {group}.")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}):
        back = "addressbook:contact-list"
    return redirect(back)


@require_GET
@company_required
def contact_export(request: HttpRequest) -> StreamingHttpResponse:
    filters = ContactFilter.from_query(request.GET)
    contacts = with_optout_status(company=request.company, contacts=_filtered(request, filters))
    fields = list(custom_fields_of(company=request.company))
    name = f"contacts-{request.company.slug}-{timezone.now():%Y%m%d-%H%M}.csv"
    response = StreamingHttpResponse(
        contacts_csv(contacts.order_by("id"), fields), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _contact_form(request: HttpRequest, contact: Contact | None) -> HttpResponse:
    initial = {}
    if contact:
        initial = {f: getattr(contact, f) for f in ("first_name", "last_name", "phone", "email")}
        initial["groups"] = contact.groups.filter(company=request.company)
        initial.update({f"custom_{k}": v for k, v in contact.custom.items()})
    form = ContactForm(request.POST or None, initial=initial, company=request.company)
    if request.method == "POST" and form.is_valid():
        data = {k: form.cleaned_data[k] for k in ("first_name", "last_name", "phone", "email")}
        try:
            if contact:
                contact = update_contact(contact=contact, custom=form.custom_values, **data)
                messages.success(request, f"Saved {contact}.")
            else:
                contact = create_contact(company=request.company, custom=form.custom_values, **data)
                messages.success(request, f"Added {contact}.")
        except ContactError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            set_contact_groups(
                contact=contact, group_ids=[g.pk for g in form.cleaned_data["groups"]]
            )
            return redirect("addressbook:contact-list")
    context = {"form": form, "contact": contact}
    if contact:
        addresses = contact.addresses
        context["suppression"] = suppression_for(company=request.company, addresses=addresses)
        context["undeliverable"] = undeliverable_among(company=request.company, addresses=addresses)
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


@require_http_methods(["GET", "POST"])
@company_required
def group_list(request: HttpRequest) -> HttpResponse:
    form = GroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            group = create_group(company=request.company, name=form.cleaned_data["name"])
        except GroupError as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(request, f"Created the group {group}.")
            return redirect("addressbook:group-list")
    context = {"form": form, "groups": groups_of(company=request.company)}
    return render(
        request, "addressbook/group_list.html", context, status=400 if form.errors else 200
    )


@require_POST
@company_required
def group_edit(request: HttpRequest, pk: int) -> HttpResponse:
    group = get_for_company(Group.objects, request.company, pk=pk)
    if request.POST.get("action") == "delete":
        delete_group(group=group)
        messages.success(request, f"Deleted the group {group}; its contacts stay.")
    else:
        try:
            rename_group(group=group, name=request.POST.get("name", ""))
            messages.success(request, f"Renamed to {group}.")
        except GroupError as exc:
            messages.error(request, str(exc))
    return redirect("addressbook:group-list")


@require_http_methods(["GET", "POST"])
@company_required
def field_list(request: HttpRequest) -> HttpResponse:
    form = CustomFieldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            field = create_custom_field(company=request.company, **form.cleaned_data)
        except FieldError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Added the field {field}: use {{{{ {field.key} }}}}.")
            return redirect("addressbook:field-list")
    context = {"form": form, "fields": custom_fields_of(company=request.company)}
    return render(
        request, "addressbook/field_list.html", context, status=400 if form.errors else 200
    )


@require_POST
@company_required
def field_delete(request: HttpRequest, pk: int) -> HttpResponse:
    field = get_for_company(CustomField.objects, request.company, pk=pk)
    delete_custom_field(field=field)
    messages.success(request, f"Deleted the field {field}.")
    return redirect("addressbook:field-list")


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


def _as_id(value: str) -> int:
    """A posted id, or 0 when it is none: digits only, and small enough for any database."""
    if value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return 0
