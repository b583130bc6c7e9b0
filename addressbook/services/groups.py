from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice

from django.db import IntegrityError, transaction

from ..models import Company, Contact, Group


class GroupError(ValueError):
    """``code`` is ``taken`` when another group has the name, else ``invalid``."""

    def __init__(self, message: str, *, code: str = "invalid"):
        super().__init__(message)
        self.code = code


@dataclass
class MembershipChange:
    """What adding or removing a list of contact ids did to a group."""

    changed: int = 0  # added, or removed
    unchanged: int = 0  # already members, or already not
    # Ids that are no contact of the group's company: left alone, and said so.
    unknown: list[int] = field(default_factory=list)


def create_group(*, company: Company, name: str) -> Group:
    name = name.strip()
    if not name:
        raise GroupError("Give the group a name.")
    try:
        with transaction.atomic():
            return Group.objects.create(company=company, name=name[:100])
    except IntegrityError as exc:
        raise GroupError(f"There is already a group called “{name}”.", code="taken") from exc


def check_group_name(*, company: Company, name: str) -> None:
    """What ``create_group`` would refuse, said before anything is created."""
    name = name.strip()
    if not name:
        raise GroupError("Give the group a name.")
    if Group.objects.filter(company=company, name=name[:100]).exists():
        raise GroupError(f"There is already a group called “{name}”.", code="taken")


def rename_group(*, group: Group, name: str) -> Group:
    name = name.strip()
    if not name:
        raise GroupError("Give the group a name.")
    if Group.objects.filter(company=group.company, name=name).exclude(pk=group.pk).exists():
        raise GroupError(f"There is already a group called “{name}”.", code="taken")
    group.name = name[:100]
    group.save(update_fields=["name"])
    return group


def delete_group(*, group: Group) -> None:
    """The group goes; its contacts stay."""
    group.delete()


def add_to_group(
    *, group: Group, contact_ids: Iterable[int], batch_size: int = 5000
) -> MembershipChange:
    """Add contacts in bulk, ids of the group's own company only; others are reported."""
    Member = Contact.groups.through
    ids, change = iter(contact_ids), MembershipChange()
    while batch := list(dict.fromkeys(islice(ids, batch_size))):
        mine = set(
            Contact.objects.filter(company_id=group.company_id, pk__in=batch).values_list(
                "pk", flat=True
            )
        )
        already = set(
            Member.objects.filter(group_id=group.pk, contact_id__in=mine).values_list(
                "contact_id", flat=True
            )
        )
        rows = [Member(group_id=group.pk, contact_id=pk) for pk in mine - already]
        Member.objects.bulk_create(rows, ignore_conflicts=True)
        change.changed += len(rows)
        change.unchanged += len(already)
        change.unknown += [pk for pk in batch if pk not in mine]
    return change


def remove_from_group(
    *, group: Group, contact_ids: Iterable[int], batch_size: int = 5000
) -> MembershipChange:
    Member = Contact.groups.through
    ids, change = iter(contact_ids), MembershipChange()
    while batch := list(dict.fromkeys(islice(ids, batch_size))):
        mine = set(
            Contact.objects.filter(company_id=group.company_id, pk__in=batch).values_list(
                "pk", flat=True
            )
        )
        removed = Member.objects.filter(group_id=group.pk, contact_id__in=mine).delete()[0]
        change.changed += removed
        change.unchanged += len(mine) - removed
        change.unknown += [pk for pk in batch if pk not in mine]
    return change
