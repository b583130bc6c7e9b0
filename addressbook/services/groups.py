from collections.abc import Iterable
from itertools import islice

from django.db import IntegrityError, transaction

from ..models import Company, Contact, Group


class GroupError(ValueError):
    pass


def create_group(*, company: Company, name: str) -> Group:
    name = name.strip()
    if not name:
        raise GroupError("Give the group a name.")
    try:
        with transaction.atomic():
            return Group.objects.create(company=company, name=name[:100])
    except IntegrityError as exc:
        raise GroupError(f"There is already a group called “{name}”.") from exc


def rename_group(*, group: Group, name: str) -> Group:
    name = name.strip()
    if not name:
        raise GroupError("Give the group a name.")
    if Group.objects.filter(company=group.company, name=name).exclude(pk=group.pk).exists():
        raise GroupError(f"There is already a group called “{name}”.")
    group.name = name[:100]
    group.save(update_fields=["name"])
    return group


def delete_group(*, group: Group) -> None:
    """The group goes; its contacts stay."""
    group.delete()


def add_to_group(*, group: Group, contact_ids: Iterable[int], batch_size: int = 5000) -> int:
    """Add contacts in bulk (ids from the group's own company only); returns how many."""
    Member = Contact.groups.through
    ids, added = iter(contact_ids), 0
    while batch := list(islice(ids, batch_size)):
        mine = Contact.objects.filter(company_id=group.company_id, pk__in=batch).values_list(
            "pk", flat=True
        )
        rows = [Member(group_id=group.pk, contact_id=pk) for pk in mine]
        Member.objects.bulk_create(rows, ignore_conflicts=True)
        added += len(rows)
    return added


def remove_from_group(*, group: Group, contact_ids: Iterable[int], batch_size: int = 5000) -> int:
    Member = Contact.groups.through
    ids, removed = iter(contact_ids), 0
    while batch := list(islice(ids, batch_size)):
        removed += Member.objects.filter(group_id=group.pk, contact_id__in=batch).delete()[0]
    return removed
