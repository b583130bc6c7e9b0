"""What the logs say: no phone number, email address, token or secret, and JSON lines."""

import copy
import io
import json
import logging
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from logging.config import dictConfig
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer
from django.db import connections
from gunicorn.config import Config

from campaigns.backends import OutboundSms
from campaigns.backends.cm import CmBackend
from campaigns.models import Campaign, Channel, Message
from campaigns.personalize import unsubscribe_link
from config.gunicorn_logging import Logger as GunicornLogger
from config.logging import mask
from optout.models import ConsentEvent, Suppression
from optout.services import note_marketing_sent
from tests.factories import CampaignFactory, ContactFactory

NUMBER = "+33612345678"
EMAIL = "sanne.dekker@example.nl"


def _configure(log_format: str) -> io.StringIO:
    """The product's own logging configuration, its console writing into a buffer."""
    config = copy.deepcopy(settings.LOGGING)
    config["handlers"]["console"]["formatter"] = log_format
    dictConfig(config)
    stream = io.StringIO()
    for handler in logging.getLogger().handlers:
        handler.setStream(stream)
    return stream


@pytest.fixture(params=["text", "json"])
def log(request):
    stream = _configure(request.param)
    yield stream
    dictConfig(settings.LOGGING)


@pytest.fixture
def json_log():
    stream = _configure("json")
    yield stream
    dictConfig(settings.LOGGING)


@pytest.fixture
def runserver(transactional_db):
    """The development server with its own request handler, which writes the access log."""
    server = WSGIServer(("127.0.0.1", 0), WSGIRequestHandler, ipv6=False)
    server.set_app(WSGIHandler())  # not config.wsgi: setting Django up again resets logging

    def serve():
        try:
            server.serve_forever(poll_interval=0.05)
        finally:
            connections.close_all()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _fetch(url: str, data: dict | None = None, headers: dict | None = None) -> tuple[int, str]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.headers.get("Location", "")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", "")


def _message(company, *, to: str, code: str, channel: str = Channel.SMS) -> Message:
    contact = (
        ContactFactory(company=company, phone="", email=to)
        if channel == Channel.EMAIL
        else ContactFactory(company=company, phone=to, country="ZA")
    )
    campaign = CampaignFactory(company=company, status=Campaign.Status.SENT, channel=channel)
    return Message.objects.create(
        company=company,
        campaign=campaign,
        contact=contact,
        to=to,
        country="ZA",
        channel=channel,
        short_code=code,
        status=Message.Status.SENT,
    )


def test_inbound_stop_is_logged_without_the_number(log, post_inbound_sms, company):
    note_marketing_sent(company=company, campaign_id=41, shortcode="36111", addresses=[NUMBER])

    assert post_inbound_sms(sender=NUMBER, recipient="36111", text="STOP").status_code == 200

    output = log.getvalue()
    assert "Inbound SMS" in output
    assert NUMBER not in output and "612345678" not in output


def test_landing_page_access_log_holds_neither_number_nor_undo_token(
    log, runserver, company, wait_for
):
    _message(company, to="+27711234567", code="Log2345a")

    status, done = _fetch(f"{runserver}/s/Log2345a", {"phone": "071 123 4567"})
    assert status == 302 and "t=" in done
    assert _fetch(runserver + done)[0] == 200
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(done).query)["t"][0]
    assert Suppression.objects.filter(company=company, address="+27711234567").exists()

    # The server writes its access line once the response is out.
    output = wait_for(lambda: "/s/Log2345a/done" in log.getvalue() and log.getvalue())
    assert '"GET /s/Log2345a/done?t=***' in output  # tokens masked
    assert token not in output
    assert "+27711234567" not in output and "711234567" not in output


def test_email_unsubscribe_is_logged_without_token_or_address(log, runserver, company, wait_for):
    _message(company, to=EMAIL, code="Mail2345", channel=Channel.EMAIL)
    path = urllib.parse.urlsplit(unsubscribe_link("Mail2345")).path
    token = path.rsplit("/", 1)[1]

    assert _fetch(f"{runserver}/s{path}")[0] == 200
    assert _fetch(f"{runserver}/s{path}", {"List-Unsubscribe": "One-Click"})[0] == 200
    assert ConsentEvent.objects.get().address == EMAIL

    output = wait_for(lambda: log.getvalue().count('"POST /s/u/') and log.getvalue())
    assert output.count("/s/u/***") == 2
    assert token not in output and "Mail2345" not in output
    assert EMAIL not in output and "sanne.dekker" not in output


