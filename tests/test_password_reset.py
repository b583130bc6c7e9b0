"""Password reset by email: a link to the account's address, the same answer for anyone."""

import re

import pytest
from django.core import mail
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

NEW_PASSWORD = "a-long-new-pass-2026"


def _reset_link(message) -> str:
    return re.search(r"http://testserver(/password-reset/\S+/)", message.body).group(1)


def _main(response) -> str:
    """The page's content, without the per-response CSRF token and CSP nonce around it."""
    return re.search(r"<main>.*</main>", response.content.decode(), re.S).group(0)


def test_login_page_offers_a_reset(client, db):
    assert 'href="/password-reset/"' in client.get("/login/").content.decode()


def test_known_and_unknown_addresses_get_the_same_answer(client, marketer):
    known = client.post("/password-reset/", {"email": marketer.email}, follow=True)
    unknown = client.post("/password-reset/", {"email": "nobody@example.com"}, follow=True)
    assert known.status_code == unknown.status_code == 200
    assert known.redirect_chain == unknown.redirect_chain == [("/password-reset/sent/", 302)]
    assert _main(known) == _main(unknown)
    assert "If an account has that address" in known.content.decode()
    assert [m.to for m in mail.outbox] == [[marketer.email]]


def test_reset_link_sets_a_new_password_once(client, marketer):
    client.post("/password-reset/", {"email": marketer.email})
    [message] = mail.outbox
    assert marketer.username in message.body and "/password-reset/" in message.alternatives[0][0]
    link = _reset_link(message)
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert "Your new password is saved" in done.content.decode()
    marketer.refresh_from_db()
    assert marketer.check_password(NEW_PASSWORD)
    # Resetting does not log in: two-factor sign-in, where set up, still asks for its code.
    assert client.get("/contacts/").status_code == 302
    again = client.get(link, follow=True)
    assert "This link does not work" in again.content.decode()


def test_weak_new_password_is_refused(client, marketer):
    client.post("/password-reset/", {"email": marketer.email})
    form = client.get(_reset_link(mail.outbox[0]), follow=True)
    response = client.post(
        form.redirect_chain[-1][0], {"new_password1": "123", "new_password2": "123"}
    )
    assert response.status_code == 400 and "too short" in response.content.decode()
    marketer.refresh_from_db()
    assert marketer.check_password("pw-for-tests")


@pytest.mark.parametrize("email", ["", "not-an-address"])
def test_bad_address_is_a_clear_message(client, db, email):
    response = client.post("/password-reset/", {"email": email})
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()
    assert not mail.outbox


@hypothesis_settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(email=st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=400))
def test_any_address_gets_a_clear_answer(marketer, email):
    visitor = Client(raise_request_exception=False)
    response = visitor.post("/password-reset/", {"email": email})
    assert response.status_code in (302, 400)


def test_repeated_requests_do_not_flood_the_inbox(client, marketer, settings):
    settings.PASSWORD_RESETS_PER_ADDRESS = 2
    answers = [
        client.post("/password-reset/", {"email": marketer.email.upper()}, follow=True)
        for _ in range(4)
    ]
    assert len(mail.outbox) == 2
    assert len({_main(a) for a in answers}) == 1  # the same answer every time
