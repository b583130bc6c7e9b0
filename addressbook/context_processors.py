from django.http import HttpRequest


def current_company(request: HttpRequest) -> dict:
    company = getattr(request, "company", None)
    if company is None:
        return {}
    from .tenancy import companies_of

    return {"company": company, "my_companies": companies_of(request.user)}
