"""How rows of contact data become contacts: one set of rules for the file import and for
the API's bulk upsert, so that both match, reject and protect opt-outs the same way.

A batch of rows is read (addresses parsed, custom values checked), decided against the
company's contacts with two set-based lookups (by phone, then by email), and written with
bulk statements. Addresses are only ever added to a contact, never replaced, and nothing
here touches the suppression list: an upsert never brings anyone back.
"""

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

import phonenumbers
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ..addresses import InvalidAddress, Phone, normalize_email, parse_phone
from ..models import Company, Contact, CustomField, ImportJob

# Addresses among these that the company may not market to: supplied by the opt-out
# app (through settings for the import), since the address book knows nothing of opt-outs.
SuppressedOf = Callable[[Company, set[str]], set[str]]

UPDATE, SKIP = ImportJob.Mode.UPDATE, ImportJob.Mode.SKIP
DUPLICATE = "Same contact as an earlier row"
# One contact row's columns as the import and the upsert write them.
_INSERT_COLUMNS = (
    "company_id",
    "phone",
    "country",
    "email",
    "first_name",
    "last_name",
    "custom",
    "last_import_id",
    "created_at",
    "updated_at",
)
_UPDATE_FIELDS = [
    c.removesuffix("_id") for c in _INSERT_COLUMNS if c not in ("company_id", "created_at")
]
# Two concurrent upserts can both find an address free and both insert it; the loser
# decides again (and then finds the winner's contact) this many times.
_ATTEMPTS = 3
# pg_advisory_xact_lock(namespace, company id): one writer of a company's contacts in bulk
# at a time, so two batches never merge into the same contact from stale copies.
_LOCK_NAMESPACE = 0x0AB0
# Distinct (number cell, region) pairs a batch of rules keeps parsed; then it starts again.
PHONE_CACHE_SIZE = 5_000


@dataclass
class RowOutcome:
    row: int
    values: list[str]
    # created, updated, unchanged (matched, nothing new), skipped, duplicate, invalid
    outcome: str
    reason: str = ""
    contact: Contact | None = None
    fields: dict = field(default_factory=dict)
    opted_out: bool = False
    contact_id: int | None = None
    # Custom values left out of a row that was taken all the same, each as
    # "<field's label>: <what is wrong with the value>" (see ``UpsertRules.lenient_custom``).
    warnings: list[str] = field(default_factory=list)

    @property
    def warning(self) -> str:
        """The warnings as one line, as the import's issues file and preview say them."""
        return f"Imported without {'; '.join(self.warnings)}" if self.warnings else ""


@dataclass(frozen=True)
class UpsertRules:
    """What every row of one import or one request is decided with."""

    company: Company
    default_country: str
    custom_fields: dict[str, CustomField]
    mode: str = UPDATE
    # The import writing the rows: a later batch's row for a contact an earlier batch of
    # the same file wrote is a duplicate, found without holding the file's keys in memory.
    job: ImportJob | None = None
    group_id: int | None = None
    # A custom value that cannot be read leaves that field out of the row (empty on a new
    # contact, as it was on an existing one) with a warning, instead of rejecting the row:
    # a file of thousands of rows should not lose a person to one typo in a number. The
    # import asks for it; the API's upsert answers the caller, who can fix and resend.
    lenient_custom: bool = False
    # Numbers already read with these rules: (cell, region) → Phone, or why it is none.
    phones: dict[tuple[str, str], Phone | str] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def of(cls, company: Company, **options) -> "UpsertRules":
        fields = {f.key: f for f in CustomField.objects.filter(company=company)}
        options.setdefault("default_country", company.default_country)
        return cls(company=company, custom_fields=fields, **options)


