import pytest
from django.apps import apps
from django.contrib import admin

from config.celery import app as celery_app


def test_healthz_ok(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_503_when_broker_is_down(client, db, monkeypatch):
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    # The trial's embedded broker names its transport apart from the URL.
    monkeypatch.setitem(celery_app.conf, "broker_transport", None)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"].startswith("error")
    assert response.json()["database"] == "ok"


OUR_APPS = ("addressbook", "optout", "campaigns", "api")


def test_every_model_is_in_admin():
    ours = [m for m in apps.get_models() if m._meta.app_label in OUR_APPS]
    assert ours and all(admin.site.is_registered(m) for m in ours)


@pytest.mark.parametrize(
    "model", [m for m in apps.get_models() if m._meta.app_label in OUR_APPS], ids=str
)
def test_staff_can_browse_every_changelist(admin_client, model, company):
    url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(url, {"q": "x"}).status_code == 200


def test_consent_record_is_read_only_in_admin(admin_client, company):
    from optout.services import record_optout

    event = record_optout(company=company, address="+31612345678", source="admin")
    assert admin_client.get("/admin/optout/consentevent/add/").status_code == 403
    delete = admin_client.post(f"/admin/optout/consentevent/{event.pk}/delete/", {"post": "yes"})
    change = admin_client.post(
        f"/admin/optout/consentevent/{event.pk}/change/", {"address": "+31600000000"}
    )
    assert (delete.status_code, change.status_code) == (403, 403)
    event.refresh_from_db()
    assert event.address == "+31612345678"
    # Staff read it all the same.
    page = admin_client.get(f"/admin/optout/consentevent/{event.pk}/change/")
    assert page.status_code == 200 and "+31612345678" in page.content.decode()


def test_staff_cannot_save_a_country_rule_without_its_optout(admin_client, db):
    from optout.models import CountryRule

    rule = CountryRule.objects.get(country="ZZ")
    response = admin_client.post(
        f"/admin/optout/countryrule/{rule.pk}/change/",
        {"country": "ZZ", "method": "link", "shortcode": "", "template": "Bye {name}"},
    )
    assert response.status_code == 200
    assert "Unknown placeholder {name}" in response.content.decode()
    rule.refresh_from_db()
    assert rule.template == "Opt out: {link}"


def test_clearing_a_country_rules_send_hours_means_any_time(admin_client, db):
    from optout.models import CountryRule

    rule = CountryRule.objects.get(country="FR")
    assert rule.send_hours  # seeded with France's hours
    response = admin_client.post(
        f"/admin/optout/countryrule/{rule.pk}/change/",
        {
            "country": "FR",
            "method": rule.method,
            "shortcode": rule.shortcode,
            "template": rule.template,
            "send_hours": "",
        },
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.send_hours == {}
