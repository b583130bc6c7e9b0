"""The API keys screen: owners create a key, see its secret once, and revoke it."""

import re

import pytest
import time_machine
from django.utils import timezone

from addressbook.models import AuditEvent
from api.models import ApiKey
from tests.api.conftest import client_for

URL = "/integrations/api-keys/"
# An endpoint that needs a key, beside the project's URLs.
pytestmark = pytest.mark.urls("tests.api.probe")


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def _create(client, name="CRM sync", expires=""):
    return client.post(URL, {"name": name, "expires_in_days": expires})


def _secret(page: str) -> str:
    return re.search(r'value="(oab_[^"]+)"', page).group(1)


def test_owner_creates_a_key_and_sees_the_secret_once(owner_client, owner, company):
    response = _create(owner_client)
    key = ApiKey.objects.get(company=company)
    assert response.status_code == 302
    assert response["Location"] == f"/integrations/api-keys/{key.pk}/created/"

    shown = owner_client.get(response["Location"])
    page = shown.content.decode()
    secret = _secret(page)
    assert secret.startswith(f"oab_{key.prefix}_")
    assert "only time the whole key is shown" in page
    assert "no-store" in shown["Cache-Control"]
    # The secret works against the API.
    assert client_for(secret).get("/api/v1/probe").status_code == 200

    again = owner_client.get(response["Location"]).content.decode()
    assert secret not in again and "cannot be shown again" in again
    assert secret not in owner_client.get(URL).content.decode()
    event = AuditEvent.objects.get(company=company, action=AuditEvent.Action.API_KEY_CREATED)
    assert (event.actor, event.target) == (owner, f"CRM sync (oab_{key.prefix}_…)")


def test_the_list_shows_each_key_with_its_state(owner_client, owner, company):
    now = timezone.now()
    active = _create(owner_client, "Shop").url
    with time_machine.travel(now):
        _create(owner_client, "Old CRM", expires="7")
    _create(owner_client, "Leaked")
    leaked = ApiKey.objects.get(company=company, name="Leaked")
    owner_client.post(f"{URL}{leaked.pk}/revoke/")
    ApiKey.objects.filter(company=company, name="Shop").update(last_used_at=now)

    with time_machine.travel(now + timezone.timedelta(days=8)):
        page = owner_client.get(URL).content.decode()
    rows = {
        name: row
        for row in re.findall(r"<tr>(.*?)</tr>", page, re.S)
        for name in ("Shop", "Old CRM", "Leaked")
        if f"<td>{name}<br>" in row
    }
    assert ">Active<" in rows["Shop"] and "Revoke" in rows["Shop"]
    assert ">Expired<" in rows["Old CRM"] and "Revoke" not in rows["Old CRM"]
    assert ">Revoked<" in rows["Leaked"] and "Revoke</button>" not in rows["Leaked"]
    shop = ApiKey.objects.get(company=company, name="Shop")
    assert f"oab_<wbr>{shop.prefix}_…" in rows["Shop"]
    assert owner.username in rows["Shop"]
    assert "Never" in rows["Old CRM"]  # never used
    assert active  # the first key's page was reached


def test_revoked_key_gets_401_and_a_second_revoke_changes_nothing(owner_client, company):
    page = owner_client.get(_create(owner_client).url).content.decode()
    secret = _secret(page)
    key = ApiKey.objects.get(company=company)

    response = owner_client.post(f"{URL}{key.pk}/revoke/", follow=True)
    assert "is revoked" in response.content.decode()
    assert client_for(secret).get("/api/v1/probe").status_code == 401
    again = owner_client.post(f"{URL}{key.pk}/revoke/", follow=True).content.decode()
    assert "was already revoked" in again
    assert AuditEvent.objects.filter(action=AuditEvent.Action.API_KEY_REVOKED).count() == 1


@pytest.mark.parametrize(
    ("name", "expires", "message"),
    [
        ("   ", "", "Give the key a name"),
        ("x" * 81, "", "at most 80 characters"),
        ("CRM", "3650000", "Choose when the key expires"),
        ("CRM", "-1", "Choose when the key expires"),
    ],
)
def test_a_key_that_cannot_be_made_is_a_400_that_says_why(
    owner_client, company, name, expires, message
):
    response = _create(owner_client, name, expires)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ApiKey.objects.filter(company=company).exists()


def test_a_key_that_expires_stops_working_then(owner_client, company):
    now = timezone.now()
    with time_machine.travel(now):
        secret = _secret(owner_client.get(_create(owner_client, expires="30").url).content.decode())
    with time_machine.travel(now + timezone.timedelta(days=29, hours=23)):
        assert client_for(secret).get("/api/v1/probe").status_code == 200
    with time_machine.travel(now + timezone.timedelta(days=30, minutes=1)):
        response = client_for(secret).get("/api/v1/probe")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "expired_key"


@pytest.mark.parametrize("persona", ["marketer", "viewer"])
def test_only_owners_reach_the_keys(client, company, issued_key, persona, request):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(URL).status_code == 403
    assert _create(client).status_code == 403
    assert client.post(f"{URL}{issued_key.key.pk}/revoke/").status_code == 403
    assert ApiKey.objects.get(pk=issued_key.key.pk).revoked_at is None
    assert "API keys" not in client.get("/contacts/").content.decode()


def test_owner_sees_the_nav_link(owner_client):
    page = owner_client.get("/contacts/").content.decode()
    assert f'href="{URL}"' in page


def test_other_companys_key_is_a_404(client, outsider, company, issued_key):
    from addressbook.models import Membership

    Membership.objects.filter(user=outsider).update(role=Membership.Role.OWNER)
    client.force_login(outsider)
    assert client.post(f"{URL}{issued_key.key.pk}/revoke/").status_code == 404
    assert client.get(f"{URL}{issued_key.key.pk}/created/").status_code == 404
    assert issued_key.key.prefix not in client.get(URL).content.decode()
    assert ApiKey.objects.get(pk=issued_key.key.pk).revoked_at is None


def test_the_secret_is_shown_only_for_the_key_just_made(owner_client, company, issued_key):
    made = _create(owner_client, "Shop")
    page = owner_client.get(f"{URL}{issued_key.key.pk}/created/").content.decode()
    assert "oab_" + issued_key.key.prefix in page and 'value="oab_' not in page
    assert _secret(owner_client.get(made.url).content.decode()).startswith("oab_")
