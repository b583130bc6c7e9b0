"""A marketer logs in, turns on two-factor sign-in, and logs in again with a code."""

import time
from pathlib import Path

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from tests.factories import CompanyFactory, MembershipFactory

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
WIDTHS = {"desktop": 1280, "phone": 375}


@pytest.fixture
def marketer(transactional_db):
    company = CompanyFactory(name="Acme Coffee", default_country="NL")
    return MembershipFactory(company=company).user


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 800})
        page.screenshot(path=SHOTS / f"{name}-{label}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-for-tests")
    page.get_by_role("button", name="Log in").click()


@pytest.mark.browser
def test_marketer_turns_on_two_factor_and_logs_in_with_a_code(
    live_server, page: Page, marketer, settings
):
    # The wait after a wrong code is tested in tests/test_login.py; here it would only
    # make the test sleep.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    page.goto(f"{live_server.url}/login/")
    shoot(page, "login")
    log_in(page, live_server.url, marketer.username)
    expect(page).to_have_url(f"{live_server.url}/")  # the home page

    page.get_by_role("link", name=marketer.username).click()
    expect(page.get_by_text("Off.")).to_be_visible()
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    qr = page.get_by_role("img", name="QR code of your two-factor secret")
    expect(qr).to_be_visible()
    # decode() waits for the image and fails if it is broken.
    assert qr.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
    shoot(page, "two-factor-setup")

    device = TOTPDevice.objects.get(user=marketer)
    page.get_by_label("Code from your app").fill(code_for(device))
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_text("Two-factor sign-in is on.")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    log_in(page, live_server.url, marketer.username)
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    wrong = "000000" if code_for(device, 1) != "000000" else "111111"
    page.get_by_label("Code from your app").fill(wrong)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("That code is not right")
    shoot(page, "two-factor-code")

    # The code of the next time step: the one just used to turn it on is spent.
    page.get_by_label("Code from your app").fill(code_for(device, 1))
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(f"{live_server.url}/")  # the home page
