"""The import wizard: upload → how to read it → preview → import with progress → summary."""

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.module_loading import import_string
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .csvfiles import DELIMITERS, ENCODINGS, FileProblem
from .exports import line_writer
from .models import ImportJob
from .selectors import custom_fields_of, groups_of, imports_of
from .services.audit import Action, record_audit
from .services.groups import GroupError, check_group_name, create_group
from .services.imports import (
    BASE_FIELDS,
    STALLED_AFTER,
    ImportProblem,
    configure_import,
    create_import,
    headers_of,
    preview_import,
    resume_import,
    start_import,
)
from .tenancy import company_required, get_for_company

MAX_UPLOAD_BYTES = 2 * 1024 * 1024 * 1024
FIELD_LABELS = {
    "phone": "Phone",
    "email": "Email",
    "first_name": "First name",
    "last_name": "Last name",
    "country": "Country (ISO code, for national numbers)",
}


def _suppressed_of():
    return import_string(settings.ADDRESSBOOK_SUPPRESSED_OF)


@require_http_methods(["GET", "POST"])
@company_required
def import_create(request: HttpRequest) -> HttpResponse:
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = "Choose a file to upload."
        elif upload.size > MAX_UPLOAD_BYTES:
            error = "The file is larger than 2 GB."
        else:
            try:
                job = create_import(company=request.company, upload=upload, user=request.user)
            except FileProblem as exc:
                error = str(exc)
            else:
                return redirect("addressbook:import-detail", pk=job.pk)
    context = {"error": error, "imports": imports_of(company=request.company)[:10]}
    return render(request, "addressbook/import_create.html", context, status=400 if error else 200)


def _choices(request: HttpRequest) -> list[tuple[str, str]]:
    custom = [(f"custom:{f.key}", f.name) for f in custom_fields_of(company=request.company)]
    return [("", "— ignore —"), *((f, FIELD_LABELS[f]) for f in BASE_FIELDS), *custom]


@require_http_methods(["GET", "POST"])
@company_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_for_company(ImportJob.objects, request.company, pk=pk)
    if job.status != ImportJob.Status.UPLOADED:
        return _progress(request, job)
    error, preview = "", None
    if request.method == "POST":
        starting = request.POST.get("action") == "start"
        try:
            # A new group is made only by the start that fills it: a preview, or a start
            # refused, leaves no empty group behind to clash with the next try.
            with transaction.atomic():
                job = _configure(request, job, new_group=starting)
                if starting:
                    if start_import(job=job):
                        record_audit(
                            company=request.company,
                            action=Action.IMPORT_STARTED,
                            actor=request.user,
                            obj=job,
                            target=job.filename,
                            details={"mode": job.mode, "group": str(job.group or "")},
                            ip=request.META.get("REMOTE_ADDR"),
                        )
                    else:
                        transaction.set_rollback(True)  # started meanwhile: keep no group
            if starting:
                return redirect("addressbook:import-detail", pk=job.pk)
            preview = preview_import(job=job, suppressed_of=_suppressed_of())
        except (ImportProblem, GroupError, FileProblem) as exc:
            error = str(exc)
    try:
        headers = headers_of(job)
    except FileProblem as exc:
        headers, error = [], str(exc)
    context = {
        "job": job,
        "headers": list(enumerate(headers)),
        "choices": _choices(request),
        "encodings": ENCODINGS.items(),
        "delimiters": DELIMITERS.items(),
        "groups": groups_of(company=request.company),
        "new_group": request.POST.get("new_group", ""),
        "preview": preview,
        "error": error,
    }
    template = "addressbook/import_detail.html"
    if request.htmx and preview is not None:
        template += "#preview"
    return render(request, template, context, status=400 if error else 200)


def _configure(request: HttpRequest, job: ImportJob, *, new_group: bool) -> ImportJob:
    """The job as the form sets it up; a group typed as new is only checked unless
    ``new_group`` (the start) asks to create it."""
    data = request.POST
    encoding = data.get("encoding") if data.get("encoding") in ENCODINGS else job.encoding
    delimiter = data.get("delimiter") if data.get("delimiter") in DELIMITERS else job.delimiter
    allowed = {value for value, _ in _choices(request)} - {""}
    mapping = {
        key.removeprefix("col-"): value
        for key, value in data.items()
        if key.startswith("col-") and value in allowed
    }
    group = None
    if data.get("new_group", "").strip():
        if new_group:
            group = create_group(company=request.company, name=data["new_group"])
        else:
            check_group_name(company=request.company, name=data["new_group"])
    elif data.get("group", "").isdecimal():
        group = groups_of(company=request.company).filter(pk=data["group"]).first()
    mode = data.get("mode") if data.get("mode") in ImportJob.Mode.values else job.mode
    return configure_import(
        job=job,
        encoding=encoding,
        delimiter=delimiter,
        mapping=mapping,
        default_country=(data.get("default_country") or job.default_country)[:2],
        group=group,
        mode=mode,
    )


def _progress(request: HttpRequest, job: ImportJob) -> HttpResponse:
    stalled = (
        job.status == ImportJob.Status.RUNNING
        and job.heartbeat_at is not None
        and timezone.now() - job.heartbeat_at > STALLED_AFTER
    )
    context = {"job": job, "stalled": stalled, "counts": job.counts}
    template = "addressbook/import_progress.html"
    if request.htmx:
        template += "#progress"
    return render(request, template, context)


@require_POST
@company_required
def import_resume(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_for_company(ImportJob.objects, request.company, pk=pk)
    if resume_import(job=job):
        messages.info(request, f"Going on with the rows not yet imported ({job.rows_done:,} done).")
    else:
        messages.warning(request, "This import is still running; it can be resumed once it stops.")
    return redirect("addressbook:import-detail", pk=job.pk)


@require_GET
@company_required
def import_rejected(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    job = get_for_company(ImportJob.objects, request.company, pk=pk)

    def rows():
        writer = line_writer()
        yield "\ufeff"
        yield writer.writerow(["Row", "Reason", *headers_of(job)])
        for rejection in job.rejections.order_by("row").iterator(chunk_size=2000):
            yield writer.writerow([rejection.row, rejection.reason, *rejection.values])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rejected-{job.pk}.csv"'
    return response
