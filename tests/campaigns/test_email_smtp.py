"""Marketing email through a real SMTP server on 127.0.0.1 that demands TLS and a login,
configured the way production is: one EMAIL_URL."""

import asyncio
import datetime
import ipaddress
import socket
import ssl
import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from campaigns.models import Campaign, Message
from campaigns.services import create_campaign
from config.email import email_url_settings
from tests.factories import ContactFactory

from .running import run_campaign

ROOT = Path(__file__).resolve().parents[2]
USER, PASSWORD = "mailer@acme.example", "s3cret!pass"


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1, its own issuer."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class Mailbox:
    """Keeps what the server accepted, with how the client got in."""

    def __init__(self):
        self.received: list[dict] = []

    async def handle_DATA(self, server, session, envelope):
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        self.received.append(
            {
                "message": message_from_bytes(envelope.content, policy=policy.default),
                "rcpt_tos": envelope.rcpt_tos,
                "login": session.auth_data.login.decode() if session.authenticated else None,
                "tls": session.ssl is not None,
            }
        )
        return "250 OK"


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, auth_data=auth_data)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def certificate(tmp_path, monkeypatch):
    cert, key = _self_signed(tmp_path)
    # The client verifies the server as in production, against this file instead of the
    # system's authorities.
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def _serve(tls_context: ssl.SSLContext, *, implicit: bool):
    mailbox = Mailbox()
    tls = {"ssl_context": tls_context} if implicit else {"tls_context": tls_context}
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=_free_port(),
        loop=asyncio.new_event_loop(),
        require_starttls=not implicit,
        # With TLS from the first byte aiosmtpd does not know the session is encrypted and
        # would refuse AUTH: there the mailbox refuses mail from a client not logged in.
        auth_required=not implicit,
        auth_require_tls=not implicit,
        authenticator=_authenticator,
        **tls,
    )
    controller.start()
    return controller, mailbox


@pytest.fixture
def starttls_server(certificate):
    controller, mailbox = _serve(certificate, implicit=False)
    yield controller.port, mailbox
    controller.stop()


@pytest.fixture
def implicit_tls_server(certificate):
    controller, mailbox = _serve(certificate, implicit=True)
    yield controller.port, mailbox
    controller.stop()


def _use(settings, url: str) -> None:
    for name, value in email_url_settings(url).items():
        setattr(settings, name, value)
    settings.EMAIL_TIMEOUT = 10


def _send(company) -> Message:
    ContactFactory(company=company, first_name="Sanne", email="sanne@example.nl")
    campaign = create_campaign(
        company=company,
        name="Spring",
        channel="email",
        subject="Beans for {{ first_name }}",
        body="Hi {{ first_name }}, fresh beans.",
        html_body="<p>Hi <b>{{ first_name }}</b></p>",
    )
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
    run_campaign(campaign)
    return Message.objects.get(campaign=campaign)


def test_marketing_email_over_starttls_with_login_carries_one_click_headers(
    starttls_server, settings, company
):
    port, mailbox = starttls_server
    # The password's "!" and the user's "@" URL-encoded, as .env.example says.
    _use(settings, f"smtp+tls://mailer%40acme.example:s3cret%21pass@127.0.0.1:{port}")
    settings.UNSUBSCRIBE_MAILTO = "unsubscribe@mail.acme.example"

    message = _send(company)

    assert message.status == Message.Status.SENT
    [received] = mailbox.received
    assert received["tls"] and received["login"] == USER
    assert received["rcpt_tos"] == ["sanne@example.nl"]
    email = received["message"]
    assert email["Subject"] == "Beans for Sanne"
    assert "Acme Coffee" in email["From"]
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https, mailto = (part.strip(" <>") for part in email["List-Unsubscribe"].split(","))
    assert https.startswith("https://no-s.test/u/")
    assert mailto.startswith("mailto:unsubscribe+") and "@mail.acme.example?subject=" in mailto
    # The same personal link, visible in both bodies.
    text = email.get_body(preferencelist=("plain",)).get_content()
    html = email.get_body(preferencelist=("html",)).get_content()
    assert f"Unsubscribe: {https}" in text
    assert f'href="{https}"' in html and "<b>Sanne</b>" in html


