from django.http import HttpRequest


def current_company(request: HttpRequest) -> dict:
    company = getattr(request, "company", None)
    if company is None:
        return {}
    from .tenancy import companies_of

    membership = getattr(request, "membership", None)
    role = membership.role if membership else None
    # What the page may offer: a button the role cannot use is not shown.
    return {
        "company": company,
        "my_companies": companies_of(request.user),
        "role": role,
        "can_write": bool(membership and membership.has_role(membership.Role.MARKETER)),
        "is_owner": bool(membership and membership.has_role(membership.Role.OWNER)),
    }