def test_tokens_in_other_paths_stay_out_of_the_access_log(log, runserver, wait_for):
    paths = [
        "/password-reset/MTIz/ck2bq1-0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d/",
        "/invitations/Zq9vK2mX7tR4wP1sL8nB3cF6hJ0dG5aE/",
        "/hooks/sms/acme-K8wq2LxP0vRt/inbound/",
        "/contacts/?q=sanne.dekker%40example.nl",
        "/contacts/?q=%2B33612345678",
        "/login/?next=/contacts/%3Fq%3Dsanne.dekker%2540example.nl",
    ]
    for path in paths:
        _fetch(runserver + path)

    output = wait_for(lambda: log.getvalue().count('"GET ') == len(paths) and log.getvalue())
    for secret in ("ck2bq1-0a1b", "Zq9vK2mX7tR4", "K8wq2LxP0vRt", "sanne.dekker", "612345678"):
        assert secret not in output
    assert output.count('"GET ') == len(paths)


def test_htmx_requests_that_went_well_stay_out_of_the_access_log(log, runserver, wait_for):
    htmx = {"HX-Request": "true"}
    assert _fetch(f"{runserver}/login/?poll=1", headers=htmx)[0] == 200
    assert _fetch(f"{runserver}/healthz", headers=htmx)[0] == 200
    assert _fetch(f"{runserver}/no-such-page/?poll=2", headers=htmx)[0] == 404
    assert _fetch(f"{runserver}/login/?page=3")[0] == 200

    # The page's own line comes last: once it is there, every earlier one was written.
    output = wait_for(lambda: "/login/?page=3" in log.getvalue() and log.getvalue())
    assert "poll=1" not in output and "/healthz" not in output
    assert "GET /no-such-page/?poll=2 HTTP/1.1" in output  # a failure still shows
    assert output.count("GET /login/?page=3 HTTP/1.1") == 1


def test_each_request_and_error_is_logged_once(log, runserver, wait_for):
    assert _fetch(f"{runserver}/login/?once=1")[0] == 200
    assert _fetch(f"{runserver}/no-such-page/")[0] == 404

    output = wait_for(lambda: "/no-such-page/ HTTP" in log.getvalue() and log.getvalue())
    assert output.count("/login/?once=1") == 1
    assert output.count("Not Found: /no-such-page/") == 1
    assert output.count("GET /no-such-page/ HTTP/1.1") == 1


def test_the_schedulers_ticks_stay_out_of_the_log_unless_they_fail(log):
    beat, received = logging.getLogger("celery.beat"), logging.getLogger("celery.worker.strategy")
    for entry, task in (
        ("campaigns-tick", "campaigns.tasks.tick_task"),
        ("webhooks-tick", "api.tasks.webhooks_tick_task"),
    ):
        beat.info("Scheduler: Sending due task %s (%s)", entry, task)
        received.info("Task %s[1c2d] received", task)
    beat.info("Scheduler: Sending due task retention (privacy.tasks.retention_task)")
    logging.getLogger("celery.app.trace").error("Task api.tasks.webhooks_tick_task[9f] raised")

    output = log.getvalue()
    assert "campaigns-tick" not in output and "campaigns.tasks.tick_task" not in output
    assert "webhooks-tick" not in output and "received" not in output
    assert "privacy.tasks.retention_task" in output  # once an hour: kept
    assert "Task api.tasks.webhooks_tick_task[9f] raised" in output


def test_an_error_with_personal_data_in_its_traceback_is_masked(log):
    try:
        raise ValueError(f"duplicate key (company_id, address)=(1, {NUMBER}) and {EMAIL}")
    except ValueError:
        logging.getLogger("campaigns").exception("Could not write the message")

    output = log.getvalue()
    assert "ValueError: duplicate key" in output
    assert NUMBER not in output and EMAIL not in output


def test_the_gateway_token_and_secrets_are_never_logged(log, fake_gateway, settings):
    settings.CM_PRODUCT_TOKEN = fake_gateway.token
    fake_gateway.fail_next(3, status=500)
    backend = CmBackend(base_url=fake_gateway.url, max_attempts=3, sleep=lambda s: None)

    sms = OutboundSms(reference="r1", to=NUMBER, sender="Acme", body="20% off")
    (result,) = backend.send_messages([sms])
    assert not result.accepted
    logging.getLogger("campaigns").warning(
        "Headers were %s", {"X-CM-PRODUCTTOKEN": fake_gateway.token, "key": settings.SECRET_KEY}
    )

    output = log.getvalue()
    assert "CM gateway: HTTP 500" in output
    assert fake_gateway.token not in output and settings.SECRET_KEY not in output


