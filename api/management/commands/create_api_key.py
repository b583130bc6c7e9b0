from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from addressbook.models import Company
from api.keys import ApiKeyError, create_api_key


class Command(BaseCommand):
    help = (
        "Create an API key for a company and print it. The whole key is printed once and "
        "never stored: keep it where the program that uses it keeps its secrets."
    )

    def add_arguments(self, parser):
        parser.add_argument("company", help="The company's slug")
        parser.add_argument("name", help="What uses the key, such as 'CRM sync'")
        parser.add_argument(
            "--expires-in-days", type=int, metavar="N", help="Default: the key never expires"
        )
        parser.add_argument(
            "--rate-limit",
            type=int,
            metavar="N",
            help="Requests per minute for this key. Default: API_REQUESTS_PER_MINUTE",
        )

    def handle(self, *args, **options):
        slug = options["company"]
        company = Company.objects.filter(slug=slug).first()
        if company is None:
            known = ", ".join(Company.objects.order_by("slug").values_list("slug", flat=True)[:10])
            raise CommandError(
                f"No company with slug {slug!r}." + (f" Companies: {known}." if known else "")
            )
        days = options["expires_in_days"]
        if days is not None and days < 1:
            raise CommandError("--expires-in-days is at least 1.")
        try:
            issued = create_api_key(
                company=company,
                name=options["name"],
                expires_at=timezone.now() + timedelta(days=days) if days else None,
                rate_limit=options["rate_limit"],
            )
        except ApiKeyError as exc:
            raise CommandError(str(exc)) from exc
        key = issued.key
        expiry = f"expires {key.expires_at:%Y-%m-%d %H:%M %Z}" if key.expires_at else "no expiry"
        self.stderr.write(
            f"Created the API key “{key.name}” for {company.name} ({expiry}). "
            "It is shown once, here:"
        )
        # The secret alone on stdout, so that `$(manage.py create_api_key …)` captures it.
        self.stdout.write(issued.secret)
