"""A company's opt-out settings, for its owners: its own opt-out texts and leave reasons."""

import phonenumbers
from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.module_loading import import_string
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from addressbook.tenancy import Role, company_required, get_for_company, request_ip

from .models import CompanyOptoutText, LeaveReason, Reason
from .reasons import (
    MAX_LABEL,
    MAX_REASONS,
    ReasonRefused,
    add_leave_reason,
    move_leave_reason,
    reasons_of,
    remove_leave_reason,
    rename_leave_reason,
)
from .texts import (
    DEFAULT,
    MAX_LENGTH,
    OptoutTextRefused,
    OptoutTexts,
    check_optout_text,
    destination_label,
    language_choices,
    optout_texts,
    remove_optout_text,
    save_optout_text,
)

PAGE = "optout/settings_page.html"
TEXT_PAGE = "optout/settings_text.html"
owners_only = company_required(role=Role.OWNER)


class OptoutTextForm(forms.Form):
    country = forms.CharField(
        required=False,
        max_length=2,
        help_text="A two-letter code such as FR. Empty: every country.",
        widget=forms.TextInput(attrs={"placeholder": "All", "size": 3, "autocomplete": "off"}),
    )
    language = forms.ChoiceField(
        required=False,
        choices=language_choices,
        help_text="The language the platform writes to the number's country in.",
    )
    template = forms.CharField(
        label="Text",
        max_length=MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": MAX_LENGTH, "spellcheck": "true"}),
        help_text="{link}, {shortcode} and {company} are filled in. The text must keep each "
        "country's way out: {link} where people leave by a link; {shortcode} and the reply "
        "word in capitals (STOP) where they reply.",
    )

    def clean_country(self) -> str:
        country = self.cleaned_data["country"].strip().upper()
        if country and (country == DEFAULT or country not in phonenumbers.SUPPORTED_REGIONS):
            raise forms.ValidationError(f"“{country}” is not a country code such as NL or FR.")
        return country


def _language(text: CompanyOptoutText) -> str:
    return dict(settings.LANGUAGES).get(text.language, "All languages")


def _samples(texts: OptoutTexts, countries: list[str]) -> list:
    return import_string(settings.OPTOUT_FOOTER_SAMPLES)(texts=texts, countries=countries)


def _page(request: HttpRequest, *, status: int = 200, **extra) -> HttpResponse:
    company = request.company
    texts = optout_texts(company=company)
    samples = _samples(texts, texts.destinations())
    used_for: dict[int, list[str]] = {}
    for sample in samples:
        if sample.footer.own is not None:
            used_for.setdefault(sample.footer.own.pk, []).append(sample.country)
    own = sorted(texts.texts.values(), key=lambda t: (t.country, t.language))
    context = {
        "texts": [(text, _language(text), used_for.get(text.pk, [])) for text in own],
        "samples": samples,
        "reasons": reasons_of(company=company),
        "default_reasons": [str(label) for _, label in Reason.choices],
        "max_reasons": MAX_REASONS,
        "max_label": MAX_LABEL,
        "default_country": DEFAULT,
        **extra,
    }
    return render(request, PAGE, context, status=status)


@require_GET
@owners_only
def optout_settings(request: HttpRequest) -> HttpResponse:
    return _page(request)


# --- opt-out texts ------------------------------------------------------------------
def _text_page(
    request: HttpRequest,
    form: OptoutTextForm,
    text: CompanyOptoutText | None,
    *,
    partial: str = "",
    status: int = 200,
) -> HttpResponse:
    if text is None:
        save_url, preview_url = reverse("optout:text-add"), reverse("optout:text-preview")
    else:
        save_url = reverse("optout:text-edit", args=[text.pk])
        preview_url = reverse("optout:text-edit-preview", args=[text.pk])
    preview = _preview(request, form, text) if form.is_bound else _saved_preview(request, text)
    context = {
        "form": form,
        "text": text,
        "preview": preview,
        "save_url": save_url,
        "preview_url": preview_url,
    }
    template = f"{TEXT_PAGE}#{partial}" if partial else TEXT_PAGE
    return render(request, template, context, status=status)


def _preview(request: HttpRequest, form: OptoutTextForm, text: CompanyOptoutText | None) -> dict:
    """Where the typed text would be used, as each of those countries would read it."""
    if not form.is_valid():
        return {"refusal": "", "samples": [], "unserved": {}}
    data = form.cleaned_data
    candidate = CompanyOptoutText(
        pk=text.pk if text else None,
        company=request.company,
        country=data["country"],
        language=data["language"],
        template=data["template"].strip(),
    )
    texts = optout_texts(company=request.company)
    try:
        check = check_optout_text(texts=texts, text=candidate)
    except OptoutTextRefused as exc:
        return {"refusal": str(exc), "samples": [], "unserved": {}}
    return {
        "refusal": "",
        "samples": _samples(texts.with_text(candidate), check.used_in),
        "unserved": {destination_label(c): why for c, why in check.unserved.items()},
    }


