"""One settings module, driven by the environment (see .env.example).

With nothing set, the product runs as a trial: SQLite, Celery on a filesystem broker
(``config.broker``) in ``var/``, console SMS backend. ``DATABASE_URL`` and ``REDIS_URL``
switch it to PostgreSQL and Redis.
"""

import hashlib
import hmac
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

from config.email import email_url_settings

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=True)

# A production deploy (DEBUG off) without these fails at boot instead of running with a
# key everyone knows.
_dev_only = {"default": "dev-only-not-secret"} if DEBUG else {}
SECRET_KEY = env.str("SECRET_KEY", **_dev_only)
SMS_WEBHOOK_SECRET = env.str("SMS_WEBHOOK_SECRET", **_dev_only)
# Whoever can sign a webhook can opt people in and out: a short secret is refused at boot.
WEBHOOK_SECRET_MIN_LENGTH = 32
if not DEBUG and len(SMS_WEBHOOK_SECRET) < WEBHOOK_SECRET_MIN_LENGTH:
    raise ImproperlyConfigured(
        f"SMS_WEBHOOK_SECRET must be at least {WEBHOOK_SECRET_MIN_LENGTH} characters, e.g. "
        "python -c 'import secrets; print(secrets.token_urlsafe(32))'."
    )
# How far a webhook's signed X-Timestamp may be from our clock; older ones are replays.
WEBHOOK_TOLERANCE_SECONDS = env.int("WEBHOOK_TOLERANCE_SECONDS", default=300)
# The platform's shared account at each real gateway, for its webhooks under
# /hooks/sms/<gateway>/ (optout.gateways). Empty: that gateway's shared URLs answer 404.
# CM signs nothing: its URLs carry this token (?token=…).
CM_WEBHOOK_TOKEN = env.str("CM_WEBHOOK_TOKEN", default="")
if not DEBUG and CM_WEBHOOK_TOKEN and len(CM_WEBHOOK_TOKEN) < WEBHOOK_SECRET_MIN_LENGTH:
    raise ImproperlyConfigured(
        f"CM_WEBHOOK_TOKEN must be at least {WEBHOOK_SECRET_MIN_LENGTH} characters."
    )
# Twilio signs X-Twilio-Signature with the account's auth token (also the API password).
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
# Vonage signs the sig parameter with the account's signature secret, by this method
# (md5hash, md5, sha1, sha256 or sha512: as set in Vonage's API settings).
VONAGE_SIGNATURE_SECRET = env.str("VONAGE_SIGNATURE_SECRET", default="")
VONAGE_SIGNATURE_METHOD = env.str("VONAGE_SIGNATURE_METHOD", default="sha256")
if VONAGE_SIGNATURE_METHOD not in ("md5hash", "md5", "sha1", "sha256", "sha512"):
    raise ImproperlyConfigured(
        "VONAGE_SIGNATURE_METHOD must be md5hash, md5, sha1, sha256 or sha512."
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Proxies in front of the app that append the client's address to X-Forwarded-For
# (config.proxy). Zero: the connection's own address is the client's. More than the
# proxies you run would let a client choose its own address, and so its rate limits.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1 if BEHIND_TLS_PROXY else 0)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "addressbook",
    "optout",
    "campaigns",
    "shorturl",
    "api",
    "insights",
    "privacy",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "pgtrigger",
    "anymail",
]