def read_row(
    *,
    rules: UpsertRules,
    number: int,
    raw: dict[str, str],
    custom: dict[str, str],
    values: list[str] | None = None,
) -> RowOutcome:
    """One row's fields as a contact would hold them, or ``invalid`` with the reason.

    ``raw`` holds phone, email, first_name, last_name and country (for national numbers);
    ``custom`` the custom values by key.
    """
    values = values if values is not None else []

    def invalid(reason: str) -> RowOutcome:
        return RowOutcome(row=number, values=values, outcome="invalid", reason=reason)

    fields = {name: raw.get(name, "").strip()[:100] for name in ("first_name", "last_name")}
    region = raw.get("country", "").strip().upper()
    if region and region not in phonenumbers.SUPPORTED_REGIONS:
        region = ""
    fields["phone"] = fields["country"] = fields["email"] = ""
    if raw.get("phone", "").strip():
        try:
            phone = _parse_phone(rules, raw["phone"], region or rules.default_country)
        except InvalidAddress as exc:
            return invalid(str(exc))
        fields["phone"], fields["country"] = phone.e164, phone.region
    if raw.get("email", "").strip():
        try:
            fields["email"] = normalize_email(raw["email"])
        except InvalidAddress as exc:
            return invalid(str(exc))
    if not fields["phone"] and not fields["email"]:
        return invalid("No phone number or email address")
    cleaned, warnings = {}, []
    for key, value in custom.items():
        if not value.strip():
            continue
        if key not in rules.custom_fields:
            return invalid(f"{key}: there is no custom field with this key")
        try:
            cleaned[key] = clean_custom_value(rules.custom_fields[key], value)
        except ValueError as exc:
            # By the name the marketer gave the field, as the file's columns are mapped.
            problem = f"{rules.custom_fields[key].name}: {exc}"
            if not rules.lenient_custom:
                return invalid(problem)
            warnings.append(problem)
    fields["custom"] = cleaned
    return RowOutcome(
        row=number, values=values, outcome="pending", fields=fields, warnings=warnings
    )


def _parse_phone(rules: UpsertRules, cell: str, region: str) -> Phone:
    """parse_phone, once per distinct cell and region: a file repeats numbers."""
    found = rules.phones.get((cell, region))
    if found is None:
        try:
            found = parse_phone(cell, region)
        except InvalidAddress as exc:
            found = str(exc)
        if len(rules.phones) >= PHONE_CACHE_SIZE:
            rules.phones.clear()  # memory stays flat: the cache starts again
        rules.phones[(cell, region)] = found
    if isinstance(found, str):
        raise InvalidAddress(found)
    return found


def decide_rows(*, rules: UpsertRules, outcomes: list[RowOutcome]) -> list[RowOutcome]:
    """Match each read row to a contact (by phone, then by email) and say what becomes of it.

    Writes nothing: the preview of an import shows exactly this.
    """
    seen: set[str] = set()
    for outcome in outcomes:
        if outcome.outcome == "invalid":
            continue
        keys = {outcome.fields["phone"], outcome.fields["email"]} - {""}
        if keys & seen:
            outcome.outcome, outcome.reason = "duplicate", DUPLICATE
        seen |= keys
    valid = [o for o in outcomes if o.outcome == "pending"]
    by_phone = _contacts_by(rules.company, "phone", {o.fields["phone"] for o in valid})
    by_email = _contacts_by(rules.company, "email", {o.fields["email"] for o in valid})
    matched: set[int] = set()
    for o in valid:
        contact = by_phone.get(o.fields["phone"]) or by_email.get(o.fields["email"])
        if contact is None:
            o.outcome = "created"
            continue
        o.contact, o.contact_id = contact, contact.pk
        if (rules.job and contact.last_import_id == rules.job.pk) or contact.pk in matched:
            o.outcome, o.reason = "duplicate", DUPLICATE
            o.contact = o.contact_id = None
        elif rules.mode == SKIP:
            o.outcome = "skipped"
        else:
            changed = _merge(rules, contact, o.fields, by_phone, by_email)
            o.outcome = "updated" if changed else "unchanged"
        matched.add(contact.pk)
    return outcomes


def _contacts_by(company: Company, column: str, addresses: set[str]) -> dict[str, Contact]:
    """The company's contacts with these phones (or emails), by address: one statement
    on the partial unique index (no ordering, and its condition), whatever the batch.

    The database picks that index once its statistics know how many contacts the company
    has; an import growing a company keeps them fresh (see ``imports``).
    """
    contacts = Contact.objects.filter(company=company).exclude(**{column: ""})
    found = contacts.filter(**{f"{column}__any": list(addresses - {""})}).order_by()
    return {getattr(c, column): c for c in found}


