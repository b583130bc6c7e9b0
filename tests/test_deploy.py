"""Production settings pass Django's deploy check; the trial keeps plain HTTP; deploy files."""

import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KEEP = ("PATH", "HOME", "DATABASE_URL", "REDIS_URL", "CACHE_URL", "CELERY_FILESYSTEM_DIR")


def production_env(**overrides: str) -> dict[str, str]:
    import os

    env = {k: os.environ[k] for k in KEEP if k in os.environ}
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        SMS_WEBHOOK_SECRET=secrets.token_urlsafe(32),
        ALLOWED_HOSTS="app.example.com",
        CSRF_TRUSTED_ORIGINS="https://app.example.com",
        BEHIND_TLS_PROXY="true",
        SHORT_URL_BASE="https://no-s.example",
    )
    env.update(overrides)
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check_without_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_names_a_weak_secret_key():
    weak = production_env(SECRET_KEY="changeme")
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=weak)
    assert result.returncode != 0
    assert "security.W009" in result.stderr + result.stdout


def test_hsts_preload_is_checked_once_the_operator_opts_in():
    # Off by default, its reminder is silenced; asked for, the check has nothing to say.
    preload = production_env(SECURE_HSTS_PRELOAD="true")
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=preload)
    assert result.returncode == 0, result.stdout + result.stderr


def test_admin_lives_at_the_configured_path():
    env = production_env(ADMIN_URL="/backstage/")
    result = manage(
        "shell", "-c", "from django.urls import reverse; print(reverse('admin:index'))", env=env
    )
    assert result.stdout.split()[-1] == "/backstage/", result.stderr


def test_trial_serves_plain_http_without_redirect_or_hsts(client, db):
    response = client.get("/login/")
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers


@pytest.fixture
def production(settings):
    """The production answers of SecurityMiddleware, in this process."""
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.ALLOWED_HOSTS = ["app.example.com"]
    return settings


def test_production_redirects_plain_http_and_sends_hsts_over_https(client, db, production):
    plain = client.get("/login/", HTTP_HOST="app.example.com")
    assert plain.status_code == 301 and plain["Location"] == "https://app.example.com/login/"

    secure = client.get(
        "/login/", HTTP_HOST="app.example.com", headers={"X-Forwarded-Proto": "https"}
    )
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert secure["X-Frame-Options"] == "DENY"
    assert secure["X-Content-Type-Options"] == "nosniff"
    assert secure["Referrer-Policy"] == "same-origin"
    csrf = secure.cookies["csrftoken"]
    assert csrf["secure"] and csrf["httponly"]


def test_healthz_answers_a_load_balancer_on_any_host_over_plain_http(client, db, production):
    for host in ("10.0.0.5:8000", "app.example.com", "no-s.test"):
        response = client.get("/healthz", HTTP_HOST=host)
        assert response.status_code == 200, host
        assert response.json()["status"] == "ok"


def test_an_unknown_host_still_gets_400_elsewhere(client, db, production):
    assert client.get("/login/", HTTP_HOST="10.0.0.5:8000").status_code == 400


# --- deploy files ---------------------------------------------------------------------
def test_procfile_runs_web_worker_beat_and_migrates_on_release():
    lines = dict(
        line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    assert set(lines) == {"release", "web", "worker", "beat"}
    assert lines["release"] == "python manage.py migrate --noinput"
    assert lines["web"].startswith("gunicorn -c config/gunicorn.conf.py")
    assert lines["worker"].startswith("celery -A config worker")
    assert lines["beat"].startswith("celery -A config beat")


def test_gunicorn_reads_its_config_file():
    result = subprocess.run(
        [str(Path(sys.executable).with_name("gunicorn")), "-c", "config/gunicorn.conf.py",
         "--print-config"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**production_env(), "WEB_CONCURRENCY": "3", "GUNICORN_TIMEOUT": "20"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    config = dict(re.findall(r"^(\w+)\s+= (.*)$", result.stdout, re.MULTILINE))
    assert config["wsgi_app"] == "config.wsgi:application"
    assert (config["workers"], config["timeout"]) == ("3", "20")
    assert config["forwarded_allow_ips"] == "['127.0.0.1', '::1']"
    assert config["accesslog"] == "-"
    assert config["logger_class"] == "config.gunicorn_logging.Logger"


def compose_services() -> dict[str, str]:
    """Each top-level service of compose.yaml with its block (no YAML library here)."""
    text = (ROOT / "compose.yaml").read_text()
    block = text.split("\nservices:\n", 1)[1].split("\nvolumes:\n", 1)[0]
    parts = re.split(r"^  (\w[\w-]*):\n", block, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_compose_runs_the_whole_stack_with_one_beat():
    services = compose_services()
    assert set(services) == {"db", "redis", "migrate", "web", "worker", "beat"}
    assert "image: postgres:" in services["db"] and "image: redis:" in services["redis"]
    for name in ("migrate", "web", "worker", "beat"):
        assert "<<: *app" in services[name], name
    assert '"celery", "-A", "config", "beat"' in services["beat"]
    assert "replicas: 1" in services["beat"]
    assert "/healthz" in services["web"]
    assert (ROOT / "Dockerfile").exists()


def test_the_web_and_the_workers_share_uploads_and_documents_on_a_volume():
    """An import file the web took must be there for the worker that reads it, and consent
    documents must outlive the containers."""
    text = (ROOT / "compose.yaml").read_text()
    app_block = text.split("x-app: &app\n", 1)[1].split("\nservices:\n", 1)[0]
    assert "- appdata:/app/var" in app_block
    assert re.search(r"^volumes:\n(  \w+:\n)*  appdata:", text, flags=re.MULTILINE)
