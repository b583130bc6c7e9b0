import unicodedata

import phonenumbers
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from addressbook.models import Company, Contact, Membership

PASSWORD = "demo-pass-2026"

NAMES = {
    "NL": [
        "Sanne de Vries",
        "Daan Jansen",
        "Emma Bakker",
        "Lucas Visser",
        "Julia Smit",
        "Sem Meijer",
        "Tess Mulder",
        "Finn de Boer",
    ],
    "FR": [
        "Camille Martin",
        "Léa Bernard",
        "Hugo Dubois",
        "Chloé Moreau",
        "Louis Laurent",
        "Manon Lefèvre",
        "Jules Girard",
    ],
    "GB": [
        "Olivia Smith",
        "Harry Jones",
        "Amelia Taylor",
        "George Brown",
        "Isla Wilson",
        "Jack Evans",
        "Ava Thomas",
    ],
    "DE": [
        "Mia Müller",
        "Leon Schmidt",
        "Hannah Schneider",
        "Paul Fischer",
        "Lena Weber",
        "Felix Wagner",
        "Marie Becker",
    ],
    "BE": [
        "Lotte Peeters",
        "Noah Janssens",
        "Elise Maes",
        "Arthur Jacobs",
        "Louise Willems",
        "Victor Claes",
        "Nina Goossens",
    ],
    "ZA": [
        "Thandi Nkosi",
        "Sipho Dlamini",
        "Naledi Mokoena",
        "Johan van Wyk",
        "Lerato Khumalo",
        "Pieter Botha",
        "Ayanda Zulu",
    ],
    "US": [
        "Emily Johnson",
        "Michael Williams",
        "Sophia Garcia",
        "James Miller",
        "Ava Davis",
        "Ethan Rodriguez",
        "Mia Martinez",
    ],
    # Australia's rule has a link and no sending hours: whatever the hour the trial is run
    # at, these SMS go at once and carry the link to the landing page.
    "AU": [
        "Charlotte Wilson",
        "Oliver Nguyen",
        "Ruby Campbell",
        "William Kelly",
        "Matilda Ryan",
        "Jack O'Brien",
        "Zoe Murphy",
    ],
}


def mobile_numbers(region: str, count: int) -> list[str]:
    """Valid mobile numbers of ``region``, made from its example number."""
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    national = str(example.national_number)
    found, tail = [], 0
    while len(found) < count:
        tail += 1
        candidate = phonenumbers.parse(f"+{example.country_code}{national[:-3]}{tail:03d}")
        if phonenumbers.is_valid_number(candidate):
            found.append(phonenumbers.format_number(candidate, phonenumbers.PhoneNumberFormat.E164))
    return found


COMPANY_NAMES = {"acme": "Acme Coffee", "globex": "Globex Travel"}


def _users() -> list[tuple[str, str, list[str], str, bool]]:
    """(username, email, company slugs, role, staff) of the demo's people."""
    Role = Membership.Role
    return [
        ("anna", "anna@acme.example", ["acme"], Role.OWNER, False),
        ("marco", "marco@acme.example", ["acme"], Role.MARKETER, False),
        ("vera", "vera@acme.example", ["acme"], Role.VIEWER, False),
        ("bruno", "bruno@globex.example", ["globex"], Role.OWNER, False),
        ("admin", "admin@example.com", ["acme", "globex"], Role.OWNER, True),
    ]


def _ascii(name: str) -> str:
    bare = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(c for c in bare.lower() if c.isalnum())


class Command(BaseCommand):
    help = "Create a demo: two companies, their marketers, a staff admin and 57 contacts."

    def add_arguments(self, parser):
        parser.add_argument(
            "--logins",
            action="store_true",
            help="Only print the logins of the demo users there are; change nothing.",
        )

    def handle(self, *args, **options):
        if options["logins"]:
            self.print_logins(existing_only=True)
        else:
            self.seed()
            self.stdout.write(self.style.SUCCESS("Demo ready at http://127.0.0.1:8000/"))
            self.print_logins()

    def print_logins(self, *, existing_only: bool = False) -> None:
        users = _users()
        if existing_only:
            there = set(
                get_user_model()
                .objects.filter(username__in=[u[0] for u in users])
                .values_list("username", flat=True)
            )
            users = [u for u in users if u[0] in there]
        if not users:
            return
        self.stdout.write("Demo logins:")
        for username, _, slugs, role, staff in users:
            where = ", ".join(COMPANY_NAMES[slug] for slug in slugs)
            what = "staff admin (/admin/)" if staff else role.label.lower()
            self.stdout.write(f"  {username} / {PASSWORD}  — {what}, {where}")

    @transaction.atomic
    def seed(self) -> None:
        acme, _ = Company.objects.get_or_create(
            slug="acme",
            defaults={
                "name": COMPANY_NAMES["acme"],
                "default_country": "NL",
                "sms_sender": "AcmeCoffee",
                "help_contact": "help@acme.example",
            },
        )
        globex, _ = Company.objects.get_or_create(
            slug="globex",
            defaults={
                "name": COMPANY_NAMES["globex"],
                "default_country": "FR",
                "sms_sender": "Globex",
            },
        )
        companies_by_slug = {"acme": acme, "globex": globex}
        User = get_user_model()
        for username, email, slugs, role, staff in _users():
            companies = [companies_by_slug[slug] for slug in slugs]
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"email": email, "is_staff": staff, "is_superuser": staff},
            )
            if created:
                user.set_password(PASSWORD)
                user.save()
            for company in companies:
                # The demo's roles are as the README says, also in a trial seeded before.
                Membership.objects.update_or_create(
                    user=user, company=company, defaults={"role": role}
                )

        for company, per_country in ((acme, 8), (globex, 3)):
            for region, names in NAMES.items():
                chosen = names[:per_country]
                for name, phone in zip(chosen, mobile_numbers(region, len(chosen)), strict=True):
                    first, _, last = name.partition(" ")
                    email = f"{_ascii(first)}.{_ascii(last)}@{region.lower()}.example"
                    Contact.objects.get_or_create(
                        company=company,
                        phone=phone,
                        defaults={
                            "country": region,
                            "first_name": first,
                            "last_name": last,
                            "email": email,
                        },
                    )
