"""The suppression list a company manages: read, search, export, add by hand, upload, and
bring an address back on proof of consent or by the person's own confirmation."""

from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.module_loading import import_string
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from addressbook.addresses import is_email
from addressbook.csvfiles import FileProblem
from addressbook.exports import line_writer
from addressbook.models import Company
from addressbook.tenancy import company_required, get_for_company, request_ip

from .consent import Actor, ConsentProofRequired, Seen
from .doubleoptin import (
    OPTIN_TTL,
    OptinNotSent,
    OptinRefused,
    confirmation_preview,
    pending_optin,
    reply_number,
    request_double_optin,
    wording_shown,
)
from .forms import (
    AddOptoutsForm,
    DoubleOptinForm,
    RecordConsentForm,
    SuppressionFilterForm,
    UploadOptoutsForm,
)
from .imports import (
    UploadProblem,
    add_optouts,
    create_suppression_import,
    rejected_rows_csv,
    resume_suppression_import,
    summary,
)
from .models import ConsentEvent, Source, Suppression, SuppressionImport, reason_label
from .proofs import document_kind, record_consent_again
from .selectors import (
    channel_of,
    consent_timeline,
    suppression_list,
    suppression_page,
    suppressions_matching,
)

PER_PAGE = 50
MAX_UPLOAD_BYTES = 2 * 1024 * 1024 * 1024


@dataclass(frozen=True)
class ListPage:
    """A page of the list found without counting every match: one row past the page
    tells whether another follows."""

    rows: list[Suppression]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1


def _page_number(raw: str | None) -> int:
    return int(raw) if raw and raw.isdecimal() and 0 < int(raw) < 100_000 else 1


def _campaign_names(company: Company) -> dict[int, str]:
    campaigns = import_string(settings.OPTOUT_CAMPAIGNS_OF)(company=company)
    return dict(campaigns.order_by("-created_at", "-id").values_list("pk", "name"))


def _filters(request: HttpRequest, names: dict[int, str]) -> SuppressionFilterForm:
    return SuppressionFilterForm(request.GET, company=request.company, campaigns=names.items())


@require_GET
@company_required
def suppressions(request: HttpRequest) -> HttpResponse:
    company = request.company
    names = _campaign_names(company)
    form = _filters(request, names)
    page = ListPage(rows=[], number=1, has_next=False)
    if form.is_valid():
        number = _page_number(request.GET.get("page"))
        found = suppression_page(
            company=company,
            offset=(number - 1) * PER_PAGE,
            limit=PER_PAGE + 1,
            **form.criteria(),
        )
        for row in found:
            row.campaign_name = names.get(row.event.campaign_id, "")
        page = ListPage(rows=found[:PER_PAGE], number=number, has_next=len(found) > PER_PAGE)
    context = {
        "form": form,
        "page": page,
        "filtered": form.is_bound and any(form.data.get(name) for name in form.fields),
        # Shown above the filters, which an htmx request leaves in place.
        "total": None if request.htmx else suppression_list(company=company).count(),
        "zone": company.timezone,
    }
    template = "optout/suppression_list.html"
    if request.htmx:
        template += "#results"
    return render(request, template, context, status=200 if form.is_valid() else 400)


@require_GET
@company_required
def suppressions_export(request: HttpRequest) -> HttpResponse:
    """The filtered list as CSV, streamed: 100,000 rows never sit in memory."""
    company = request.company
    names = _campaign_names(company)
    form = _filters(request, names)
    if not form.is_valid():
        errors = "; ".join(e for errors in form.errors.values() for e in errors)
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    rows = suppressions_matching(company=company, **form.criteria())
    zone = ZoneInfo(company.timezone)
    response = StreamingHttpResponse(
        _csv_lines(rows, names, zone), content_type="text/csv; charset=utf-8"
    )
    day = timezone.localdate(timezone=zone).isoformat()
    response["Content-Disposition"] = f'attachment; filename="opt-outs-{company.slug}-{day}.csv"'
    return response