MIDDLEWARE = [
    # First, so that every line logged while serving a request carries its id.
    "config.logging.RequestIdMiddleware",
    # Notes htmx's requests, whose access lines the development server leaves out.
    "config.logfilters.NoteHtmxRequest",
    # Answers the load balancer before host checks and HTTPS redirects can refuse it.
    "config.health.HealthCheckMiddleware",
    "config.proxy.ForwardedForMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads the form or queries with the path: NUL is a 400, not a 500.
    "config.middleware.BadInputMiddleware",
    "shorturl.middleware.ShortHostMiddleware",
    "api.middleware.ApiMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "addressbook.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: turns a refused log-in into its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "addressbook.context_processors.current_company",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A new PostgreSQL connection per request costs ~10 ms; persistent ones serve ~5x
    # more requests per second on the same machine.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # PostgreSQL's JIT compiles any query it estimates as costly: at a million rows the
    # insights' aggregates spent more compiling (0.1–1.3 s) than running. A URL that sets
    # its own options keeps them.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
else:
    # Web server and worker write to one SQLite file: wait for the lock, don't fail.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
    # A file, not memory, so a worker process started by a test sees the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out account or address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "insights:home"
LOGOUT_REDIRECT_URL = "login"

# The dashboard speaks English; recipients' pages speak these (see optout.languages).
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("fr", "Français"),
    ("nl", "Nederlands"),
    ("de", "Deutsch"),
    ("es", "Español"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Uploaded documents that prove a person's consent (optout.proofs). Never served as static
# files (there is no MEDIA_URL route): only through the company's own dashboard view. In
# production a disk every web process shares, and that is backed up.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Development serves static files from the source folders; production from collectstatic.
WHITENOISE_AUTOREFRESH = DEBUG

# --- Security: cookies, HTTPS, headers, log-in ------------------------------------------
# Scripts, styles and images come from our own host only: no inline script, style or
# handler, no eval (htmx is told so in base.html), so injected markup cannot run. Nothing
# may frame a page (clickjacking), and forms post only back to the host that served them.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
# Pages carry the CSRF token themselves (forms, hx-headers); no script needs the cookie.
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=14 * 24 * 3600)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# A load balancer checks health over plain HTTP; a redirect would read as "down".
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
# Landing-page and unsubscribe URLs hold personal codes: never send them to other sites.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = [
    # Preloading HSTS is a promise to every browser about the whole domain that takes
    # months to undo: the operator opts in with SECURE_HSTS_PRELOAD, we don't nag.
    *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
]
# The admin's path: somewhere less guessed than /admin/ keeps scanners off its log-in.
ADMIN_URL = env.str("ADMIN_URL", default="admin/").strip("/") + "/"

# Failed log-ins (django-axes): an account is locked after LOGIN_FAILURES_PER_ACCOUNT
# wrong passwords, an address after LOGIN_FAILURES_PER_ADDRESS (higher: an office shares
# one), each for LOGIN_LOCKOUT_MINUTES after its latest failure. Dashboard and admin alike.
AXES_HANDLER = "addressbook.loginthrottle.LoginThrottleHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURES_PER_ACCOUNT", default=5)
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=20)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "addressbook.loginthrottle.lockout_response"
AXES_USERNAME_CALLABLE = "addressbook.loginthrottle.attempted_username"
# Quiet start-up; its log lines show usernames and addresses masked either way.
AXES_VERBOSE = False
# Two-factor codes (django-otp): each wrong code doubles the wait before the next try.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Opt-out book")
OTP_TOTP_THROTTLE_FACTOR = 1

# Rate limits of the public pages count here: shared by every process when on Redis.
CACHES = {"default": env.cache("CACHE_URL", default=env.str("REDIS_URL", "") or "locmemcache://")}

# --- Celery -------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = env.path("CELERY_FILESYSTEM_DIR", default=VAR_DIR / "celery")
    for _sub in ("queue", "claimed", "control"):
        (Path(_queue_dir) / _sub).mkdir(parents=True, exist_ok=True)
    # kombu's filesystem transport with whole writes, single claims and claims of killed
    # workers handed out again (config/broker.py says why the stock one is not enough).
    CELERY_BROKER_TRANSPORT = "config.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(Path(_queue_dir) / "queue"),
        "data_folder_out": str(Path(_queue_dir) / "queue"),
        "claimed_folder": str(Path(_queue_dir) / "claimed"),
        "control_folder": str(Path(_queue_dir) / "control"),
        # The default polls once a second; 50 ms keeps the trial responsive.
        "polling_interval": 0.05,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE

# --- Sending ------------------------------------------------------------------------
SMS_BACKEND = env.str("SMS_BACKEND", default="campaigns.backends.console.ConsoleBackend")
SMS_FILE_PATH = env.path("SMS_FILE_PATH", default=VAR_DIR / "sms")
# CM.com (SMS_BACKEND=campaigns.backends.cm.CmBackend). A request CM answers with a 5xx
# or 429, or that never reached it, is tried CM_MAX_ATTEMPTS times in all, waiting a
# random time up to CM_RETRY_BACKOFF * 2**n seconds (at most 8) between tries.
CM_BASE_URL = env.str("CM_BASE_URL", default="https://gw.messaging.cm.com")
CM_PRODUCT_TOKEN = env.str("CM_PRODUCT_TOKEN", default="")
CM_TIMEOUT = env.float("CM_TIMEOUT", default=10.0)
CM_MAX_ATTEMPTS = env.int("CM_MAX_ATTEMPTS", default=4)
CM_RETRY_BACKOFF = env.float("CM_RETRY_BACKOFF", default=0.5)
CM_BATCH_SIZE = env.int("CM_BATCH_SIZE", default=100)
# Twilio (SMS_BACKEND=campaigns.backends.twilio.TwilioBackend) and Vonage
# (campaigns.backends.vonage.VonageBackend): one request per message, retried as CM's.
TWILIO_BASE_URL = env.str("TWILIO_BASE_URL", default="https://api.twilio.com")
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_STATUS_CALLBACK_URL = env.str("TWILIO_STATUS_CALLBACK_URL", default="")
TWILIO_TIMEOUT = env.float("TWILIO_TIMEOUT", default=10.0)
TWILIO_MAX_ATTEMPTS = env.int("TWILIO_MAX_ATTEMPTS", default=4)
TWILIO_RETRY_BACKOFF = env.float("TWILIO_RETRY_BACKOFF", default=0.5)
VONAGE_BASE_URL = env.str("VONAGE_BASE_URL", default="https://rest.nexmo.com")
VONAGE_API_KEY = env.str("VONAGE_API_KEY", default="")
VONAGE_API_SECRET = env.str("VONAGE_API_SECRET", default="")
VONAGE_STATUS_CALLBACK_URL = env.str("VONAGE_STATUS_CALLBACK_URL", default="")
VONAGE_TIMEOUT = env.float("VONAGE_TIMEOUT", default=10.0)
VONAGE_MAX_ATTEMPTS = env.int("VONAGE_MAX_ATTEMPTS", default=4)
VONAGE_RETRY_BACKOFF = env.float("VONAGE_RETRY_BACKOFF", default=0.5)
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
# An SMTP server for production mail: smtp+tls://user:password@host:587 (STARTTLS) or
# smtps://user:password@host:465 (TLS from the start). Sets the backend, host, port, user,
# password and TLS at once.
if env.str("EMAIL_URL", default=""):
    vars().update(email_url_settings(env.str("EMAIL_URL")))
# Seconds an SMTP connection or answer may take before the batch is handed back for later.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# An email service through django-anymail instead of SMTP: EMAIL_BACKEND set to
# anymail.backends.amazon_ses.EmailBackend, .mailgun., .postmark. or .sendgrid. and that
# service's credentials below. The same services' webhooks report bounces and complaints
# (and inbound mail, for UNSUBSCRIBE_MAILTO) at /hooks/email/<service>/tracking/ and
# /hooks/email/<service>/inbound/, each behind HTTP basic auth with ANYMAIL_WEBHOOK_SECRET
# ("user:password") and, where the service signs its requests, that signature.
ANYMAIL = {
    key: value
    for key, value in {
        "WEBHOOK_SECRET": env.str("ANYMAIL_WEBHOOK_SECRET", default=""),
        "AMAZON_SES_CLIENT_PARAMS": {"region_name": env.str("AMAZON_SES_REGION", default="")}
        if env.str("AMAZON_SES_REGION", default="")
        else {},
        "AMAZON_SES_CONFIGURATION_SET_NAME": env.str("AMAZON_SES_CONFIGURATION_SET", default=""),
        "MAILGUN_API_KEY": env.str("MAILGUN_API_KEY", default=""),
        "MAILGUN_SENDER_DOMAIN": env.str("MAILGUN_SENDER_DOMAIN", default=""),
        "MAILGUN_API_URL": env.str("MAILGUN_API_URL", default=""),
        "MAILGUN_WEBHOOK_SIGNING_KEY": env.str("MAILGUN_WEBHOOK_SIGNING_KEY", default=""),
        "POSTMARK_SERVER_TOKEN": env.str("POSTMARK_SERVER_TOKEN", default=""),
        "SENDGRID_API_KEY": env.str("SENDGRID_API_KEY", default=""),
        "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": env.str(
            "SENDGRID_WEBHOOK_VERIFICATION_KEY", default=""
        ),
    }.items()
    # Unset ones are left out, so anymail's own defaults and its "missing setting" errors
    # apply rather than an empty string.
    if value
}
# Whoever knows it can post bounces and complaints, which suppress addresses: "user:password",
# and in production as long as the SMS webhook's secret.
_webhook_password = ANYMAIL.get("WEBHOOK_SECRET", "")
if _webhook_password and (
    ":" not in _webhook_password
    or (not DEBUG and len(_webhook_password) < WEBHOOK_SECRET_MIN_LENGTH)
):
    raise ImproperlyConfigured(
        f'ANYMAIL_WEBHOOK_SECRET must be "user:password", at least {WEBHOOK_SECRET_MIN_LENGTH} '
        "characters with DEBUG off, e.g. python -c 'import secrets; "
        'print("anymail:" + secrets.token_urlsafe(32))\'.'
    )
