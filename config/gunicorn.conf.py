"""gunicorn's settings: ``gunicorn -c config/gunicorn.conf.py`` serves the app.

Each value can be changed by the environment variable named beside it, set in the
environment or in the project's ``.env`` (read here too, as the settings read it).
"""

import os
from pathlib import Path

import environ

env = environ.Env()
environ.Env.read_env(Path(__file__).resolve().parent.parent / ".env")

wsgi_app = "config.wsgi:application"
bind = env.str("GUNICORN_BIND", default="") or f"0.0.0.0:{env.int('PORT', default=8000)}"

# Sync workers: each holds one request and one persistent database connection
# (DB_CONN_MAX_AGE), so PostgreSQL's max_connections must cover every worker of every
# machine, plus Celery's.
workers = env.int("WEB_CONCURRENCY", default=0) or 2 * (os.cpu_count() or 1) + 1
# A request still running after this many seconds has its worker restarted. The slow
# parts (imports, sending) run on Celery, so a page that takes this long is stuck.
timeout = env.int("GUNICORN_TIMEOUT", default=30)
graceful_timeout = timeout
# Behind a proxy that keeps connections open to us.
keepalive = env.int("GUNICORN_KEEPALIVE", default=5)
# Recycle workers now and then, staggered, so no slow leak grows without bound.
max_requests = env.int("GUNICORN_MAX_REQUESTS", default=2000)
max_requests_jitter = max_requests // 10
# Addresses of the proxies allowed to say the request came over HTTPS
# (X-Forwarded-Proto); the app trusts that header only with BEHIND_TLS_PROXY=true.
forwarded_allow_ips = env.str("FORWARDED_ALLOW_IPS", default="") or "127.0.0.1,::1"
# No control socket: nothing here uses gunicornc, and two servers on one machine would
# fight over its default path in the home folder.
control_socket_disable = True
# Heartbeat files in memory: containers often have a slow or read-only /tmp.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# --- Logs ------------------------------------------------------------------------------
# Both to standard output/error, for the process manager to collect. Access lines hold
# paths with personal tokens (unsubscribe links, undo and reset tokens): this logger
# class masks them, and writes JSON like the app's logs when LOG_FORMAT is json.
logger_class = "config.gunicorn_logging.Logger"
accesslog = "-"
errorlog = "-"
loglevel = env.str("LOG_LEVEL", default="info").lower()