def test_marketing_email_over_implicit_tls(implicit_tls_server, settings, company):
    port, mailbox = implicit_tls_server
    _use(settings, f"smtps://mailer%40acme.example:s3cret%21pass@127.0.0.1:{port}")

    message = _send(company)

    assert message.status == Message.Status.SENT
    [received] = mailbox.received
    assert received["login"] == USER
    assert received["message"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_wrong_password_sends_nothing_and_keeps_the_message(starttls_server, settings, company):
    port, mailbox = starttls_server
    _use(settings, f"smtp+tls://mailer%40acme.example:wrong@127.0.0.1:{port}")
    settings.SEND_MAX_ATTEMPTS = 1

    message = _send(company)

    assert mailbox.received == []
    assert message.status != Message.Status.SENT


def _settings_from_env(check: bool = True, **env) -> dict:
    """Reads the settings as a fresh process gets them from the environment."""
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({k: getattr(s, k) for k in ('EMAIL_BACKEND', 'EMAIL_HOST', "
        "'EMAIL_PORT', 'EMAIL_HOST_USER', 'EMAIL_HOST_PASSWORD', 'EMAIL_USE_TLS', "
        "'EMAIL_USE_SSL', 'ANYMAIL')}, default=str))"
    )
    import json
    import os

    environment = {k: v for k, v in os.environ.items() if not k.startswith(("EMAIL_", "MAIL"))}
    environment |= {"DJANGO_SETTINGS_MODULE": "config.settings", **env}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=check,
    )
    if result.returncode:
        return {"error": result.stderr}
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("url", "tls", "ssl_"),
    [
        ("smtp+tls://u%40x.example:p%40ss@smtp.example.com:587", True, False),
        ("smtps://u%40x.example:p%40ss@smtp.example.com:465", False, True),
    ],
)
def test_email_url_sets_host_login_and_tls(url, tls, ssl_):
    config = _settings_from_env(EMAIL_URL=url)
    assert config["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (config["EMAIL_HOST"], config["EMAIL_HOST_USER"], config["EMAIL_HOST_PASSWORD"]) == (
        "smtp.example.com",
        "u@x.example",
        "p@ss",
    )
    assert (bool(config["EMAIL_USE_TLS"]), bool(config["EMAIL_USE_SSL"])) == (tls, ssl_)


def test_an_email_service_is_chosen_and_configured_from_the_environment():
    config = _settings_from_env(
        EMAIL_BACKEND="anymail.backends.mailgun.EmailBackend",
        MAILGUN_API_KEY="key-123",
        MAILGUN_SENDER_DOMAIN="mg.acme.example",
        MAILGUN_API_URL="https://api.eu.mailgun.net/v3",
        MAILGUN_WEBHOOK_SIGNING_KEY="signing-456",
        ANYMAIL_WEBHOOK_SECRET="hooks:secret",
        AMAZON_SES_REGION="eu-west-1",
    )
    assert config["EMAIL_BACKEND"] == "anymail.backends.mailgun.EmailBackend"
    assert config["ANYMAIL"] == {
        "WEBHOOK_SECRET": "hooks:secret",
        "MAILGUN_API_KEY": "key-123",
        "MAILGUN_SENDER_DOMAIN": "mg.acme.example",
        "MAILGUN_API_URL": "https://api.eu.mailgun.net/v3",
        "MAILGUN_WEBHOOK_SIGNING_KEY": "signing-456",
        "AMAZON_SES_CLIENT_PARAMS": {"region_name": "eu-west-1"},
    }


@pytest.mark.parametrize(
    ("secret", "debug"), [("no-colon-in-it-at-all-so-not-basic-auth", "true"), ("a:short", "false")]
)
def test_a_webhook_password_anyone_could_guess_stops_the_start(secret, debug):
    import secrets

    config = _settings_from_env(
        check=False,
        ANYMAIL_WEBHOOK_SECRET=secret,
        DEBUG=debug,
        SECRET_KEY=secrets.token_urlsafe(50),
        SMS_WEBHOOK_SECRET=secrets.token_urlsafe(32),
    )
    assert "ANYMAIL_WEBHOOK_SECRET must be" in config["error"]
