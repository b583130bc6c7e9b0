"""The request's company: every dashboard query starts from it."""

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from django.contrib.auth.decorators import login_required
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect

from .models import Company, Membership

SESSION_KEY = "company_id"
M = TypeVar("M", bound=Model)


def companies_of(user) -> QuerySet[Company]:
    return Company.objects.filter(memberships__user=user).order_by("name")


def resolve_company(request: HttpRequest) -> Company | None:
    companies = companies_of(request.user)
    chosen = request.session.get(SESSION_KEY)
    company = companies.filter(pk=chosen).first() if chosen else None
    return company or companies.first()


def switch_company(request: HttpRequest, company_id: int) -> Company:
    if not Membership.objects.filter(user=request.user, company_id=company_id).exists():
        raise Http404("No such company.")
    request.session[SESSION_KEY] = company_id
    return Company.objects.get(pk=company_id)


def company_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Log-in required, and ``request.company`` set from the user's memberships."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        company = resolve_company(request)
        if company is None:
            return redirect("no-company")
        request.company = company
        return view(request, *args, **kwargs)

    return wrapper


def get_for_company(queryset: QuerySet[M], company: Company, **lookup) -> M:
    """Another company's row is a 404, never a 403 that confirms it exists."""
    return get_object_or_404(queryset, company=company, **lookup)
