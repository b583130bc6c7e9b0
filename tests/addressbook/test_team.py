"""The team page: owners invite colleagues, change roles, remove members; one owner stays."""

import re
import smtplib
import threading
from datetime import timedelta
from urllib.parse import quote

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connections, transaction
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from addressbook.models import AuditEvent, Invitation, Membership
from addressbook.services.team import TeamError, change_role, remove_member
from tests.factories import MembershipFactory

Role = Membership.Role
PASSWORD = "a-long-new-pass-2026"


class RefusingEmailBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def _invite(client, email="new@example.com", role=Role.MARKETER):
    return client.post("/team/", {"email": email, "role": role})


def _link(message) -> str:
    return re.search(r"http://testserver(/invitations/\S+/)", message.body).group(1)


def test_owner_sees_members_with_their_roles(owner_client, owner, marketer, viewer):
    page = owner_client.get("/team/").content.decode()
    for user in (owner, marketer, viewer):
        assert user.username in page
    assert page.count('value="viewer" selected') == 1


def test_owner_invites_a_colleague_by_email(owner_client, owner, company):
    response = _invite(owner_client, "Lena@Example.COM", Role.VIEWER)
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == ["Lena@example.com"]
    assert "Acme Coffee" in message.subject and owner.username in message.subject
    assert "as viewer" in message.body and "7 days" in message.body
    assert _link(message) in message.alternatives[0][0]
    assert "unsubscribe" not in message.body.lower()  # transactional
    page = owner_client.get("/team/").content.decode()
    assert "Lena@example.com" in page and "Invitation sent" in page
    event = AuditEvent.objects.get(company=company)
    assert (event.action, event.target, event.actor, event.details) == (
        "member.invited",
        "Lena@example.com",
        owner,
        {"role": "viewer"},
    )


@pytest.mark.parametrize(
    ("email", "role", "message"),
    [
        ("not-an-address", Role.MARKETER, "is not an email address"),
        ("new@example.com", "admin", "Choose a role"),
    ],
)
def test_bad_invitation_is_refused_with_a_reason(owner_client, email, role, message):
    response = _invite(owner_client, email, role)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not mail.outbox and not Invitation.objects.exists()


def test_inviting_a_member_again_is_refused(owner_client, marketer):
    response = _invite(owner_client, marketer.email.upper())
    assert response.status_code == 400
    assert "already a member" in response.content.decode()
    assert not mail.outbox