def _csv_lines(rows, names: dict[int, str], zone: ZoneInfo) -> Iterator[str]:
    writer = line_writer()
    yield "\ufeff"
    yield writer.writerow(
        ["Address", "Channel", "Since", "Source", "Campaign", "Country", "Reason", "Reason text"]
    )
    for row in rows.iterator(chunk_size=2000):
        event = row.event
        yield writer.writerow(
            [
                row.address,
                "Email" if is_email(row.address) else "SMS",
                timezone.localtime(row.created_at, zone).strftime("%Y-%m-%d %H:%M"),
                event.get_source_display(),
                names.get(event.campaign_id, ""),
                row.country,
                reason_label(event.reason) if event.reason else "",
                event.reason_text,
            ]
        )


@require_http_methods(["GET", "POST"])
@company_required
def suppressions_add(request: HttpRequest) -> HttpResponse:
    """Addresses typed or pasted by a marketer, each opted out with source ``dashboard``."""
    form = AddOptoutsForm(request.POST or None)
    outcomes, error = None, ""
    if request.method == "POST" and form.is_valid():
        try:
            outcomes = add_optouts(
                company=request.company,
                text=form.cleaned_data["addresses"],
                source=Source.DASHBOARD,
                actor=request.user,
                ip=request_ip(request),
            )
        except UploadProblem as exc:
            error = str(exc)
    context = {
        "form": form,
        "error": error,
        "outcomes": outcomes,
        "counts": summary(outcomes) if outcomes else None,
    }
    invalid = request.method == "POST" and (error or not form.is_valid())
    return render(request, "optout/suppression_add.html", context, status=400 if invalid else 200)


