"""Staff in the admin: they revoke a key and re-enable an endpoint, and never see a secret."""

from django.utils import timezone

from api.models import ApiKey, WebhookEndpoint
from api.webhooks import create_endpoint

from .conftest import client_for


def test_staff_revoke_a_key_and_the_program_holding_it_is_refused(admin_client, issued_key):
    answer = admin_client.post(
        "/admin/api/apikey/",
        {"action": "revoke", "_selected_action": [issued_key.key.pk]},
        follow=True,
    )

    assert "1 key(s) revoked." in answer.content.decode()
    refused = client_for(issued_key.secret).get("/api/v1/contacts/")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "revoked_key"


def test_staff_cannot_add_a_key_whose_secret_nobody_would_see(admin_client, db):
    assert admin_client.get("/admin/api/apikey/add/").status_code == 403
    assert not ApiKey.objects.exists()


def test_staff_re_enable_an_endpoint_without_seeing_its_secret(admin_client, company, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    endpoint = create_endpoint(company=company, url="https://93.184.215.14/hooks/optout")
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        active=False, disabled_at=timezone.now(), disabled_reason="15 failures in a row"
    )

    page = admin_client.get(f"/admin/api/webhookendpoint/{endpoint.pk}/change/")
    assert page.status_code == 200 and endpoint.secret not in page.content.decode()
    admin_client.post(
        "/admin/api/webhookendpoint/",
        {"action": "enable", "_selected_action": [endpoint.pk]},
    )

    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.disabled_reason == ""
