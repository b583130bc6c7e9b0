"""Log-in: failed attempts are throttled per account and per address; two-factor sign-in."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import UserFactory

PASSWORD = "pw-for-tests"
# Where a log-in lands: the home page with the week's figures.
DASHBOARD = "/"


def log_in(client, username, password=PASSWORD, path="/login/", **extra):
    return client.post(path, {"username": username, "password": password}, **extra)


def code_for(device: TOTPDevice) -> str:
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def signed_in(client) -> bool:
    return client.get(DASHBOARD).status_code == 200


# --- throttling of failed log-ins ------------------------------------------------------
def test_a_wrong_password_is_refused_on_the_page(client, marketer):
    response = log_in(client, marketer.username, "wrong")
    assert response.status_code == 200
    assert "didn't match" in response.content.decode()
    assert not signed_in(client)


def test_sixth_attempt_after_five_wrong_passwords_is_refused_even_when_right(client, marketer):
    answers = [log_in(client, marketer.username, "wrong").status_code for _ in range(5)]
    assert answers == [200, 200, 200, 200, 429]

    response = log_in(client, marketer.username)

    assert response.status_code == 429
    assert not signed_in(client)


def test_lockout_page_says_why_and_when_to_retry(client, marketer):
    for _ in range(5):
        log_in(client, marketer.username, "wrong")
    response = log_in(client, marketer.username)
    page = response.content.decode()
    assert "Too many failed log-ins" in page
    assert "Try again in 15 minutes" in page
    assert response["Retry-After"] == "900"


def test_locked_account_opens_again_after_the_wait(client, marketer):
    for _ in range(5):
        log_in(client, marketer.username, "wrong")
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        response = log_in(client, marketer.username)
        assert response.status_code == 302
        assert signed_in(client)


def test_a_good_password_forgives_the_accounts_earlier_mistakes(client, marketer):
    for _ in range(4):
        log_in(client, marketer.username, "wrong")
    assert log_in(client, marketer.username).status_code == 302
    client.post("/logout/")

    answers = [log_in(client, marketer.username, "wrong").status_code for _ in range(4)]
    assert answers == [200] * 4
    assert log_in(client, marketer.username).status_code == 302


def test_one_address_guessing_many_accounts_is_stopped_by_the_address_limit(client, marketer):
    # Four wrong passwords each on five accounts: no account reaches its own limit.
    others = UserFactory.create_batch(5)
    for user in others:
        for _ in range(4):
            log_in(client, user.username, "wrong", REMOTE_ADDR="203.0.113.7")

    refused = log_in(client, marketer.username, REMOTE_ADDR="203.0.113.7")
    assert refused.status_code == 429
    assert "Too many failed log-ins" in refused.content.decode()
    # The same account from another address is not locked.
    assert log_in(client, marketer.username, REMOTE_ADDR="198.51.100.9").status_code == 302


def test_logging_in_to_an_own_account_does_not_clear_the_address_count(client, marketer):
    attacker = UserFactory()
    victims = UserFactory.create_batch(5)
    for victim in victims:
        for _ in range(3):
            log_in(client, victim.username, "wrong", REMOTE_ADDR="203.0.113.7")
        assert log_in(client, attacker.username, REMOTE_ADDR="203.0.113.7").status_code == 302
        client.post("/logout/")

    # 15 failures, then 5 more reach the address limit of 20 despite the good log-ins.
    for _ in range(5):
        log_in(client, "nobody", "wrong", REMOTE_ADDR="203.0.113.7")
    assert log_in(client, marketer.username, REMOTE_ADDR="203.0.113.7").status_code == 429


def test_admin_log_in_is_throttled_too(client, admin_user):
    for _ in range(5):
        log_in(client, admin_user.username, "wrong", path="/admin/login/")
    response = log_in(client, admin_user.username, "password", path="/admin/login/")
    assert response.status_code == 429
    assert client.get("/admin/").status_code == 302


def test_behind_a_trusted_proxy_each_forwarded_client_is_counted(client, marketer, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for user in UserFactory.create_batch(5):
        for _ in range(4):
            forwarded = {"X-Forwarded-For": "203.0.113.7"}
            log_in(client, user.username, "wrong", headers=forwarded, **proxy)

    # The client's own spoofed entry on the left is ignored: the proxy's entry counts.
    guesser = {"X-Forwarded-For": "192.0.2.1, 203.0.113.7"}
    assert log_in(client, marketer.username, headers=guesser, **proxy).status_code == 429
    colleague = {"X-Forwarded-For": "198.51.100.9"}
    assert log_in(client, marketer.username, headers=colleague, **proxy).status_code == 302


def test_without_a_trusted_proxy_a_forwarded_address_changes_nothing(client, marketer):
    for n, user in enumerate(UserFactory.create_batch(5)):
        for m in range(4):
            spoofed = {"X-Forwarded-For": f"198.51.100.{n * 4 + m}"}
            log_in(client, user.username, "wrong", headers=spoofed)
    response = log_in(client, marketer.username, headers={"X-Forwarded-For": "192.0.2.99"})
    assert response.status_code == 429


@pytest.mark.parametrize(
    "body",
    [b"username=" + b"x" * 5000, b"username=a%00b", b"username=%ED%A0%80", b"username="],
    ids=["huge", "nul", "surrogate", "empty"],
)
def test_a_garbage_username_gets_the_form_or_a_400_never_a_server_error(client, body, db):
    response = client.post(
        "/login/", body + b"&password=wrong", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code in (200, 400)
    assert not signed_in(client)


# --- two-factor sign-in -----------------------------------------------------------------
@pytest.fixture
def device(marketer) -> TOTPDevice:
    return TOTPDevice.objects.create(user=marketer, name="phone", confirmed=True)


def test_log_in_without_two_factor_goes_straight_to_the_dashboard(client, marketer):
    response = log_in(client, marketer.username)
    assert response.status_code == 302 and response["Location"] == DASHBOARD
    assert signed_in(client)


def test_log_in_with_two_factor_asks_for_the_code_before_the_dashboard(client, marketer, device):
    response = log_in(client, marketer.username)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/code/?next=")

    # The password alone opens nothing: every dashboard page leads to the code.
    for path in (DASHBOARD, "/campaigns/", "/opt-outs/", "/account/two-factor/"):
        answer = client.get(path)
        assert answer.status_code == 302 and answer["Location"].startswith("/login/code/")
    assert "Enter the 6-digit code" in client.get("/login/code/").content.decode()

    verified = client.post("/login/code/", {"code": code_for(device), "next": "/campaigns/"})
    assert verified.status_code == 302 and verified["Location"] == "/campaigns/"
    assert signed_in(client)


def test_a_wrong_code_is_refused(client, marketer, device):
    log_in(client, marketer.username)
    right = code_for(device)
    wrong = "000000" if right != "000000" else "111111"

    response = client.post("/login/code/", {"code": wrong})

    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    assert not signed_in(client)


def test_wrong_codes_make_the_next_try_wait(client, marketer, device, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    log_in(client, marketer.username)
    client.post("/login/code/", {"code": "not-a-code"})
    time_machine.shift(timedelta(seconds=1))
    client.post("/login/code/", {"code": "000000" if code_for(device) != "000000" else "1"})

    # Two wrong codes: the right one is refused for the next two seconds.
    refused = client.post("/login/code/", {"code": code_for(device)})
    assert refused.status_code == 400
    assert "Too many wrong codes. Try again in 2 seconds." in refused.content.decode()
    assert not signed_in(client)

    time_machine.shift(timedelta(seconds=2))
    assert client.post("/login/code/", {"code": code_for(device)}).status_code == 302
    assert signed_in(client)


def test_a_code_cannot_be_used_twice(client, marketer, device, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    code = code_for(device)
    log_in(client, marketer.username)
    assert client.post("/login/code/", {"code": code}).status_code == 302
    client.post("/logout/")

    log_in(client, marketer.username)
    assert client.post("/login/code/", {"code": code}).status_code == 400
    assert not signed_in(client)


def test_staff_with_two_factor_reach_the_admin_only_with_the_code(client, admin_user):
    device = TOTPDevice.objects.create(user=admin_user, name="phone", confirmed=True)
    log_in(client, admin_user.username, "password", path="/admin/login/")

    answer = client.get("/admin/")
    assert answer.status_code == 302
    assert answer["Location"] == "/login/code/?next=/admin/"

    client.post("/login/code/", {"code": code_for(device)})
    assert client.get("/admin/").status_code == 200


def test_marketer_sets_up_two_factor_with_a_qr_code_and_a_first_code(client, marketer):
    log_in(client, marketer.username)
    assert "<strong>Off.</strong>" in client.get("/account/two-factor/").content.decode()

    client.post("/account/two-factor/", {"action": "start"})
    page = client.get("/account/two-factor/").content.decode()
    assert 'src="/account/two-factor/qr.svg"' in page
    qr = client.get("/account/two-factor/qr.svg")
    assert qr["Content-Type"] == "image/svg+xml" and qr.content.startswith(b"<svg")

    pending = TOTPDevice.objects.get(user=marketer)
    confirm = {"action": "confirm", "code": code_for(pending)}
    confirmed = client.post("/account/two-factor/", confirm)
    assert confirmed.status_code == 302
    assert "<strong>On.</strong>" in client.get("/account/two-factor/").content.decode()
    # The session that proved the code stays signed in; the next log-in asks for one.
    assert signed_in(client)
    client.post("/logout/")
    assert log_in(client, marketer.username)["Location"].startswith("/login/code/")


def test_a_wrong_first_code_leaves_two_factor_off(client, marketer):
    log_in(client, marketer.username)
    client.post("/account/two-factor/", {"action": "start"})

    response = client.post("/account/two-factor/", {"action": "confirm", "code": "12"})

    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    client.post("/logout/")
    assert log_in(client, marketer.username)["Location"] == DASHBOARD


def test_turning_two_factor_off_needs_a_current_code(client, marketer, device, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    log_in(client, marketer.username)
    client.post("/login/code/", {"code": code_for(device)})

    refused = client.post("/account/two-factor/", {"action": "disable", "code": "nope"})
    assert refused.status_code == 400
    assert "<strong>On.</strong>" in refused.content.decode()

    time_machine.shift(timedelta(seconds=31))
    disable = {"action": "disable", "code": code_for(device)}
    assert client.post("/account/two-factor/", disable).status_code == 302
    client.post("/logout/")
    assert log_in(client, marketer.username)["Location"] == DASHBOARD


def test_an_unknown_action_is_a_clear_400(client, marketer):
    log_in(client, marketer.username)
    response = client.post("/account/two-factor/", {"action": "explode"})
    assert response.status_code == 400
    assert "Unknown action" in response.content.decode()


def test_outsider_never_sees_another_users_secret(client, marketer, outsider):
    log_in(client, marketer.username)
    client.post("/account/two-factor/", {"action": "start"})
    client.post("/logout/")

    log_in(client, outsider.username)
    assert client.get("/account/two-factor/qr.svg").status_code == 404
    page = client.get("/account/two-factor/").content.decode()
    assert "<strong>Off.</strong>" in page and "data-secret" not in page


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    for path in ("/account/two-factor/", "/account/two-factor/qr.svg", "/login/code/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
