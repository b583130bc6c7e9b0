"""An API client per persona: the company's key, and another company's key."""

import pytest
from rest_framework.test import APIClient

from api.keys import create_api_key


def client_for(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def issued_key(company, owner):
    return create_api_key(company=company, name="CRM sync", created_by=owner)


@pytest.fixture
def api(issued_key) -> APIClient:
    """The company's integration, holding its key."""
    return client_for(issued_key.secret)


@pytest.fixture
def outsider_api(other_company) -> APIClient:
    """Another company's integration, holding that company's key."""
    return client_for(create_api_key(company=other_company, name="Globex CRM").secret)


@pytest.fixture
def anonymous_api() -> APIClient:
    return APIClient()
