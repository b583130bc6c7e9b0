"""The request's company: every dashboard query starts from it."""

from collections.abc import Callable
from functools import partial, wraps
from typing import TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone

from .models import ROLE_RANK, Company, Membership
from .scoping import tenant_scope

SESSION_KEY = "company_id"
M = TypeVar("M", bound=Model)
Role = Membership.Role
# Methods that change nothing: every member may use them, unless a view asks for more.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def companies_of(user) -> QuerySet[Company]:
    return Company.objects.filter(memberships__user=user).order_by("name")


def resolve_membership(request: HttpRequest) -> Membership | None:
    """The user's membership in the chosen company, else in their first one."""
    memberships = (
        Membership.objects.filter(user=request.user)
        .select_related("company")
        .order_by("company__name", "company_id")
    )
    chosen = request.session.get(SESSION_KEY)
    membership = memberships.filter(company_id=chosen).first() if chosen else None
    return membership or memberships.first()


def resolve_company(request: HttpRequest) -> Company | None:
    membership = resolve_membership(request)
    return membership.company if membership else None


def switch_company(request: HttpRequest, company_id: int) -> Company:
    if not Membership.objects.filter(user=request.user, company_id=company_id).exists():
        raise Http404("No such company.")
    request.session[SESSION_KEY] = company_id
    return Company.objects.get(pk=company_id)


def company_required(
    view: Callable[..., HttpResponse] | None = None,
    *,
    role: str = Role.VIEWER,
    writes: str = Role.MARKETER,
) -> Callable[..., HttpResponse]:
    """Log-in required; ``request.company`` and ``request.membership`` set from it.

    Roles fail closed: any member may read, but an unsafe method (POST, PUT, PATCH,
    DELETE) needs at least ``writes`` (a marketer) unless the view lowers it, and
    ``role`` raises the bar for every method: ``@company_required(role=Role.OWNER)``.
    A member without the role gets a 403 that says why, before the view runs.
    """
    if view is None:
        return partial(company_required, role=role, writes=writes)

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        membership = resolve_membership(request)
        if membership is None:
            return redirect("no-company")
        company = membership.company
        request.company = company
        request.membership = membership
        needed = role if request.method in SAFE_METHODS else max(role, writes, key=ROLE_RANK.get)
        if not membership.has_role(needed):
            raise PermissionDenied(role_refusal(membership=membership, needed=needed))
        # Every tenant query the view makes must pin this company (addressbook.scoping);
        # every time the page shows is in the company's zone, as its schedules are.
        with tenant_scope(company), timezone.override(company.timezone):
            return view(request, *args, **kwargs)

    return wrapper


def role_refusal(*, membership: Membership, needed: str) -> str:
    company = membership.company
    message = (
        f"This needs the {Role(needed).label.lower()} role in {company}, and you are a "
        f"{membership.get_role_display().lower()}."
    )
    if membership.role == Role.VIEWER:
        message += " Viewers can look at everything but change nothing."
    return f"{message} An owner of {company} can change your role."


def request_ip(request: HttpRequest) -> str | None:
    """The client's address for the audit log (config.proxy has set it behind a proxy)."""
    return request.META.get("REMOTE_ADDR")


def get_for_company(queryset: QuerySet[M], company: Company, **lookup) -> M:
    """Another company's row is a 404, never a 403 that confirms it exists."""
    return get_object_or_404(queryset, company=company, **lookup)
