"""``manage.py create_api_key``: a key for staff and scripts, printed once."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.management import CommandError, call_command

from addressbook.models import AuditEvent
from api.models import ApiKey
from tests.api.conftest import client_for

pytestmark = pytest.mark.urls("tests.api.probe")


def test_the_command_prints_a_working_key_once(company, capsys):
    call_command("create_api_key", company.slug, "Nightly export")
    out, err = capsys.readouterr()
    secret = out.strip()
    key = ApiKey.objects.get(company=company)
    assert secret.startswith(f"oab_{key.prefix}_") and "\n" not in secret
    assert "Nightly export" in err and "Acme Coffee" in err and "no expiry" in err
    assert (key.name, key.created_by, key.expires_at, key.rate_limit) == (
        "Nightly export",
        None,
        None,
        None,
    )
    assert client_for(secret).get("/api/v1/probe").json()["key"] == "Nightly export"
    event = AuditEvent.objects.get(company=company)
    assert event.action == AuditEvent.Action.API_KEY_CREATED and event.actor is None


def test_expiry_and_rate_limit(company, capsys):
    with time_machine.travel("2026-02-01 09:00:00Z", tick=False):
        call_command(
            "create_api_key", company.slug, "Trial", "--expires-in-days", "30", "--rate-limit", "2"
        )
    secret = capsys.readouterr().out.strip()
    key = ApiKey.objects.get(company=company)
    assert key.expires_at == datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    assert key.rate_limit == 2
    with time_machine.travel("2026-02-02 09:00:00Z", tick=False):
        answers = [client_for(secret).get("/api/v1/probe").status_code for _ in range(3)]
    assert answers == [200, 200, 429]
    with time_machine.travel("2026-03-03 09:00:01Z"):
        assert client_for(secret).get("/api/v1/probe").status_code == 401


def test_an_unknown_company_is_a_clear_error(company, other_company):
    with pytest.raises(CommandError, match="No company with slug 'nope'") as refused:
        call_command("create_api_key", "nope", "CRM")
    assert company.slug in str(refused.value) and other_company.slug in str(refused.value)
    assert not ApiKey.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["  "], "Give the key a name"),
        (["x" * 81], "at most 80 characters"),
        (["CRM", "--expires-in-days", "0"], "--expires-in-days is at least 1"),
        (["CRM", "--rate-limit", "0"], "at least 1 request per minute"),
    ],
)
def test_a_key_that_cannot_be_made_says_why(company, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_api_key", company.slug, *args)
    assert not ApiKey.objects.exists()
