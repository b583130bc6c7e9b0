import importlib
import os
import time
from collections.abc import Callable, Iterator

# Playwright's sync API keeps an event loop running in the main thread; without this
# Django refuses database calls from tests that use a browser.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest  # noqa: E402
from celery.contrib.testing.worker import start_worker  # noqa: E402
from celery.signals import task_postrun  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connections  # noqa: E402

import campaigns.tasks  # noqa: E402,F401  (registers the tasks with the worker)
from campaigns.backends import locmem  # noqa: E402
from config.celery import app as celery_app  # noqa: E402

from .factories import CompanyFactory, MembershipFactory  # noqa: E402
from .redis_server import RedisServer  # noqa: E402
from .webhooks import WEBHOOK_SECRET, signed_post  # noqa: E402

# The fake SMS gateways' fixtures, for tests that send through CM, Twilio or Vonage.
pytest_plugins = ["tests.fakegateway", "tests.fakeproviders"]

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/lib/chromium/chromium")
SHORT_HOST = "no-s.test"
# A Tuesday, no public holiday in any seeded country, when every seeded country's sending
# hours are open (from Paris's 18:00 to Vancouver's 09:00): sending in the tests is judged
# at this moment, so that they pass at any hour. A test of the hours themselves is marked
# `send_hours_by_clock` and travels in time instead.
ALL_OPEN = "2026-06-09T16:00:00+00:00"
SEED_MIGRATIONS = [
    "0002_seed_country_rules_and_keywords",
    "0004_seed_one_tap_countries_and_more_keywords",
    "0005_country_send_hours",
    "0013_country_rules_per_research",
    "0014_nl_and_gb_sending_hours",
]


@pytest.fixture(autouse=True)
def _test_settings(settings, request):
    # Every persona gets a password: the production hasher's deliberate slowness (about a
    # second a user here) would be most of the suite's time. Log-ins still check it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if not request.node.get_closest_marker("send_hours_by_clock"):
        settings.SEND_HOURS_AT = ALL_OPEN
    settings.SMS_BACKEND = "campaigns.backends.locmem.InMemoryBackend"
    settings.SMS_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.SHORT_URL_BASE = f"https://{SHORT_HOST}"
    settings.SHORT_HOST = SHORT_HOST
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, SHORT_HOST]
    locmem.outbox.clear()
    cache.clear()  # rate-limit counters (CACHE_URL: a Redis database of the tests' own in CI)
    yield
    locmem.outbox.clear()


@pytest.fixture
def outbox() -> list:
    return locmem.outbox


# --- personas ---------------------------------------------------------------------
@pytest.fixture
def company(db):
    return CompanyFactory(name="Acme Coffee", default_country="NL")


@pytest.fixture
def other_company(db):
    return CompanyFactory(name="Globex Travel", default_country="FR")


@pytest.fixture
def marketer(company):
    return MembershipFactory(company=company).user


@pytest.fixture
def colleague(company):
    return MembershipFactory(company=company).user


@pytest.fixture
def owner(company):
    """Runs the company: its members, settings and keys."""
    return MembershipFactory(company=company, role="owner").user


@pytest.fixture
def viewer(company):
    """Reads everything of the company, changes nothing."""
    return MembershipFactory(company=company, role="viewer").user


@pytest.fixture
def outsider(other_company):
    """A marketer of another company."""
    return MembershipFactory(company=other_company).user


@pytest.fixture
def marketer_client(client, marketer):
    client.force_login(marketer)
    return client


@pytest.fixture
def outsider_client(client, outsider):
    client.force_login(outsider)
    return client


@pytest.fixture
def seeded_defaults(db):
    """The country rules and keywords the data migration seeds.

    Tests with real transactions flush the database after them, seeded rows included;
    this puts them back from the migration itself, so there is one source of truth. In a
    test's own transaction or a real one, whichever the test asked for.
    """
    from django.apps import apps

    for name in SEED_MIGRATIONS:
        importlib.import_module(f"optout.migrations.{name}").seed(apps, None)


# --- a real Celery worker on the configured broker --------------------------------
def _close_worker_connections(**kwargs) -> None:
    # The worker runs in a thread of this process: give its database connections back
    # so the test database can be flushed and dropped.
    connections.close_all()


@pytest.fixture
def celery_worker(transactional_db):
    """A real worker consuming from the real broker (Redis in CI), in a thread."""
    celery_app.control.purge()
    task_postrun.connect(_close_worker_connections, weak=False)
    try:
        with start_worker(
            celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30
        ) as worker:
            yield worker
    finally:
        task_postrun.disconnect(_close_worker_connections)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> Iterator[str]:
    """A real Redis: the configured one (CI), else a server started for this session."""
    if url := os.environ.get("REDIS_URL"):
        yield url
        return
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def wait_for() -> Callable:
    def wait(predicate: Callable[[], object], timeout: float = 30, what: str = "condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            time.sleep(0.05)
        raise AssertionError(f"Timed out after {timeout}s waiting for {what}")

    return wait


# --- browser ----------------------------------------------------------------------
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium; Playwright's own browser download is never used."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM}


@pytest.fixture
def post_inbound_sms(client) -> Callable:
    """POST a reply to the inbound-SMS webhook, signed as the gateway signs it."""
    import json

    def post(
        sender: str,
        recipient: str,
        text: str,
        secret: str = WEBHOOK_SECRET,
        path: str = "/hooks/sms/inbound/",
        timestamp: int | None = None,
        **extra,
    ):
        body = json.dumps({"from": sender, "to": recipient, "text": text, **extra}).encode()
        return signed_post(client, path, body, secret=secret, timestamp=timestamp)

    return post
