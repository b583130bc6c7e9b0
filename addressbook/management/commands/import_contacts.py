import sys
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string

from addressbook.csvfiles import DELIMITERS, ENCODINGS, FileProblem
from addressbook.models import Company, ImportJob
from addressbook.services.groups import GroupError, create_group
from addressbook.services.imports import (
    ImportProblem,
    configure_import,
    create_import,
    headers_of,
    run_import,
)


class Command(BaseCommand):
    help = (
        "Import contacts from a CSV file into a company, as the dashboard's import does: "
        "upsert on phone, else email; opted-out people stay opted out."
    )

    def add_arguments(self, parser):
        parser.add_argument("company", help="The company's slug")
        parser.add_argument("file", type=Path)
        parser.add_argument("--country", help="Region of numbers without a country code")
        parser.add_argument("--group", help="Add the contacts to this group (made if missing)")
        parser.add_argument("--mode", choices=ImportJob.Mode.values, default="update")
        parser.add_argument("--encoding", choices=list(ENCODINGS), help="Default: detected")
        parser.add_argument("--delimiter", help="Default: detected (, ; tab |)")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="COLUMN=FIELD",
            help="Column header (or 0-based index) to field: phone, email, first_name, "
            "last_name, country, custom:<key>. Default: suggested from the headers.",
        )

    def handle(self, *args, **options):
        try:
            company = Company.objects.get(slug=options["company"])
        except Company.DoesNotExist as exc:
            raise CommandError(f"No company with slug {options['company']!r}") from exc
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            with open(path, "rb") as handle:
                job = create_import(company=company, upload=File(handle, name=path.name))
            job = configure_import(
                job=job,
                encoding=options["encoding"] or job.encoding,
                delimiter=_delimiter(options["delimiter"]) or job.delimiter,
                mapping=_mapping(options["map"], headers_of(job)) or job.mapping,
                default_country=options["country"] or company.default_country,
                group=_group(company, options["group"]),
                mode=options["mode"],
            )
        except (FileProblem, ImportProblem, GroupError) as exc:
            raise CommandError(str(exc)) from exc
        headers = headers_of(job)
        for index, field in sorted(job.mapping.items(), key=lambda kv: int(kv[0])):
            self.stderr.write(f"  {headers[int(index)]!r} → {field}")
        job = run_import(
            job_id=job.pk,
            suppressed_of=import_string(settings.ADDRESSBOOK_SUPPRESSED_OF),
            progress=self._progress,
        )
        self.stderr.write("")
        if job.status == ImportJob.Status.FAILED:
            raise CommandError(job.error)
        counts = ", ".join(f"{n} {name}" for name, n in sorted(job.counts.items()))
        self.stdout.write(self.style.SUCCESS(f"Imported {job.rows_done} rows: {counts}"))
        if job.counts.get("invalid"):
            self.stdout.write(f"Rejected rows and reasons: admin, import job #{job.pk}")

    def _progress(self, job: ImportJob) -> None:
        total = job.rows_total or 1
        width = 30
        filled = width * job.rows_done // total
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write(f"\r[{bar}] {job.rows_done}/{job.rows_total} rows")
        sys.stderr.flush()


def _delimiter(value: str | None) -> str | None:
    if value is None:
        return None
    value = "\t" if value in ("tab", "\\t") else value
    if value not in DELIMITERS:
        raise CommandError("The delimiter is one of: , ; tab |")
    return value


def _mapping(pairs: list[str], headers: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        column, _, field = pair.partition("=")
        if column.isdigit():
            index = int(column)
        elif column in headers:
            index = headers.index(column)
        else:
            raise CommandError(f"No column {column!r}; the columns are: {', '.join(headers)}")
        mapping[str(index)] = field
    return mapping


def _group(company: Company, name: str | None):
    if not name:
        return None
    return company.groups.filter(name=name).first() or create_group(company=company, name=name)
