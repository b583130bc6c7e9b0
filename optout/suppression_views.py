"""The suppression list a company manages: read, search, export, add by hand, upload."""

from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.module_loading import import_string
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from addressbook.addresses import is_email
from addressbook.csvfiles import FileProblem
from addressbook.exports import line_writer
from addressbook.models import Company
from addressbook.tenancy import company_required, get_for_company, request_ip

from .forms import AddOptoutsForm, SuppressionFilterForm, UploadOptoutsForm
from .imports import (
    UploadProblem,
    add_optouts,
    create_suppression_import,
    rejected_rows_csv,
    resume_suppression_import,
    summary,
)
from .models import Source, Suppression, SuppressionImport, reason_label
from .selectors import suppression_list, suppression_page, suppressions_matching

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
