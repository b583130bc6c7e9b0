"""Staff add opt-outs and upload lists for a company, and assign replies nobody claimed."""

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from addressbook.models import AuditEvent
from optout.imports import run_suppression_import
from optout.models import ConsentEvent, InboundMessage, Source, Suppression, SuppressionImport
from optout.services import record_optout
from tests.factories import UserFactory

NUMBER = "+33612345678"


@pytest.fixture(autouse=True)
def _import_dir(settings, tmp_path):
    settings.IMPORT_DIR = tmp_path


def test_staff_add_optouts_for_a_company(admin_client, admin_user, company, other_company):
    record_optout(company=company, address="+31611111111", source=Source.LANDING_PAGE)
    changelist = admin_client.get("/admin/optout/suppression/").content.decode()
    assert 'href="/admin/optout/suppression/add-optouts/"' in changelist
    response = admin_client.post(
        "/admin/optout/suppression/add-optouts/",
        {"company": company.pk, "addresses": "06 12 34 56 78\n+31611111111\nnonsense\n"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert dict(re.findall(r'data-count="(\w+)">(\d+)<', page)) == {
        "added": "1", "already_suppressed": "1", "duplicate": "0", "invalid": "1",
    }  # fmt: skip
    event = ConsentEvent.objects.get(company=company, address="+31612345678")
    assert event.source == Source.ADMIN
    assert Suppression.objects.get(company=company, address="+31612345678").event == event
    assert not Suppression.objects.filter(company=other_company).exists()
    audit = AuditEvent.objects.get(company=company, action=AuditEvent.Action.OPTOUT_RECORDED)
    assert (audit.actor, audit.target) == (admin_user, "+31612345678")


def test_staff_without_the_permission_cannot_add(client, company):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_suppression"))
    client.force_login(staff)
    assert client.get("/admin/optout/suppression/").status_code == 200
    for url in ("/admin/optout/suppression/add-optouts/", "/admin/optout/suppression/upload/"):
        assert client.post(url, {"company": company.pk, "addresses": NUMBER}).status_code == 403
    assert not ConsentEvent.objects.exists()


def test_staff_upload_a_list_for_a_company(admin_client, admin_user, company):
    content = b"phone;reason\n+31612345678;moved\n0612345678;\nnope;\n"
    response = admin_client.post(
        "/admin/optout/suppression/upload/",
        {"company": company.pk, "file": SimpleUploadedFile("old.csv", content)},
    )
    job = SuppressionImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/optout/suppressionimport/{job.pk}/change/"
    assert (job.company, job.created_by, job.status) == (company, admin_user, "queued")
    audit = AuditEvent.objects.get(action=AuditEvent.Action.SUPPRESSIONS_IMPORTED)
    assert (audit.company, audit.actor, audit.target) == (company, admin_user, "old.csv")

    run_suppression_import(upload_id=job.pk)  # what the worker does once this commits
    assert ConsentEvent.objects.get(company=company).source == Source.IMPORT
    page = admin_client.get(response["Location"]).content.decode()
    assert "&quot;added&quot;: 1" in page or '"added": 1' in page
    rejected = admin_client.get(f"/admin/optout/suppressionimport/{job.pk}/rejected.csv")
    lines = b"".join(rejected.streaming_content).decode("utf-8-sig").splitlines()
    assert lines == ["Row,Reason,phone,reason", "3,“nope” is not a phone number.,nope,"]


def test_an_upload_staff_cannot_read_is_refused_with_the_reason(admin_client, company):
    response = admin_client.post(
        "/admin/optout/suppression/upload/",
        {"company": company.pk, "file": SimpleUploadedFile("x.csv", b"name;city\nAnn;Paris\n")},
    )
    assert response.status_code == 400
    assert "No column of phone numbers or email addresses was found." in response.content.decode()
    assert not SuppressionImport.objects.exists()


@pytest.fixture
def unattributed(post_inbound_sms, db) -> InboundMessage:
    """A STOP to a shared shortcode no company had sent this number marketing through."""
    post_inbound_sms(sender=NUMBER, recipient="36111", text="STOP")
    return InboundMessage.objects.get(status=InboundMessage.Status.UNATTRIBUTED)


def assign(client, replies, company=None):
    data = {"action": "assign_to_company", "_selected_action": [r.pk for r in replies]}
    if company is not None:
        data |= {"apply": "Assign", "company": company.pk}
    return client.post("/admin/optout/inboundmessage/", data)


def test_staff_assign_an_unattributed_stop_to_a_company(
    admin_client, admin_user, unattributed, company, other_company, outbox
):
    asked = assign(admin_client, [unattributed])
    assert asked.status_code == 200
    assert "These replies reached no company." in asked.content.decode()
    assert not Suppression.objects.exists()

    assert assign(admin_client, [unattributed], company).status_code == 302
    unattributed.refresh_from_db()
    assert (unattributed.status, unattributed.company) == ("opted_out", company)
    event = ConsentEvent.objects.get()
    assert (event.company, event.address, event.source, event.raw_text) == (
        company, NUMBER, Source.SMS_KEYWORD, "STOP",
    )  # fmt: skip
    assert list(Suppression.objects.values_list("company", flat=True)) == [company.pk]
    assert len(outbox) == 1 and company.name in outbox[0].body
    log = LogEntry.objects.get(object_id=str(unattributed.pk))
    assert log.user == admin_user and f"Assigned to {company}" in log.get_change_message()
    audit = AuditEvent.objects.get(company=company, action=AuditEvent.Action.OPTOUT_RECORDED)
    assert (audit.actor, audit.target) == (admin_user, NUMBER)
    assert not AuditEvent.objects.filter(company=other_company).exists()


def test_a_reply_that_has_a_company_cannot_be_reassigned(
    admin_client, unattributed, company, other_company
):
    assign(admin_client, [unattributed], company)
    assign(admin_client, [unattributed], other_company)
    unattributed.refresh_from_db()
    assert unattributed.company == company
    assert list(ConsentEvent.objects.values_list("company", flat=True)) == [company.pk]


def test_staff_without_the_permission_see_no_assign_action(client, unattributed, company):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_inboundmessage"))
    client.force_login(staff)
    assert "assign_to_company" not in client.get("/admin/optout/inboundmessage/").content.decode()
    assign(client, [unattributed], company)
    unattributed.refresh_from_db()
    assert unattributed.status == InboundMessage.Status.UNATTRIBUTED
    assert not ConsentEvent.objects.exists()