def test_unsent_invitation_is_not_kept_and_can_be_retried(owner_client, settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingEmailBackend"
    response = _invite(owner_client)
    assert response.status_code == 400
    assert "could not be sent" in response.content.decode()
    assert not Invitation.objects.exists() and not AuditEvent.objects.exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert _invite(owner_client).status_code == 302
    assert len(mail.outbox) == 1


def test_invitee_chooses_a_username_and_password_and_joins(client, owner, company):
    client.force_login(owner)
    _invite(client, "new@example.com", Role.VIEWER)
    client.logout()
    link = _link(mail.outbox[0])
    page = client.get(link).content.decode()
    assert "Join Acme Coffee" in page and "as <strong>viewer</strong>" in page
    response = client.post(link, {"username": "lena", "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302
    lena = get_user_model().objects.get(username="lena")
    assert lena.email == "new@example.com" and lena.check_password(PASSWORD)
    assert Membership.objects.get(user=lena).role == Role.VIEWER
    assert "Welcome to Acme Coffee" in client.get("/contacts/").content.decode()  # logged in
    assert AuditEvent.objects.filter(action="member.joined", actor=lena).exists()


def test_weak_password_or_taken_username_is_refused(client, owner, marketer):
    client.force_login(owner)
    _invite(client)
    client.logout()
    link = _link(mail.outbox[0])
    weak = client.post(link, {"username": "lena", "password1": "123", "password2": "123"})
    assert weak.status_code == 400 and "too short" in weak.content.decode()
    taken = client.post(
        link, {"username": marketer.username, "password1": PASSWORD, "password2": PASSWORD}
    )
    assert taken.status_code == 400 and "already exists" in taken.content.decode()
    assert Invitation.objects.get().is_open


def test_logged_in_user_accepts_with_their_account(client, owner, other_company, outsider):
    client.force_login(owner)
    _invite(client, outsider.email)
    link = _link(mail.outbox[0])
    client.force_login(outsider)
    assert f"logged in as <strong>{outsider.username}</strong>" in client.get(link).content.decode()
    assert client.post(link).status_code == 302
    assert Membership.objects.get(user=outsider, company=owner.memberships.get().company).role == (
        Role.MARKETER
    )
    assert "Acme Coffee" in client.get("/contacts/").content.decode()


def test_invitation_works_once(client, owner, outsider):
    client.force_login(owner)
    _invite(client)
    link = _link(mail.outbox[0])
    client.logout()
    client.post(link, {"username": "lena", "password1": PASSWORD, "password2": PASSWORD})
    client.logout()
    replay = client.post(link, {"username": "eve", "password1": PASSWORD, "password2": PASSWORD})
    assert replay.status_code == 410
    assert "already been used" in replay.content.decode()
    assert not get_user_model().objects.filter(username="eve").exists()


def test_expired_invitation_is_refused(client, owner):
    client.force_login(owner)
    _invite(client)
    link = _link(mail.outbox[0])
    client.logout()
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        response = client.get(link)
    assert response.status_code == 410 and "expired" in response.content.decode()


def test_tampered_link_is_refused(client, owner):
    client.force_login(owner)
    _invite(client)
    link = _link(mail.outbox[0])
    client.logout()
    response = client.get(link.replace("/invitations/", "/invitations/x"))
    assert response.status_code == 410 and "not valid" in response.content.decode()


def test_withdrawn_invitation_no_longer_opens(owner_client, client):
    _invite(owner_client)
    link = _link(mail.outbox[0])
    invitation = Invitation.objects.get()
    assert owner_client.post(f"/team/invitations/{invitation.pk}/revoke/").status_code == 302
    revoke = f"/team/invitations/{invitation.pk}/revoke/"
    assert revoke not in owner_client.get("/team/").content.decode()
    client.logout()
    response = client.get(link)
    assert response.status_code == 410 and "withdrawn" in response.content.decode()


def test_a_new_invitation_replaces_the_earlier_link(owner_client):
    _invite(owner_client, role=Role.OWNER)
    _invite(owner_client, role=Role.VIEWER)
    first, second = (_link(m) for m in mail.outbox)
    owner_client.logout()
    assert owner_client.get(first).status_code == 410
    assert "as <strong>viewer</strong>" in owner_client.get(second).content.decode()


def test_owner_changes_a_role(owner_client, marketer, company):
    membership = marketer.memberships.get()
    response = owner_client.post(f"/team/{membership.pk}/role/", {"role": "viewer"})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.VIEWER
    assert f"{marketer} is now viewer" in owner_client.get("/team/").content.decode()
    event = AuditEvent.objects.get(action="member.role_changed")
    assert event.details == {"from": "marketer", "to": "viewer"}
    assert "marketer → viewer" in owner_client.get("/audit/").content.decode()


def test_owner_removes_a_member_who_then_has_no_company(owner_client, client, marketer):
    membership = marketer.memberships.get()
    assert owner_client.post(f"/team/{membership.pk}/remove/").status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert AuditEvent.objects.filter(action="member.removed", target=marketer.username).exists()
    client.force_login(marketer)
    assert client.get("/contacts/")["Location"] == "/no-company/"


def test_last_owner_can_be_neither_demoted_nor_removed(owner_client, owner):
    membership = owner.memberships.get()
    demoted = owner_client.post(f"/team/{membership.pk}/role/", {"role": "marketer"}, follow=True)
    assert "last owner of Acme Coffee" in demoted.content.decode()
    removed = owner_client.post(f"/team/{membership.pk}/remove/", follow=True)
    assert "last owner of Acme Coffee" in removed.content.decode()
    membership.refresh_from_db()
    assert membership.role == Role.OWNER
    assert not AuditEvent.objects.exists()


def test_one_of_two_owners_may_step_down(owner_client, owner, company):
    MembershipFactory(company=company, role=Role.OWNER)
    membership = owner.memberships.get()
    owner_client.post(f"/team/{membership.pk}/role/", {"role": "marketer"})
    membership.refresh_from_db()
    assert membership.role == Role.MARKETER
    assert owner_client.get("/team/").status_code == 403  # no longer an owner


@pytest.mark.django_db(transaction=True)
def test_two_owners_demoting_each_other_at_once_leave_one_owner(company):
    """Each demotion alone is allowed; together they would leave nobody in charge.

    A demotes B and holds its transaction open until B's demotion of A has either
    finished (what a check without a lock allows) or had time to be seen waiting.
    """
    a = MembershipFactory(company=company, role=Role.OWNER)
    b = MembershipFactory(company=company, role=Role.OWNER)
    a_demoted_b = threading.Event()
    b_finished = threading.Event()
    outcome = {}

    def a_demotes_b():
        try:
            with transaction.atomic():
                change_role(membership=b, role=Role.MARKETER, actor=a.user)
                a_demoted_b.set()
                b_finished.wait(timeout=2)
            outcome["a"] = "done"
        finally:
            a_demoted_b.set()
            connections.close_all()

    def b_demotes_a():
        a_demoted_b.wait(timeout=30)
        try:
            change_role(membership=a, role=Role.MARKETER, actor=b.user)
            outcome["b"] = "done"
        except TeamError as exc:
            outcome["b"] = str(exc)
        finally:
            b_finished.set()
            connections.close_all()

    threads = [threading.Thread(target=a_demotes_b), threading.Thread(target=b_demotes_a)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcome["a"] == "done"
    assert "last owner" in outcome["b"]
    assert list(Membership.objects.filter(company=company, role=Role.OWNER)) == [a]


def test_service_refuses_to_remove_the_last_owner(owner):
    with pytest.raises(TeamError, match="last owner"):
        remove_member(membership=owner.memberships.get(), actor=owner)


def test_marketer_and_viewer_cannot_invite_or_change_roles(client, marketer, viewer, owner):
    target = owner.memberships.get()
    for user in (marketer, viewer):
        client.force_login(user)
        assert _invite(client).status_code == 403
        assert client.post(f"/team/{target.pk}/role/", {"role": "viewer"}).status_code == 403
        assert client.post(f"/team/{target.pk}/remove/").status_code == 403
    assert not mail.outbox
    target.refresh_from_db()
    assert target.role == Role.OWNER


def test_outsider_owner_gets_404_on_this_company_team(client, owner, other_company, marketer):
    stranger = MembershipFactory(company=other_company, role=Role.OWNER).user
    client.force_login(owner)
    _invite(client)
    invitation = Invitation.objects.get()
    client.force_login(stranger)
    membership = marketer.memberships.get()
    assert client.post(f"/team/{membership.pk}/role/", {"role": "owner"}).status_code == 404
    assert client.post(f"/team/{membership.pk}/remove/").status_code == 404
    assert client.post(f"/team/invitations/{invitation.pk}/revoke/").status_code == 404
    assert marketer.username not in client.get("/team/").content.decode()
    membership.refresh_from_db()
    assert membership.role == Role.MARKETER
    assert Invitation.objects.get().is_open


def test_outsider_marketer_is_refused_for_their_own_role(outsider_client, marketer):
    # Refused for being no owner of their own company, before any lookup of the row.
    membership = marketer.memberships.get()
    response = outsider_client.post(f"/team/{membership.pk}/remove/")
    assert response.status_code == 403
    assert "owner role in Globex Travel" in response.content.decode()
    assert Membership.objects.filter(pk=membership.pk).exists()


fuzz = hypothesis_settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
any_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=300)


@fuzz
@given(token=any_text)
def test_any_invitation_token_is_refused_without_a_server_error(db, token):
    visitor = Client(raise_request_exception=False)
    response = visitor.get(f"/invitations/{quote(token, safe='')}/")
    assert response.status_code in (400, 404, 410)


@fuzz
@given(username=any_text, password=any_text, extra=st.dictionaries(any_text, any_text, max_size=2))
def test_any_join_form_gets_a_clear_answer(owner_invitation_link, username, password, extra):
    # The examples share the test's database: the first to succeed uses the invitation up.
    visitor = Client(raise_request_exception=False)
    users = get_user_model().objects.count()
    form = {**extra, "username": username, "password1": password, "password2": password}
    response = visitor.post(owner_invitation_link, form)
    assert response.status_code in (302, 400, 410)
    assert get_user_model().objects.count() == users + (response.status_code == 302)


@pytest.fixture
def owner_invitation_link(client, owner) -> str:
    client.force_login(owner)
    _invite(client)
    client.logout()
    return _link(mail.outbox[0])
