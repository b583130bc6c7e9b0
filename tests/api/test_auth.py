"""``Authorization: Bearer <key>``: which keys open the API, and what the others are told."""

import pytest
import time_machine
from django.utils import timezone

from api.keys import create_api_key, revoke_api_key
from api.models import ApiKey
from tests.api.conftest import client_for

pytestmark = pytest.mark.urls("tests.api.probe")
PROBE = "/api/v1/probe"


def _refused(response, code: str, says: str) -> None:
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    error = response.json()["error"]
    assert error["code"] == code
    assert says in error["message"]
    assert error["fields"] == {}


def test_a_key_opens_its_own_company(api, company, issued_key):
    response = api.get(PROBE)
    assert response.status_code == 200
    assert response.json() == {"company": "Acme Coffee", "key": "CRM sync", "groups": 0}


def test_no_key_is_a_401_that_says_how_to_send_one(anonymous_api):
    _refused(anonymous_api.get(PROBE), "not_authenticated", "Authorization: Bearer <key>")


@pytest.mark.parametrize(
    ("header", "code", "says"),
    [
        ("Bearer", "invalid_key", "with no spaces in the key"),
        ("Bearer two parts", "invalid_key", "with no spaces in the key"),
        ("Basic dXNlcjpwYXNz", "invalid_key", "Authorization: Bearer <key>"),
        ("Token oab_0123456789ab_x", "invalid_key", "Authorization: Bearer <key>"),
        ("Bearer oab_0123456789ab_not-the-secret", "invalid_key", "not valid"),
        ("Bearer oab_nothex!!!!!!_x", "invalid_key", "not valid"),
        ("Bearer sk_live_123", "invalid_key", "not valid"),
        ("Bearer " + "x" * 10_000, "invalid_key", "not valid"),
    ],
)
def test_a_malformed_or_unknown_key_is_a_401(anonymous_api, issued_key, header, code, says):
    _refused(anonymous_api.get(PROBE, HTTP_AUTHORIZATION=header), code, says)


def test_a_key_with_a_wrong_secret_is_refused_though_its_prefix_exists(issued_key):
    forged = f"oab_{issued_key.key.prefix}_{'A' * 27}"
    _refused(client_for(forged).get(PROBE), "invalid_key", "not valid")


def test_a_key_whose_secret_holds_underscores_works(company):
    # The random part is URL-safe base64: about one key in three has an "_" in it.
    for _ in range(60):
        issued = create_api_key(company=company, name="Shop")
        if "_" in issued.secret.split("_", 2)[2]:
            break
    else:
        pytest.fail("no key with an underscore in 60")
    assert client_for(issued.secret).get(PROBE).status_code == 200


def test_a_revoked_key_is_a_401_that_says_when(api, issued_key):
    with time_machine.travel("2026-03-04 05:06:00Z"):
        revoke_api_key(key=issued_key.key)
    _refused(api.get(PROBE), "revoked_key", "revoked on 2026-03-04 05:06 UTC")


def test_an_expired_key_is_a_401_that_says_when(company):
    with time_machine.travel("2026-01-01 00:00:00Z"):
        issued = create_api_key(
            company=company, name="Trial", expires_at=timezone.now() + timezone.timedelta(days=1)
        )
    with time_machine.travel("2026-01-01 23:59:00Z"):
        assert client_for(issued.secret).get(PROBE).status_code == 200
    with time_machine.travel("2026-01-02 00:00:01Z"):
        _refused(client_for(issued.secret).get(PROBE), "expired_key", "expired on 2026-01-02")


def test_another_companys_key_sees_its_own_company(api, outsider_api, company):
    api.post(PROBE, {"name": "VIP"}, format="json")
    assert api.get(PROBE).json()["groups"] == 1
    assert outsider_api.get(PROBE).json() == {
        "company": "Globex Travel",
        "key": "Globex CRM",
        "groups": 0,
    }


def test_last_used_is_written_at_most_once_a_minute(api, issued_key):
    def last_used():
        return ApiKey.objects.get(pk=issued_key.key.pk).last_used_at

    assert last_used() is None
    with time_machine.travel("2026-05-01 10:00:00Z", tick=False):
        api.get(PROBE)
        first = last_used()
        assert first == timezone.now()
    with time_machine.travel("2026-05-01 10:00:59Z", tick=False):
        api.get(PROBE)
        assert last_used() == first
    with time_machine.travel("2026-05-01 10:01:01Z", tick=False):
        api.get(PROBE)
        assert last_used() == timezone.now()


def test_a_refused_key_is_not_marked_used(issued_key):
    revoke_api_key(key=issued_key.key)
    client_for(issued_key.secret).get(PROBE)
    assert ApiKey.objects.get(pk=issued_key.key.pk).last_used_at is None


def test_the_schema_and_docs_need_no_key(anonymous_api):
    assert anonymous_api.get("/api/v1/schema").status_code == 200
    assert anonymous_api.get("/api/v1/docs").status_code == 200
    security = anonymous_api.get("/api/v1/schema?format=json").json()["components"]
    assert security["securitySchemes"]["apiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": security["securitySchemes"]["apiKey"]["description"],
    }