def write_rows(
    *,
    rules: UpsertRules,
    outcomes: list[RowOutcome],
    suppressed_of: SuppressedOf | None = None,
    with_ids: bool = False,
) -> None:
    """Write the decided rows; the caller holds the transaction (see ``lock_contacts``).

    With ``with_ids`` (or a group to join) each created row gets its ``contact_id``.
    """
    created = [o for o in outcomes if o.outcome == "created"]
    updated = [o.contact for o in outcomes if o.outcome == "updated"]
    _insert_contacts(rules, [o.fields for o in created])
    _update_contacts(rules, updated)
    if created and (with_ids or rules.group_id):
        _find_created(rules.company, created)
    if rules.group_id:
        members = {o.contact_id for o in outcomes if o.contact_id} - {None}
        Contact.groups.through.objects.bulk_create(
            [Contact.groups.through(contact_id=pk, group_id=rules.group_id) for pk in members],
            ignore_conflicts=True,
        )
    mark_opted_out(rules.company, outcomes, suppressed_of)


def lock_contacts(company: Company) -> None:
    """Inside a transaction: wait until no other bulk write of this company's contacts runs.

    SQLite lets one writer in at a time anyway; PostgreSQL needs telling.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, company.pk])


def upsert_contacts(
    *,
    company: Company,
    rows: Iterable[tuple[dict[str, str], dict[str, str]]],
    mode: str = UPDATE,
    group_id: int | None = None,
    suppressed_of: SuppressedOf | None = None,
) -> list[RowOutcome]:
    """Create or update one contact per row, by the import's rules, in one transaction.

    ``rows`` are ``(fields, custom)`` pairs as ``read_row`` takes them, numbered from 1.
    Every row gets its outcome and, unless invalid or a duplicate, its contact's id. A
    matched contact where nothing would change is left alone (``unchanged``), so its
    ``updated_at`` only moves when its data does.
    """
    rows = list(rows)
    for attempt in range(1, _ATTEMPTS + 1):
        # Read outside the transaction: parsing 10,000 numbers holds no lock.
        rules = UpsertRules.of(company, mode=mode, group_id=group_id)
        outcomes = [
            read_row(rules=rules, number=n, raw=raw, custom=custom)
            for n, (raw, custom) in enumerate(rows, start=1)
        ]
        try:
            with transaction.atomic():
                lock_contacts(company)
                decide_rows(rules=rules, outcomes=outcomes)
                write_rows(
                    rules=rules, outcomes=outcomes, suppressed_of=suppressed_of, with_ids=True
                )
        except IntegrityError:
            # A single contact saved meanwhile took an address this batch meant to create:
            # decide again, and find it.
            if attempt == _ATTEMPTS:
                raise
        else:
            return outcomes
    raise AssertionError("unreachable")


def mark_opted_out(company: Company, outcomes: list[RowOutcome], suppressed_of) -> None:
    """Opted-out people stay opted out (suppression is kept by address); say which."""
    if suppressed_of is None:
        return
    taken = [o for o in outcomes if o.outcome in ("created", "updated", "unchanged", "skipped")]
    addresses = {a for o in taken for a in _addresses(o) if a}
    suppressed = suppressed_of(company, addresses) if addresses else set()
    for o in taken:
        o.opted_out = bool(_addresses(o) & suppressed)


def _addresses(outcome: RowOutcome) -> set[str]:
    found = {outcome.fields.get("phone"), outcome.fields.get("email")}
    if outcome.contact is not None:  # a matched contact keeps its own addresses
        found |= {outcome.contact.phone, outcome.contact.email}
    return found - {"", None}


def _insert_contacts(rules: UpsertRules, contacts: list[dict]) -> None:
    """New contacts in one statement stream: COPY on PostgreSQL, executemany elsewhere.

    Measured: building model instances through bulk_create cost more than reading and
    parsing the rows; the import only needs the rows written.
    """
    if not contacts:
        return
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    job_id = rules.job.pk if rules.job else None
    rows = [
        (
            rules.company.pk,
            c["phone"],
            c["country"],
            c["email"],
            c["first_name"],
            c["last_name"],
            json.dumps(c["custom"]),
            job_id,
            now,
            now,
        )
        for c in contacts
    ]
    table = Contact._meta.db_table
    columns = ", ".join(_INSERT_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(_INSERT_COLUMNS))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


def _update_contacts(rules: UpsertRules, contacts: list[Contact]) -> None:
    """Changed contacts in one statement: an UPDATE joined to the rows as arrays on
    PostgreSQL, executemany elsewhere.

    Measured: ``bulk_update`` builds a CASE per column with a branch per row, and 10,000
    updated contacts took it a minute; this takes well under a second.
    """
    if not contacts:
        return
    table = Contact._meta.db_table
    columns = [c for c in _INSERT_COLUMNS if c not in ("company_id", "created_at")]
    rows = [
        (
            c.phone,
            c.country,
            c.email,
            c.first_name,
            c.last_name,
            json.dumps(c.custom),
            c.last_import_id,
            connection.ops.adapt_datetimefield_value(c.updated_at),
        )
        for c in contacts
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            types = ["text"] * 5 + ["jsonb", "bigint", "timestamptz"]
            assignments = ", ".join(f"{name} = v.{name}" for name in columns)
            arrays = ", ".join(f"%s::{kind}[]" for kind in ["bigint", *types])
            cursor.execute(
                f"UPDATE {table} AS c SET {assignments} "
                f"FROM unnest({arrays}) AS v(id, {', '.join(columns)}) "
                "WHERE c.id = v.id AND c.company_id = %s",
                [[c.pk for c in contacts], *map(list, zip(*rows, strict=True)), rules.company.pk],
            )
        else:
            assignments = ", ".join(f"{name} = %s" for name in columns)
            cursor.executemany(
                f"UPDATE {table} SET {assignments} WHERE id = %s AND company_id = %s",
                [(*row, c.pk, rules.company.pk) for row, c in zip(rows, contacts, strict=True)],
            )


def _find_created(company: Company, created: list[RowOutcome]) -> None:
    """The ids COPY does not return, read back by the unique addresses just written."""
    mine = Contact.objects.filter(company=company).order_by()
    phones = [o.fields["phone"] for o in created if o.fields["phone"]]
    emails = [o.fields["email"] for o in created if not o.fields["phone"]]
    by_phone = dict(mine.exclude(phone="").filter(phone__any=phones).values_list("phone", "pk"))
    by_email = dict(mine.exclude(email="").filter(email__any=emails).values_list("email", "pk"))
    for o in created:
        o.contact_id = by_phone.get(o.fields["phone"]) or by_email.get(o.fields["email"])


def _merge(rules: UpsertRules, contact: Contact, fields: dict, by_phone, by_email) -> bool:
    """Fill in what the row brings; True when the contact changed. Addresses are only
    added, never replaced: replacing an opted-out address would make the person reachable
    again."""
    before = [getattr(contact, name) for name in _UPDATE_FIELDS if name != "updated_at"]
    if fields["phone"] and not contact.phone and fields["phone"] not in by_phone:
        contact.phone, contact.country = fields["phone"], fields["country"]
    if fields["email"] and not contact.email and fields["email"] not in by_email:
        contact.email = fields["email"]
    for name in ("first_name", "last_name"):
        if fields[name]:
            setattr(contact, name, fields[name])
    contact.custom = {**contact.custom, **fields["custom"]}
    if rules.job:
        contact.last_import = rules.job
    after = [getattr(contact, name) for name in _UPDATE_FIELDS if name != "updated_at"]
    if before == after:
        return False
    contact.updated_at = timezone.now()
    return True


MAX_NUMBER = Decimal(10) ** 15
_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y")


def clean_custom_value(custom_field: CustomField, value: str):
    """A custom field's value as stored: numbers as numbers, dates as ISO text."""
    value = value.strip()
    kind = custom_field.type
    if kind == CustomField.Type.NUMBER:
        try:
            number = Decimal(re.sub(r"\s", "", value).replace(",", "."))
            reasonable = number.is_finite() and abs(number) < MAX_NUMBER
        except ArithmeticError as exc:  # InvalidOperation, Overflow
            raise ValueError(f"“{value}” is not a number") from exc
        if not reasonable:
            raise ValueError(f"“{value}” is not a number between -10¹⁵ and 10¹⁵")
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == CustomField.Type.DATE:
        for pattern in _DATE_FORMATS:
            try:
                return dt.datetime.strptime(value, pattern).date().isoformat()
            except ValueError:
                continue
        raise ValueError(f"“{value}” is not a date (use YYYY-MM-DD or DD-MM-YYYY)")
    if kind == CustomField.Type.CHOICE:
        options = {o.casefold(): o for o in custom_field.options}
        if value.casefold() not in options:
            raise ValueError(f"“{value}” is not one of: {', '.join(custom_field.options)}")
        return options[value.casefold()]
    return value[:500]
