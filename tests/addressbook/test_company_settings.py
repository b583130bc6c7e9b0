"""Owners keep their company's settings; the model's validators judge each value."""

import pytest

from addressbook.models import AuditEvent, Company
from tests.factories import MembershipFactory

VALID = {
    "name": "Acme Coffee Roasters",
    "default_country": "be",
    "timezone": "Europe/Brussels",
    "sms_sender": "AcmeRoast",
    "help_contact": "help@acme.example",
    "sms_max_parts": "8",
    "optout_alarm_percent": "2.00",
    "optout_alarm_minimum": "200",
    "sms_per_second": "",
    "retention_days": "180",
}


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def test_owner_changes_the_settings(owner_client, owner, company):
    assert owner_client.get("/company/settings/").status_code == 200
    response = owner_client.post("/company/settings/", VALID, follow=True)
    assert "Settings saved." in response.content.decode()
    company.refresh_from_db()
    assert (company.name, company.default_country, company.timezone, company.sms_sender) == (
        "Acme Coffee Roasters",
        "BE",
        "Europe/Brussels",
        "AcmeRoast",
    )
    event = AuditEvent.objects.get(action="company.changed")
    assert event.actor == owner
    assert event.details["timezone"] == "Europe/Amsterdam → Europe/Brussels"


def test_saving_unchanged_settings_records_nothing(owner_client, company):
    same = {
        "name": company.name,
        "default_country": company.default_country,
        "timezone": company.timezone,
        "sms_sender": "",
        "help_contact": "",
        "sms_max_parts": company.sms_max_parts,
        "optout_alarm_percent": company.optout_alarm_percent,
        "optout_alarm_minimum": company.optout_alarm_minimum,
        "sms_per_second": "",
        "retention_days": company.retention_days,
    }
    response = owner_client.post("/company/settings/", same, follow=True)
    assert "Nothing changed." in response.content.decode()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timezone", "Mars/Olympus", "is not a time zone name"),
        ("default_country", "XX", "is not a two-letter country code"),
        ("sms_sender", "Acme Coffee!", "An SMS sender is up to 11"),
        ("name", "", "This field is required"),
    ],
)
def test_bad_value_is_refused_with_a_reason(owner_client, company, field, value, message):
    response = owner_client.post("/company/settings/", {**VALID, field: value})
    assert response.status_code == 400
    assert message in response.content.decode()
    company.refresh_from_db()
    assert company.name == "Acme Coffee" and company.timezone == "Europe/Amsterdam"
    assert not AuditEvent.objects.exists()


def test_marketer_and_viewer_cannot_change_settings(client, marketer, viewer, company):
    for user in (marketer, viewer):
        client.force_login(user)
        assert client.get("/company/settings/").status_code == 403
        assert client.post("/company/settings/", VALID).status_code == 403
    company.refresh_from_db()
    assert company.name == "Acme Coffee"


def test_owner_of_another_company_changes_only_their_own(client, company, other_company):
    stranger = MembershipFactory(company=other_company, role="owner").user
    client.force_login(stranger)
    client.post("/company/settings/", VALID)
    assert Company.objects.get(pk=company.pk).name == "Acme Coffee"
    assert Company.objects.get(pk=other_company.pk).name == "Acme Coffee Roasters"


def test_outsider_marketer_is_refused(outsider_client):
    assert outsider_client.post("/company/settings/", VALID).status_code == 403


def test_owner_sets_or_turns_off_the_optout_alarm(owner_client, company):
    owner_client.post(
        "/company/settings/", {**VALID, "optout_alarm_percent": "", "optout_alarm_minimum": "50"}
    )
    company.refresh_from_db()
    assert (company.optout_alarm_percent, company.optout_alarm_minimum) == (None, 50)
    event = AuditEvent.objects.get(action="company.changed")
    assert event.details["optout_alarm_percent"] == "2.00 → —"

    response = owner_client.post("/company/settings/", {**VALID, "optout_alarm_percent": "0"})
    assert response.status_code == 400
    assert "greater than or equal to 0.01" in response.content.decode()
    response = owner_client.post("/company/settings/", {**VALID, "optout_alarm_minimum": "0"})
    assert response.status_code == 400
    assert "greater than or equal to 1" in response.content.decode()


@pytest.mark.parametrize("value", ["0", "9"])
def test_the_parts_cap_stays_within_what_a_gateway_joins(owner_client, company, value):
    response = owner_client.post("/company/settings/", {**VALID, "sms_max_parts": value})
    assert response.status_code == 400
    company.refresh_from_db()
    assert company.sms_max_parts == 8


def test_owner_lowers_the_parts_cap(owner_client, company):
    owner_client.post("/company/settings/", {**VALID, "sms_max_parts": "3"})
    company.refresh_from_db()
    assert company.sms_max_parts == 3


def test_owner_sets_the_sending_rate(owner_client, company, settings):
    # campaigns' throttle reads it (tests/campaigns/test_engine.py), the default where empty.
    settings.SEND_RATE_PER_SECOND = 50
    page = owner_client.get("/company/settings/").content.decode()
    assert "Empty: the platform&#x27;s default (50 per second)." in page
    owner_client.post("/company/settings/", {**VALID, "sms_per_second": "20"})
    company.refresh_from_db()
    assert company.sms_per_second == 20
    event = AuditEvent.objects.get(action="company.changed")
    assert event.details["sms_per_second"] == "— → 20"

    owner_client.post("/company/settings/", {**VALID, "sms_per_second": ""})
    company.refresh_from_db()
    assert company.sms_per_second is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "At least 1 SMS per second; leave it empty for the default."),
        ("1001", "At most 1000 SMS per second; leave it empty for the default."),
        ("fast", "Enter a whole number."),
    ],
)
def test_the_sending_rate_stays_within_bounds(owner_client, company, value, message):
    response = owner_client.post("/company/settings/", {**VALID, "sms_per_second": value})
    assert response.status_code == 400
    assert message in response.content.decode()
    company.refresh_from_db()
    assert company.sms_per_second is None


def test_owner_sets_how_long_message_texts_are_kept(owner_client, company):
    owner_client.post("/company/settings/", {**VALID, "retention_days": "30"})
    company.refresh_from_db()
    assert company.retention_days == 30
    assert AuditEvent.objects.get().details["retention_days"] == "180 → 30"
    for bad in ("0", "3651", ""):
        response = owner_client.post("/company/settings/", {**VALID, "retention_days": bad})
        assert response.status_code == 400
    company.refresh_from_db()
    assert company.retention_days == 30