def _saved_preview(request: HttpRequest, text: CompanyOptoutText | None) -> dict:
    if text is None:
        return {"refusal": "", "samples": [], "unserved": {}}
    form = OptoutTextForm(
        {"country": text.country, "language": text.language, "template": text.template}
    )
    return _preview(request, form, text)


def _save(request: HttpRequest, form: OptoutTextForm, text: CompanyOptoutText | None):
    if not form.is_valid():
        return _text_page(request, form, text, status=400)
    try:
        saved, check = save_optout_text(
            company=request.company,
            actor=request.user,
            ip=request_ip(request),
            text=text,
            **form.cleaned_data,
        )
    except OptoutTextRefused as exc:
        form.add_error("template", str(exc))
        return _text_page(request, form, text, status=400)
    where = ", ".join(destination_label(c) for c in check.used_in)
    messages.success(request, f"Saved. Marketing SMS to {where} end with it.")
    if check.notice:
        messages.warning(request, check.notice)
    return redirect(reverse("optout:settings") + "#texts")


@require_http_methods(["GET", "POST"])
@owners_only
def text_add(request: HttpRequest) -> HttpResponse:
    form = OptoutTextForm(request.POST or None)
    if request.method == "POST":
        return _save(request, form, None)
    return _text_page(request, form, None)


@require_http_methods(["GET", "POST"])
@owners_only
def text_edit(request: HttpRequest, pk: int) -> HttpResponse:
    text = get_for_company(CompanyOptoutText.objects, request.company, pk=pk)
    if request.method == "POST":
        return _save(request, OptoutTextForm(request.POST), text)
    initial = {"country": text.country, "language": text.language, "template": text.template}
    return _text_page(request, OptoutTextForm(initial=initial), text)


@require_POST
@owners_only
def text_preview(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """The live preview of what is typed; without JavaScript, the form page again with it."""
    text = get_for_company(CompanyOptoutText.objects, request.company, pk=pk) if pk else None
    form = OptoutTextForm(request.POST)
    return _text_page(request, form, text, partial="preview" if request.htmx else "")


@require_POST
@owners_only
def text_remove(request: HttpRequest, pk: int) -> HttpResponse:
    text = get_for_company(CompanyOptoutText.objects, request.company, pk=pk)
    remove_optout_text(text=text, actor=request.user, ip=request_ip(request))
    messages.success(request, "Removed: those messages end with the standard text again.")
    return redirect(reverse("optout:settings") + "#texts")


# --- leave reasons ------------------------------------------------------------------
def _reason_refused(request: HttpRequest, exc: ReasonRefused, **where) -> HttpResponse:
    return _page(request, status=400, reason_error=str(exc), **where)


@require_POST
@owners_only
def reason_add(request: HttpRequest) -> HttpResponse:
    label = request.POST.get("label", "")
    try:
        reason = add_leave_reason(
            company=request.company, label=label, actor=request.user, ip=request_ip(request)
        )
    except ReasonRefused as exc:
        return _reason_refused(request, exc, typed_label=label[: MAX_LABEL * 2])
    messages.success(request, f"“{reason.label}” is offered on your landing page.")
    return redirect(reverse("optout:settings") + "#reasons")


@require_POST
@owners_only
def reason_rename(request: HttpRequest, pk: int) -> HttpResponse:
    reason = get_for_company(LeaveReason.objects, request.company, pk=pk)
    before = reason.label
    try:
        changed = rename_leave_reason(
            reason=reason,
            label=request.POST.get("label", ""),
            actor=request.user,
            ip=request_ip(request),
        )
    except ReasonRefused as exc:
        return _reason_refused(request, exc, error_reason=reason.pk)
    if changed:
        messages.success(request, f"“{before}” is now “{reason.label}”.")
    return redirect(reverse("optout:settings") + "#reasons")


@require_POST
@owners_only
def reason_move(request: HttpRequest, pk: int) -> HttpResponse:
    reason = get_for_company(LeaveReason.objects, request.company, pk=pk)
    direction = request.POST.get("direction")
    if direction not in ("up", "down"):
        return HttpResponse("Say up or down.", status=400, content_type="text/plain")
    move_leave_reason(
        reason=reason, up=direction == "up", actor=request.user, ip=request_ip(request)
    )
    return redirect(reverse("optout:settings") + "#reasons")


@require_POST
@owners_only
def reason_remove(request: HttpRequest, pk: int) -> HttpResponse:
    reason = get_for_company(LeaveReason.objects, request.company, pk=pk)
    remove_leave_reason(reason=reason, actor=request.user, ip=request_ip(request))
    messages.success(
        request, f"“{reason.label}” is no longer offered; past opt-outs keep it as they gave it."
    )
    return redirect(reverse("optout:settings") + "#reasons")