@require_http_methods(["GET", "POST"])
@company_required
def suppressions_upload(request: HttpRequest) -> HttpResponse:
    """An old provider's list: kept, then read by a worker."""
    form = UploadOptoutsForm(request.POST or None, request.FILES or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            error = "The file is larger than 2 GB."
        else:
            try:
                job = create_suppression_import(
                    company=request.company,
                    upload=upload,
                    user=request.user,
                    ip=request_ip(request),
                )
            except (FileProblem, UploadProblem) as exc:
                error = str(exc)
            else:
                return redirect("optout:suppression-upload-detail", pk=job.pk)
    uploads = SuppressionImport.objects.filter(company=request.company)[:10]
    context = {"form": form, "error": error, "uploads": uploads}
    invalid = request.method == "POST" and (error or not form.is_valid())
    return render(
        request, "optout/suppression_upload.html", context, status=400 if invalid else 200
    )


@require_GET
@company_required
def suppressions_upload_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_for_company(SuppressionImport.objects, request.company, pk=pk)
    template = "optout/suppression_upload_detail.html"
    if request.htmx:
        template += "#progress"
    return render(request, template, {"job": job, "counts": job.counts})


@require_POST
@company_required
def suppressions_upload_resume(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_for_company(SuppressionImport.objects, request.company, pk=pk)
    if resume_suppression_import(job=job):
        messages.info(request, f"Going on from row {job.rows_done + 1}.")
    else:
        messages.warning(request, "This upload has not stopped; only a failed one can go on.")
    return redirect("optout:suppression-upload-detail", pk=job.pk)


@require_GET
@company_required
def suppressions_upload_rejected(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    job = get_for_company(SuppressionImport.objects, request.company, pk=pk)
    return rejected_rows_response(job)


def rejected_rows_response(job: SuppressionImport) -> StreamingHttpResponse:
    response = StreamingHttpResponse(rejected_rows_csv(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rejected-opt-outs-{job.pk}.csv"'
    return response


# --- bringing an address back ----------------------------------------------------------
def _campaign_name(company: Company, campaign_id: int | None) -> str:
    if campaign_id is None:
        return ""
    campaigns = import_string(settings.OPTOUT_CAMPAIGNS_OF)(company=company)
    return campaigns.filter(pk=campaign_id).values_list("name", flat=True).first() or ""


def _suppression(request: HttpRequest, pk: int, *, opted_out: bool = False) -> Suppression:
    rows = Suppression.objects.select_related("event__linked_event")
    if opted_out:
        # Consent brings back an opt-out, never a mailbox that bounces: that is staff's.
        rows = rows.filter(reason=Suppression.Reason.OPTED_OUT)
    return get_for_company(rows, request.company, pk=pk)


def _detail(
    request: HttpRequest,
    suppression: Suppression,
    *,
    consent_form: RecordConsentForm | None = None,
    optin_form: DoubleOptinForm | None = None,
    status: int = 200,
) -> HttpResponse:
    company, address = request.company, suppression.address
    channel = channel_of(address)
    pending = pending_optin(company=company, address=address)
    context = {
        "suppression": suppression,
        "campaign_name": _campaign_name(company, suppression.event.campaign_id),
        "history": consent_timeline(company=company, addresses=[address])[:100],
        "pending": pending,
        "pending_wording": wording_shown(pending) if pending else "",
        "preview": confirmation_preview(company=company, address=address),
        "consent_form": consent_form or RecordConsentForm(),
        "optin_form": optin_form or DoubleOptinForm(),
        "channel": channel,
        "replies": channel == "sms" and bool(reply_number(company=company, address=address)),
        "optin_days": OPTIN_TTL.days,
        "zone": company.timezone,
    }
    return render(request, "optout/suppression_detail.html", context, status=status)


@require_GET
@company_required
def suppression_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _suppression(request, pk))


@require_POST
@company_required
def suppression_consent(request: HttpRequest, pk: int) -> HttpResponse:
    """Record how the person consented again; the address comes back with that proof."""
    suppression = _suppression(request, pk, opted_out=True)
    form = RecordConsentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            event = record_consent_again(
                company=request.company,
                address=suppression.address,
                source=Source.DASHBOARD,
                proof=form.proof(),
                actor=Actor.user(request.user),
                seen=Seen.from_request(request),
                user=request.user,
                ip=request_ip(request),
            )
        except ConsentProofRequired as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"{suppression.address} may receive marketing again: consent recorded "
                f"({event.get_consent_method_display().lower()}).",
            )
            return redirect("optout:consent-event", pk=event.pk)
    return _detail(request, suppression, consent_form=form, status=400)


@require_POST
@company_required
def suppression_double_optin(request: HttpRequest, pk: int) -> HttpResponse:
    """Send the person one confirmation; nothing changes until they confirm."""
    suppression = _suppression(request, pk, opted_out=True)
    form = DoubleOptinForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            optin = request_double_optin(
                company=request.company,
                address=suppression.address,
                actor=Actor.user(request.user),
                channel=channel_of(suppression.address),
                user=request.user,
                ip=request_ip(request),
            )
        except OptinRefused as exc:
            form.add_error(None, str(exc))
            status = 409
        except OptinNotSent as exc:
            form.add_error(None, str(exc))
            status = 503
        else:
            messages.success(
                request,
                f"Confirmation sent by {optin.get_channel_display()}. The address comes "
                "back only when the person confirms it.",
            )
            return redirect("optout:suppression-detail", pk=suppression.pk)
    return _detail(request, suppression, optin_form=form, status=status)


@require_GET
@company_required
def consent_event(request: HttpRequest, pk: int) -> HttpResponse:
    """One consent event as the ledger keeps it: who, how, from where, and its proof."""
    event = get_for_company(
        ConsentEvent.objects.select_related("linked_event"), request.company, pk=pk
    )
    context = {
        "event": event,
        "campaign_name": _campaign_name(request.company, event.campaign_id),
        "zone": request.company.timezone,
    }
    return render(request, "optout/consent_event.html", context)


@require_GET
@company_required
def consent_document(request: HttpRequest, pk: int) -> HttpResponse:
    """The document a proof of consent carries, to the company's members only."""
    event = get_for_company(ConsentEvent.objects, request.company, pk=pk)
    if not event.consent_document:
        return redirect("optout:consent-event", pk=event.pk)
    try:
        handle = event.consent_document.open("rb")
    except OSError:
        raise Http404("The document of this consent is missing from the storage.") from None
    kind = document_kind(handle.read(8)) or ("bin", "application/octet-stream")
    handle.seek(0)
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"consent-{event.pk}.{kind[0]}",
        content_type=kind[1],
    )
    response["Cache-Control"] = "private, no-store"
    return response