# Soft bounces (a full mailbox, a server down) of one address within 30 days after which
# it is suppressed as undeliverable, like a hard bounce.
EMAIL_SOFT_BOUNCE_LIMIT = env.int("EMAIL_SOFT_BOUNCE_LIMIT", default=3)
SEND_CHUNK_SIZE = env.int("SEND_CHUNK_SIZE", default=1000)
SEND_BATCH_SIZE = env.int("SEND_BATCH_SIZE", default=200)
# Chunks of one campaign queued or running at once: a big campaign never fills the queue,
# so other companies' campaigns get their turn between its chunks.
SEND_CHUNKS_IN_FLIGHT = env.int("SEND_CHUNKS_IN_FLIGHT", default=2)
# A worker owns its chunk this long without news (renewed before every batch); after
# that the periodic tick hands the chunk to another worker.
SEND_CHUNK_LEASE_SECONDS = env.int("SEND_CHUNK_LEASE_SECONDS", default=300)
# SMS per second per company across all workers (a company's own setting wins); 0: none.
SEND_RATE_PER_SECOND = env.int("SEND_RATE_PER_SECOND", default=0)
# Marketing emails per second per company, counted apart from SMS (a company's own
# setting wins); 0: none.
SEND_EMAIL_RATE_PER_SECOND = env.int("SEND_EMAIL_RATE_PER_SECOND", default=0)
# A batch the gateway could not take is tried this many times in all, the waits between
# growing from SEND_RETRY_BACKOFF_SECONDS, then its messages are marked failed.
SEND_MAX_ATTEMPTS = env.int("SEND_MAX_ATTEMPTS", default=8)
SEND_RETRY_BACKOFF_SECONDS = env.float("SEND_RETRY_BACKOFF_SECONDS", default=5.0)
# Judge sending hours at this moment (ISO 8601) instead of the clock's: for the test suite
# and the bench only. Empty: the clock.
SEND_HOURS_AT = env.str("SEND_HOURS_AT", default="")
# How often the tick starts scheduled campaigns and hands out chunks whose worker was lost.
SEND_TICK_SECONDS = env.float("SEND_TICK_SECONDS", default=10.0)
CELERY_BEAT_SCHEDULE = {
    "campaigns-tick": {"task": "campaigns.tasks.tick_task", "schedule": SEND_TICK_SECONDS}
}
# How optout sends its STOP/START/HELP confirmations: a transactional SMS. A dotted path,
# so optout needs no import of campaigns, which depends on it.
OPTOUT_CONFIRMATION_SENDER = "campaigns.services.send_transactional"
# And how a double opt-in's confirmation goes to an email address: a transactional email.
OPTOUT_CONFIRMATION_EMAIL_SENDER = "campaigns.services.send_transactional_email"
# The company's campaigns, which the suppression list names, links and filters by.
OPTOUT_CAMPAIGNS_OF = "campaigns.selectors.campaigns_of"
# The opt-out settings page's preview: each country's footer as campaigns append it, sized.
OPTOUT_FOOTER_SAMPLES = "campaigns.selectors.footer_samples"
# What a change of sending hours (a country rule saved or removed) does to the messages
# that wait for them: campaigns hand their held chunks out again, to be judged afresh.
OPTOUT_SEND_HOURS_CHANGED = "campaigns.services.release_held_chunks"
# How imports count opted-out rows, for the same reason: addressbook knows nothing of optout.
ADDRESSBOOK_SUPPRESSED_OF = "optout.selectors.suppressed_among"
# Uploaded import files.
IMPORT_DIR = env.path("IMPORT_DIR", default=VAR_DIR / "imports")
# Rows of an import file per task: the ranges of one file are imported side by side by as
# many workers as there are. A multiple of the batch size (2,000) keeps batches whole.
IMPORT_RANGE_ROWS = env.int("IMPORT_RANGE_ROWS", default=20_000)
# Uploads are streamed to disk past this size instead of held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Where recipients' opt-out links point. In the trial the landing pages are served under
# /s/ on the main host; in production a short host of its own (https://no-s.ms).
SHORT_URL_BASE = env.str("SHORT_URL_BASE", default="http://127.0.0.1:8000/s").rstrip("/")
_short = urlsplit(SHORT_URL_BASE)
SHORT_HOST = _short.hostname if _short.path in ("", "/") else ""
SHORT_LINK_TTL_DAYS = env.int("SHORT_LINK_TTL_DAYS", default=180)
# Public pages: POSTs per IP per 10 minutes (generous: mobile carriers put many phones
# behind one address), wrong numbers per link per hour.
LANDING_POSTS_PER_IP = env.int("LANDING_POSTS_PER_IP", default=200)
LANDING_WRONG_NUMBERS_PER_CODE = env.int("LANDING_WRONG_NUMBERS_PER_CODE", default=5)
# Optional mailto: address added to List-Unsubscribe of marketing email.
UNSUBSCRIBE_MAILTO = env.str("UNSUBSCRIBE_MAILTO", default="")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="marketing@localhost")
# Days an emailed invitation to join a company's team stays valid (each works once).
INVITATION_TTL_DAYS = env.int("INVITATION_TTL_DAYS", default=7)
# Password-reset emails to one address per hour; past it the form answers the same, silently.
PASSWORD_RESETS_PER_ADDRESS = env.int("PASSWORD_RESETS_PER_ADDRESS", default=3)
if SHORT_HOST and SHORT_HOST not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append(SHORT_HOST)

