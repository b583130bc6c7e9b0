"""Fail-closed tenancy: inside a company's scope, a query that forgets the company raises.

Every dashboard query must start from the request's company. ``company_required`` opens
``tenant_scope(company)`` around the view; while it is open, evaluating a queryset of a
tenant model (any model whose rows carry a ``company``: its manager is ``TenantManager``)
raises ``TenantScopeError`` unless its WHERE clause pins ``company`` to the scope's company,
directly (``company=…``, ``company_id=…``) or through a join (``contact__company=…``). A
forgotten filter, a bare related manager (``contact.groups.all()``) or another company's
id is an error in tests and a 500 in production, never a leak. The check reads the
compiled WHERE tree: only conditions every returned row must meet count (an ``OR`` counts
where all its branches pin the company; a negated condition never does).

Not checked: writes that name no existing rows (``create``, ``bulk_create``), which set
the company themselves; Django's own base-manager reads (``message.contact``,
``refresh_from_db``, the deletion collector), which follow a row already in hand; and a
streamed body (the CSV export), read after the view has returned and its scope closed.

Outside a scope nothing changes: workers, the admin, management commands and the public
pages run with no company of a request and keep their own filters. The rare deliberate
cross-company read inside a scope says why, where a reviewer can grep for it::

    with unscoped(reason="…"):
        ...

Why not django-scopes: it refuses every query outside a scope, so every task, admin page,
webhook and landing page would need ``scopes_disabled()``; and inside a scope it adds the
filter itself, so a query naming another company's id quietly returns nothing instead of
showing the mistake. This module keeps its rule (a scoped model is never read without its
tenant) while leaving the code outside requests as it is.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import models
from django.db.models.expressions import Col
from django.db.models.lookups import Exact, In
from django.db.models.sql.where import AND, OR, WhereNode

TENANT_FIELD = "company"

# The id of the company whose scope is open in this thread or task; None outside one.
_scope: ContextVar[int | None] = ContextVar("tenant_scope", default=None)


class TenantScopeError(RuntimeError):
    """A tenant model was queried, inside a company's scope, without that company."""


@contextmanager
def tenant_scope(company: models.Model) -> Iterator[None]:
    token = _scope.set(company.pk)
    try:
        yield
    finally:
        _scope.reset(token)


@contextmanager
def unscoped(*, reason: str) -> Iterator[None]:
    """Suspend the scope for a deliberate cross-company query; ``reason`` says why."""
    token = _scope.set(None)
    try:
        yield
    finally:
        _scope.reset(token)


def active_company_id() -> int | None:
    return _scope.get()


def _is_tenant_column(expression: object) -> bool:
    if not isinstance(expression, Col):
        return False
    field = expression.target
    return (
        field.name == TENANT_FIELD
        and field.is_relation
        and field.related_model._meta.label == "addressbook.Company"
    )


def _pins(node: object, company_id: int) -> bool:
    """True when every row that meets ``node`` belongs to ``company_id``."""
    if isinstance(node, WhereNode):
        if node.negated or not node.children:
            return False
        if node.connector == AND:
            return any(_pins(child, company_id) for child in node.children)
        if node.connector == OR:
            return all(_pins(child, company_id) for child in node.children)
        return False
    if isinstance(node, Exact) and _is_tenant_column(node.lhs):
        return node.rhs == company_id
    if isinstance(node, In) and _is_tenant_column(node.lhs):
        # A subquery or an expression is not a value this check can vouch for.
        return isinstance(node.rhs, list | set | tuple) and set(node.rhs) == {company_id}
    return False


def _sql_of(query) -> str:
    try:
        return str(query)
    except (EmptyResultSet, FullResultSet):  # a WHERE that compiles to nothing or all
        return "(a query that matches no rows or every row)"


def pins_company(query, company_id: int) -> bool:
    if query.is_empty():
        return True
    if query.combinator:
        return all(pins_company(part, company_id) for part in query.combined_queries)
    return _pins(query.where, company_id)


class TenantQuerySet(models.QuerySet):
    """A queryset that, inside a company's scope, is only evaluated for that company."""

    def _check_scope(self) -> None:
        company_id = _scope.get()
        if company_id is None or pins_company(self.query, company_id):
            return
        raise TenantScopeError(
            f"{self.model._meta.label} was queried without its company inside the scope of "
            f"company {company_id}: filter on company (or a join to it, such as "
            f"contact__company), or wrap a deliberate cross-company query in "
            f"unscoped(reason=...). Query: {_sql_of(self.query)}"
        )

    def _fetch_all(self) -> None:
        if self._result_cache is None:
            self._check_scope()
        super()._fetch_all()

    def iterator(self, chunk_size: int | None = None):
        self._check_scope()
        return super().iterator(chunk_size)

    def count(self) -> int:
        if self._result_cache is None:
            self._check_scope()
        return super().count()

    def exists(self) -> bool:
        if self._result_cache is None:
            self._check_scope()
        return super().exists()

    def aggregate(self, *args, **kwargs) -> dict:
        self._check_scope()
        return super().aggregate(*args, **kwargs)

    def update(self, **kwargs) -> int:
        self._check_scope()
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        self._check_scope()
        return super().delete()


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    """The manager of every model with a ``company``: see the module's docstring."""