def test_json_lines_parse_and_name_time_level_logger_and_request(json_log, client, company):
    logging.getLogger("optout").warning("Something about %s", EMAIL)
    response = client.get("/s/nosuchcode", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 404
    assert response.headers["X-Request-ID"] == "req-42"

    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    first = lines[0]
    assert set(first) >= {"time", "level", "logger", "message", "request_id"}
    assert (first["level"], first["logger"]) == ("WARNING", "optout")
    assert first["message"] == "Something about ***@example.nl"
    assert first["time"].startswith("20") and first["time"].endswith("+00:00")
    assert any(line["request_id"] == "req-42" for line in lines[1:])


def test_a_worker_writes_json_lines_like_the_web(tmp_path):
    """Celery would otherwise put its own handler, plain text and unmasked, on the root."""
    env = {**os.environ, "LOG_FORMAT": "json", "CELERY_FILESYSTEM_DIR": str(tmp_path)}
    env.pop("REDIS_URL", None)  # its own broker folder: it must not take the tests' tasks
    env.pop("CELERY_BROKER_URL", None)
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "solo"]
    lines = []
    with subprocess.Popen(
        [*command, "--without-mingle", "--without-gossip", "--without-heartbeat"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as worker:
        timer = threading.Timer(60, worker.kill)
        timer.start()
        try:
            for line in worker.stderr:
                lines.append(line)
                if "ready." in line:
                    break
        finally:
            timer.cancel()
            worker.terminate()

    ready = json.loads(lines[-1])
    assert (ready["level"], ready["logger"]) == ("INFO", "celery.apps.worker")
    assert ready["message"].endswith("ready.")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("to +31612345678.", "to +31***78."),
        ("CM 0031612345678", "CM 003***78"),
        ("anna+news@example.co.uk", "***@example.co.uk"),
        ("?next=/c/%3Fq%3D%252B31612345678", "?next=***"),
        ("search sanne%2540example.nl", "search ***@example.nl"),
        ("/done?lang=fr&t=MTIz:1tAbCd:q2w3e4r5t6y7u8i9o0p1a2s3d4f5g6h", "/done?lang=fr&t=***"),
        ("campaign 12 sent 1000 in 12:30:45", "campaign 12 sent 1000 in 12:30:45"),
    ],
)
def test_mask_hides_numbers_addresses_and_tokens_and_nothing_else(text, expected):
    assert mask(text) == expected


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_gunicorn_access_lines_hold_no_token(log_format, settings, capsys):
    settings.LOG_FORMAT = log_format
    cfg = Config()
    cfg.set("accesslog", "-")
    logger = GunicornLogger(cfg)
    token = "Mail2345:q2w3e4r5t6y7u8i9o0p1a2s3d4f5g6h7j8k9l0"
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/u/{token}?lang=fr",
        "PATH_INFO": f"/u/{token}",
        "QUERY_STRING": "lang=fr",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_REFERER": f"https://no-s.test/Log2345a/done?t={token}",
        "HTTP_USER_AGENT": "Mobile Safari",
    }
    response = SimpleNamespace(status="200 OK", sent=1529, headers=[])

    logger.access(response, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=12))

    line = capsys.readouterr().out.strip()
    if log_format == "json":
        line = json.loads(line)["message"]
    assert line.startswith("203.0.113.9 - - [") and '"GET /u/***?lang=fr HTTP/1.1" 200 1529' in line
    assert token not in line and "Mobile Safari" in line


def test_gateway_account_keys_are_masked_but_gateway_names_kept():
    key = "Zq9vK2mX7tR4wP1sL8nB3c"
    assert mask(f"POST /hooks/sms/twilio/{key}/inbound/") == "POST /hooks/sms/twilio/***/inbound/"
    assert mask(f"POST /hooks/sms/{key}/status/") == "POST /hooks/sms/***/status/"
    assert mask("POST /hooks/sms/vonage/inbound/") == "POST /hooks/sms/vonage/inbound/"
    assert "s3cr3t-token" not in mask("POST /hooks/sms/cm/status/?token=s3cr3t-token")