# One handler for everything (web, workers, beat, runserver's access log): JSON lines in
# production, text in the trial; numbers, email addresses and tokens masked (config/logging.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "quiet_tick": {"()": "config.logfilters.QuietTick"},
        "quiet_htmx": {"()": "config.logfilters.QuietHtmx"},
        "request_id": {"()": "config.logging.RequestIdFilter"},
        "mask": {"()": "config.logging.MaskPersonalData"},
    },
    "formatters": {
        "text": {"()": "config.logging.TextFormatter"},
        "json": {"()": "config.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id", "mask"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Celery's own loggers: what it received, ran and scheduled.
        **{
            name: {"filters": ["quiet_tick"]}
            for name in ("celery.worker.strategy", "celery.app.trace", "celery.beat")
        },
        # Django's default handlers would print these a second time, unmasked: through
        # ours only. django.server is runserver's access log, without htmx's polls.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {
            "handlers": ["console"],
            "filters": ["quiet_htmx"],
            "level": "INFO",
            "propagate": False,
        },
    },
}


# --- REST API (api/) -------------------------------------------------------------------
REST_FRAMEWORK = {
    # Fail closed: a view that names no authentication of its own needs an API key.
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.authentication.HasActiveKey"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON that refuses NUL and lone surrogates, as the middleware refuses them in forms.
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONBodyParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.base.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
# Requests per minute per API key unless the key says otherwise; 0: no limit.
API_REQUESTS_PER_MINUTE = env.int("API_REQUESTS_PER_MINUTE", default=600)
# How long the answer to a POST with an Idempotency-Key is kept for its retries.
API_IDEMPOTENCY_HOURS = env.int("API_IDEMPOTENCY_HOURS", default=24)
# --- Webhooks out (api/webhooks.py) -----------------------------------------------------
# Who hears of every consent event, inside the transaction that records it: dotted paths,
# so optout imports nothing of the apps above it. The API writes its webhook outbox here.
# optout's own double opt-in hears of them too: any later choice ends an open request.
OPTOUT_EVENT_SUBSCRIBERS = [
    "api.webhooks.queue_deliveries",
    "optout.doubleoptin.close_optin_requests",
]
# A delivery is tried this many times, waiting WEBHOOK_RETRY_BASE_SECONDS * 2**n (at most
# six hours, give or take a fifth) in between: with the defaults, for about a day and a half.
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=15)
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=30.0)
# After this many failed attempts in a row, the endpoint is disabled until an owner
# re-enables it; what waits for it is kept and sent then.
WEBHOOK_DISABLE_AFTER_FAILURES = env.int("WEBHOOK_DISABLE_AFTER_FAILURES", default=15)
# How often the tick sends what is due (retries, and deliveries whose task was lost).
WEBHOOK_TICK_SECONDS = env.float("WEBHOOK_TICK_SECONDS", default=30.0)
# Seconds to connect to an endpoint, and to wait for its answer.
WEBHOOK_CONNECT_TIMEOUT = env.float("WEBHOOK_CONNECT_TIMEOUT", default=3.0)
WEBHOOK_READ_TIMEOUT = env.float("WEBHOOK_READ_TIMEOUT", default=10.0)
# Hours a rotated secret keeps signing beside the new one.
WEBHOOK_OLD_SECRET_HOURS = env.int("WEBHOOK_OLD_SECRET_HOURS", default=24)
# Endpoints on this machine or its private networks (loopback, 10/8, 192.168/16, link-local,
# …), and plain http:// to localhost: for development, or a self-hosted install whose CRM is
# on its own network. Off in production, so an endpoint cannot reach the platform's insides.
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=DEBUG)
# Days the delivery log keeps what was delivered or failed for good.
WEBHOOK_LOG_DAYS = env.int("WEBHOOK_LOG_DAYS", default=30)
CELERY_BEAT_SCHEDULE["webhooks-tick"] = {
    "task": "api.tasks.webhooks_tick_task",
    "schedule": WEBHOOK_TICK_SECONDS,
}
# --- Privacy (privacy/): erasure, export, retention ------------------------------------
# The key of the HMAC that replaces an erased person's number or email in the rows that
# are kept (messages, replies, logs). Its own setting, so that rotating SECRET_KEY does not
# change what erased addresses hash to; unset, one derived from SECRET_KEY.
ERASURE_HASH_KEY = (
    env.str("ERASURE_HASH_KEY", default="")
    or hmac.new(SECRET_KEY.encode(), b"privacy.erasure-hash", hashlib.sha256).hexdigest()
)
# How often the retention task blanks message bodies and reply texts older than each
# company's retention_days (a run reads only what aged since the last one).
RETENTION_TICK_SECONDS = env.float("RETENTION_TICK_SECONDS", default=3600.0)
CELERY_BEAT_SCHEDULE["privacy-retention"] = {
    "task": "privacy.tasks.retention_task",
    "schedule": RETENTION_TICK_SECONDS,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Opt-out address book API",
    "DESCRIPTION": "Contacts, groups, suppressions, consent events, campaigns and "
    "transactional messages of one company: the company of the API key in "
    '`Authorization: Bearer <key>`. Errors are `{"error": {"code", "message", '
    '"fields"}}`; lists are pages with a `next` cursor; a POST that creates or sends '
    "takes an `Idempotency-Key` header so that a retry does nothing twice.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Fields named alike in several components (status, channel) would get hashed enum
    # names such as Status9c8Enum, which client generators turn into class names.
    "ENUM_NAME_OVERRIDES": {
        "CampaignStatusEnum": "campaigns.models.Campaign.Status",
        "MessageStatusEnum": "campaigns.models.Message.Status",
        "ChannelEnum": "campaigns.models.Channel",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_common_errors",
    ],
}
